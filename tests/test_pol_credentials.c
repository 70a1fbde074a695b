/* Unit tests: the policy's "credentials" section (defaults, valid and invalid values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/profile.h"

static int load(const char *section, struct policy **ret, struct sr_error *e) {
        char doc[4096];
        snprintf(doc, sizeof doc, "{\"version\":1,\"mounts\":[]%s%s}", section ? ",\"credentials\":" : "",
                 section ? section : "");
        return policy_parse("p.json", doc, strlen(doc), ret, e);
}

static void test_defaults(void **state) {
        struct policy *p;
        struct sr_error e = { 0 };
        (void)state;
        assert_int_equal(load(NULL, &p, &e), 0);
        assert_string_equal(pol_credentials_dir(&p->credentials), "/run/credentials");
        assert_int_equal(pol_credentials_max_bytes(&p->credentials), PROFILE_MAX_BYTES);
        assert_false(p->credentials.allow_env);
        assert_int_equal(p->credentials.n_trusted_issuers, 0);
        assert_int_equal(p->credentials.n_scope_ceiling, 0);
        assert_null(p->credentials.revocation_list);
        policy_free(p);
}

static void test_full(void **state) {
        struct policy *p;
        struct sr_error e = { 0 };
        (void)state;
        assert_int_equal(load("{\"trusted_issuers\":[\"/etc/sealrun/a.pub\",\"/etc/sealrun/b.pub\"],"
                              "\"revoked\":\"/etc/sealrun/revoked\",\"scope_ceiling\":[\"read:model:*\"],"
                              "\"max_profile_bytes\":65536,\"allow_env\":true,\"dir\":\"/run/creds\"}",
                              &p, &e),
                         0);
        assert_int_equal(p->credentials.n_trusted_issuers, 2);
        assert_string_equal(p->credentials.trusted_issuers[1], "/etc/sealrun/b.pub");
        assert_string_equal(p->credentials.revocation_list, "/etc/sealrun/revoked");
        assert_int_equal(p->credentials.n_scope_ceiling, 1);
        assert_string_equal(p->credentials.scope_ceiling[0], "read:model:*");
        assert_int_equal(pol_credentials_max_bytes(&p->credentials), 65536);
        assert_true(p->credentials.allow_env);
        assert_string_equal(pol_credentials_dir(&p->credentials), "/run/creds");
        policy_free(p);
}

static void test_invalid(void **state) {
        static const struct {
                const char *section, *want;
        } cases[] = {
                { "{\"bogus\":1}", "$.credentials.bogus: unknown key" },
                { "{\"trusted_issuers\":\"/a.pub\"}", "$.credentials.trusted_issuers: expected an array" },
                { "{\"trusted_issuers\":[\"a.pub\"]}", "$.credentials.trusted_issuers[0]" },
                { "{\"trusted_issuers\":[\"/a/../b.pub\"]}", "$.credentials.trusted_issuers[0]" },
                { "{\"scope_ceiling\":[\"read:*:x\"]}", "$.credentials.scope_ceiling[0]" },
                { "{\"scope_ceiling\":[1]}", "$.credentials.scope_ceiling[0]" },
                { "{\"revoked\":\"rel\"}", "$.credentials.revoked" },
                { "{\"revocation_list\":\"/etc/sealrun/revoked\"}",
                  "$.credentials.revocation_list: renamed: use \"revoked\"" },
                { "{\"max_profile_bytes\":2000000}", "$.credentials.max_profile_bytes" },
                { "{\"max_profile_bytes\":10}", "$.credentials.max_profile_bytes" },
                { "{\"allow_env\":\"yes\"}", "$.credentials.allow_env" },
                { "{\"dir\":\"/\"}", "$.credentials.dir" },
                { "{\"dir\":\"/proc/x\"}", "$.credentials.dir" },
                { "{\"dir\":\"/dev\"}", "$.credentials.dir" },
                { "{\"dir\":\"run/x\"}", "$.credentials.dir" },
                { "[]", "$.credentials" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct policy *p = NULL;
                struct sr_error e = { 0 };
                if (load(cases[i].section, &p, &e) == 0)
                        fail_msg("accepted: %s", cases[i].section);
                assert_int_equal(e.exit_code, 125);
                if (!strstr(e.msg, cases[i].want))
                        fail_msg("\"%s\" lacks \"%s\"", e.msg, cases[i].want);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_invalid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
