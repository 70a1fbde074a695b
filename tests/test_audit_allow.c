/* Unit tests: sealrun-auditd's allow map (uid → tenants). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "policy/audit_allow.h"

static void test_check(void **state) {
        const char *j = "{\"version\":1,\"allow\":[{\"uid\":1000,\"tenants\":[\"acme\",\"globex\"]},"
                        "{\"uid\":1001,\"tenants\":[\"*\"]},{\"uid\":1002,\"tenants\":[\"_global\"]},{\"uid\":1003,"
                        "\"tenants\":[]}]}";
        struct audit_allow *a = NULL;
        struct sr_error e = { 0 };
        assert_int_equal(audit_allow_parse("allow.json", j, strlen(j), &a, &e), 0);
        assert_true(audit_allow_check(a, 1000, "acme"));
        assert_true(audit_allow_check(a, 1000, "globex"));
        assert_false(audit_allow_check(a, 1000, "initech"));
        assert_false(audit_allow_check(a, 1000, NULL));
        assert_true(audit_allow_check(a, 1001, "initech"));
        assert_true(audit_allow_check(a, 1001, NULL));
        assert_true(audit_allow_check(a, 1002, NULL));
        assert_false(audit_allow_check(a, 1002, "acme"));
        assert_false(audit_allow_check(a, 1003, "acme"));
        assert_false(audit_allow_check(a, 4242, "acme"));
        assert_true(audit_allow_check(a, 0, "anything"));
        audit_allow_free(a);
        /* no map: only root */
        assert_true(audit_allow_check(NULL, 0, "acme"));
        assert_false(audit_allow_check(NULL, 1000, "acme"));
}

static void test_bad_maps(void **state) {
        static const struct {
                const char *json, *where;
        } bad[] = {
                { "[]", "$" },
                { "{\"allow\":[]}", "$.version" },
                { "{\"version\":2,\"allow\":[]}", "$.version" },
                { "{\"version\":1}", "$.allow" },
                { "{\"version\":1,\"allow\":[],\"deny\":[]}", "$.deny" },
                { "{\"version\":1,\"allow\":[{\"uid\":-1,\"tenants\":[]}]}", "$.allow[0].uid" },
                { "{\"version\":1,\"allow\":[{\"uid\":\"root\",\"tenants\":[]}]}", "$.allow[0].uid" },
                { "{\"version\":1,\"allow\":[{\"uid\":1,\"tenants\":[\"ACME\"]}]}", "$.allow[0][0]" },
                { "{\"version\":1,\"allow\":[{\"uid\":1,\"tenants\":[\"../x\"]}]}", "$.allow[0][0]" },
                { "{\"version\":1,\"allow\":[{\"uid\":1,\"tenants\":[7]}]}", "$.allow[0][0]" },
                { "{\"version\":1,\"allow\":[{\"uid\":1}]}", "$.allow[0].tenants" },
                { "{\"version\":1,\"allow\":[{\"uid\":1,\"tenants\":[],\"x\":1}]}", "$.allow[0].x" },
                { "{\"version\":1,\"allow\":[{\"uid\":1,\"tenants\":[]},{\"uid\":1,\"tenants\":[]}]}", "listed twice" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct audit_allow *a = NULL;
                struct sr_error e = { 0 };
                if (audit_allow_parse("allow.json", bad[i].json, strlen(bad[i].json), &a, &e) >= 0 ||
                    !strstr(e.msg, bad[i].where))
                        fail_msg("case %zu: %s", i, e.msg);
                assert_null(a);
        }
}

static void test_load_refuses_writable(void **state) {
        char path[] = "/tmp/test_audit_allow.XXXXXX";
        int fd = mkstemp(path);
        const char *j = "{\"version\":1,\"allow\":[]}";
        struct audit_allow *a = NULL;
        struct sr_error e = { 0 };
        assert_true(fd >= 0);
        assert_int_equal(write(fd, j, strlen(j)), (ssize_t)strlen(j));
        close(fd);
        chmod(path, 0600);
        assert_int_equal(audit_allow_load(path, &a, &e), 0);
        audit_allow_free(a);
        chmod(path, 0620);
        assert_int_equal(audit_allow_load(path, &a, &e), -EPERM);
        assert_non_null(strstr(e.msg, "writable by group or others"));
        chmod(path, 0602);
        assert_int_equal(audit_allow_load(path, &a, &e), -EPERM);
        unlink(path);
        assert_true(audit_allow_load(path, &a, &e) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_check), cmocka_unit_test(test_bad_maps),
                                            cmocka_unit_test(test_load_refuses_writable) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
