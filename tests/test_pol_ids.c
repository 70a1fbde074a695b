/* Unit tests for policy/pol_ids.c ("tenant_ids") and the bind entries' "idmap" key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

static struct policy *parse(const char *json, struct sr_error *e) {
        char buf[2048];
        struct policy *p = NULL;
        size_t n = 0;
        for (const char *c = json; *c && n < sizeof buf - 1; c++)
                buf[n++] = *c == '\'' ? '"' : *c;
        buf[n] = 0;
        memset(e, 0, sizeof *e);
        if (policy_parse("t.json", buf, n, &p, e) < 0)
                return NULL;
        return p;
}

#define DOC(extra) "{'version':1,'mounts':[{'type':'bind','src':'/srv','dst':'/srv'" extra "}"
static void bad(const char *json, const char *path, const char *what) {
        struct sr_error e;
        char want[256];
        struct policy *p = parse(json, &e);
        if (p)
                fail_msg("expected an error at %s: %s", path, json);
        snprintf(want, sizeof want, "t.json: %s: ", path);
        if (strncmp(e.msg, want, strlen(want)) != 0 || !strstr(e.msg, what) || strchr(e.msg, '\n'))
                fail_msg("message \"%s\" should start with \"%s\" and say \"%s\"", e.msg, want, what);
        assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
}

static void test_range_default(void **state) {
        struct sr_error e;
        uint32_t first, last;
        struct policy *p = parse(DOC("") "]}", &e);
        assert_non_null(p);
        pol_ids_range(&p->tenant_ids, &first, &last);
        assert_int_equal(first, POL_IDS_DEFAULT_FIRST);
        assert_int_equal(last, POL_IDS_DEFAULT_LAST);
        assert_int_equal(p->mounts[0].idmap, IDMAP_NONE);
        policy_free(p);
}

static void test_range_valid(void **state) {
        struct sr_error e;
        uint32_t first, last;
        struct policy *p = parse("{'version':1,'mounts':[],'tenant_ids':{'range':[65536,131071]}}", &e);
        assert_non_null(p);
        pol_ids_range(&p->tenant_ids, &first, &last);
        assert_int_equal(first, 65536);
        assert_int_equal(last, 131071);
        policy_free(p);
        p = parse("{'version':1,'mounts':[],'tenant_ids':{'range':[4294901760,4294967294]}}", &e);
        assert_null(p); /* one id short of a whole block */
        p = parse("{'version':1,'mounts':[],'host_uid':70000,'tenant_ids':{'range':[131072,4294967294]}}", &e);
        assert_non_null(p);
        policy_free(p);
}

static void test_range_bad(void **state) {
        bad("{'version':1,'mounts':[],'tenant_ids':{}}", "$.tenant_ids.range", "missing");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[65536,131071],'x':1}}", "$.tenant_ids.x", "unknown");
        bad("{'version':1,'mounts':[],'tenant_ids':[]}", "$.tenant_ids", "object");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[65536]}}", "$.tenant_ids.range", "[FIRST, LAST]");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':['65536',131071]}}", "$.tenant_ids.range", "integers");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[-65536,131071]}}", "$.tenant_ids.range", "integers");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[65536,4294967295]}}", "$.tenant_ids.range", "integers");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[0,131071]}}", "$.tenant_ids.range", "at least 65536");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[65537,231071]}}", "$.tenant_ids.range",
            "multiple of 65536");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[65536,131070]}}", "$.tenant_ids.range", "one block");
        bad("{'version':1,'mounts':[],'tenant_ids':{'range':[131072,65536]}}", "$.tenant_ids.range", "one block");
        /* an untenanted host_uid inside the range could be a tenant's */
        bad("{'version':1,'mounts':[],'host_uid':1879048193}", "$.host_uid", "inside the tenant id range");
        bad("{'version':1,'mounts':[],'host_gid':70000,'tenant_ids':{'range':[65536,131071]}}", "$.host_gid",
            "inside the tenant id range");
}

static void test_idmap_key(void **state) {
        struct sr_error e;
        struct policy *p = parse(DOC(",'idmap':'required'") "]}", &e);
        assert_non_null(p);
        assert_int_equal(p->mounts[0].idmap, IDMAP_REQUIRED);
        policy_free(p);
        p = parse("{'version':1,'mounts':[{'type':'ro-bind','src':'/srv','dst':'/srv','idmap':'optional'}]}", &e);
        assert_non_null(p);
        assert_int_equal(p->mounts[0].idmap, IDMAP_OPTIONAL);
        policy_free(p);
        bad(DOC(",'idmap':true") "]}", "$.mounts[0].idmap", "expected a string");
        bad(DOC(",'idmap':'yes'") "]}", "$.mounts[0].idmap", "\"required\" or \"optional\"");
        bad("{'version':1,'mounts':[{'type':'tmpfs','dst':'/t','idmap':'required'}]}", "$.mounts[0].idmap",
            "only bind entries");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_range_default),
                cmocka_unit_test(test_range_valid),
                cmocka_unit_test(test_range_bad),
                cmocka_unit_test(test_idmap_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
