/* Unit tests: the policy's "audit" section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include "policy/pol_audit.h"

static int parse(const char *json, struct policy_audit *a, struct sr_error *e) {
        struct jx x = { .file = "p.json", .e = e, .exit_code = 125 };
        json_t *v = json_loads(json, 0, NULL);
        int r;
        memset(a, 0, sizeof *a);
        assert_non_null(v);
        r = pol_audit_parse(&x, v, "$.audit", a);
        json_decref(v);
        return r;
}

static void test_good(void **state) {
        struct policy_audit a;
        struct sr_error e = { 0 };
        assert_int_equal(parse("{}", &a, &e), 0);
        assert_int_equal(a.mode, POL_AUDIT_UNSET);
        assert_null(a.socket);
        assert_int_equal(a.ack_timeout_ms, POL_AUDIT_DEFAULT_TIMEOUT_MS);
        assert_int_equal(parse("{\"socket\":\"/run/sealrun/"
                               "audit.sock\",\"mode\":\"best-effort\",\"ack_timeout_ms\":250,\"pool\":\"acme\"}",
                               &a, &e),
                         0);
        assert_string_equal(a.socket, "/run/sealrun/audit.sock");
        assert_int_equal(a.mode, POL_AUDIT_BEST_EFFORT);
        assert_int_equal(a.ack_timeout_ms, 250);
        assert_string_equal(a.pool, "acme");
        pol_audit_free(&a);
        assert_int_equal(parse("{\"mode\":\"off\"}", &a, &e), 0);
        assert_int_equal(a.mode, POL_AUDIT_OFF);
        assert_int_equal(parse("{\"mode\":\"required\"}", &a, &e), 0);
        assert_int_equal(a.mode, POL_AUDIT_REQUIRED);
        assert_true(POL_AUDIT_OFF < POL_AUDIT_BEST_EFFORT && POL_AUDIT_BEST_EFFORT < POL_AUDIT_REQUIRED);
}

static void test_bad(void **state) {
        static const struct {
                const char *json, *where;
        } bad[] = {
                { "[]", "$.audit" },
                { "{\"sock\":\"/x\"}", "$.audit.sock" },
                { "{\"socket\":\"relative.sock\"}", "$.audit.socket" },
                { "{\"socket\":\"/"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaaaaaaa\"}",
                  "$.audit.socket" },
                { "{\"socket\":7}", "$.audit.socket" },
                { "{\"mode\":\"sometimes\"}", "$.audit.mode" },
                { "{\"mode\":true}", "$.audit.mode" },
                { "{\"ack_timeout_ms\":0}", "$.audit.ack_timeout_ms" },
                { "{\"ack_timeout_ms\":600001}", "$.audit.ack_timeout_ms" },
                { "{\"pool\":\"Not A Slug\"}", "$.audit.pool" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct policy_audit a;
                struct sr_error e = { 0 };
                if (parse(bad[i].json, &a, &e) >= 0 || !strstr(e.msg, bad[i].where) || e.exit_code != 125)
                        fail_msg("case %zu: %s", i, e.msg);
                pol_audit_free(&a);
        }
}

static void test_names(void **state) {
        assert_int_equal(pol_audit_mode_from_name("required"), POL_AUDIT_REQUIRED);
        assert_int_equal(pol_audit_mode_from_name("nope"), POL_AUDIT_UNSET);
        assert_string_equal(pol_audit_mode_name(POL_AUDIT_BEST_EFFORT), "best-effort");
}

int main(void) {
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_good), cmocka_unit_test(test_bad),
                                            cmocka_unit_test(test_names) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
