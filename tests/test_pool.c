/* Unit tests for sealrun-pool's request and config parsers (helpers/pool/request.c, config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

/* The pool is a helper binary, not a library: compile its parsers in here. */
#include "helpers/pool/config.c"
#include "helpers/pool/request.c"

static int req(const char *json, struct pool_request *rq, struct sr_error *e) {
        memset(e, 0, sizeof *e);
        return pool_request_parse("r.json", json, strlen(json), "acme", rq, e);
}

static void test_request_ok(void **state) {
        struct pool_request rq;
        struct sr_error e;
        assert_int_equal(req("{\"task\":\"T42\",\"tenant\":\"acme\",\"profile\":\"default.sealed\","
                             "\"scopes\":[\"read:model:*\"],\"command\":[\"agent\",\"run\",\"--x\"]}\n",
                             &rq, &e),
                         0);
        assert_string_equal(rq.task, "T42");
        assert_string_equal(rq.tenant, "acme");
        assert_string_equal(rq.profile, "default.sealed");
        assert_int_equal(rq.n_scopes, 1);
        assert_string_equal(rq.scopes[0], "read:model:*");
        assert_int_equal(rq.argc, 3);
        assert_string_equal(rq.argv[2], "--x");
        assert_null(rq.argv[3]);
        pool_request_free(&rq);

        /* profile and scopes are optional; profile may be null */
        assert_int_equal(req("{\"task\":\"a\",\"tenant\":\"acme\",\"profile\":null,\"command\":[\"true\"]}", &rq, &e),
                         0);
        assert_null(rq.profile);
        assert_int_equal(rq.n_scopes, 0);
        pool_request_free(&rq);
}

/* Another tenant's request is refused as cross-tenant (77) whatever else is
 * wrong with it, and the refusal still names the task. */
static void test_request_cross_tenant_first(void **state) {
        static const char *const cases[] = {
                "{\"task\":\"T1\",\"tenant\":\"globex\",\"command\":[\"true\"]}",
                "{\"task\":\"T1\",\"tenant\":\"globex\",\"bogus\":1}",
                "{\"task\":\"T1\",\"tenant\":\"globex\",\"command\":[]}",
                "{\"task\":\"T1\",\"tenant\":\"ACME\",\"command\":[\"true\"]}",
                "{\"task\":\"T1\",\"tenant\":\"acme \",\"command\":[\"true\"]}",
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct pool_request rq;
                struct sr_error e;
                assert_true(req(cases[i], &rq, &e) < 0);
                assert_int_equal(e.exit_code, SR_EXIT_REFUSED);
                assert_string_equal(e.reason, "cross-tenant");
                assert_non_null(strstr(e.msg, "$.tenant"));
                assert_string_equal(rq.task, "T1");
                pool_request_free(&rq);
        }
}

static void test_request_bad(void **state) {
        static const struct {
                const char *json, *path;
        } cases[] = {
                { "", "line 1" },
                { "[]", "$" },
                { "{\"task\":\"T1\",\"command\":[\"true\"]}", "$.tenant" },
                { "{\"task\":\"T1\",\"tenant\":7,\"command\":[\"true\"]}", "$.tenant" },
                { "{\"tenant\":\"acme\",\"command\":[\"true\"]}", "$.task" },
                { "{\"task\":\"../x\",\"tenant\":\"acme\",\"command\":[\"true\"]}", "$.task" },
                { "{\"task\":\"..\",\"tenant\":\"acme\",\"command\":[\"true\"]}", "$.task" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"command\":[\"true\"],\"env\":{}}", "$.env" },
                { "{\"task\":\"a\",\"tenant\":\"acme\"}", "$.command" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"command\":[]}", "$.command" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"command\":\"true\"}", "$.command" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"command\":[\"\"]}", "$.command[0]" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"command\":[\"a\\u0000b\"]}", "line 1" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"command\":[\"true\",1]}", "$.command[1]" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"profile\":\"../b/p\",\"command\":[\"true\"]}", "$.profile" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"profile\":\"/etc/p\",\"command\":[\"true\"]}", "$.profile" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"profile\":\".hidden\",\"command\":[\"true\"]}", "$.profile" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"scopes\":[\"x\"],\"command\":[\"true\"]}", "$.scopes" },
                { "{\"task\":\"a\",\"tenant\":\"acme\",\"profile\":\"p\",\"scopes\":[\"a b\"],\"command\":[\"true\"]}",
                  "$.scopes[0]" },
                { "{\"task\":\"a\",\"task\":\"b\",\"tenant\":\"acme\",\"command\":[\"true\"]}", "line 1" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct pool_request rq;
                struct sr_error e;
                if (req(cases[i].json, &rq, &e) >= 0)
                        fail_msg("case %zu accepted: %s", i, cases[i].json);
                assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
                assert_string_equal(e.reason, "bad-request");
                if (!strstr(e.msg, cases[i].path))
                        fail_msg("case %zu: message \"%s\" does not name %s", i, e.msg, cases[i].path);
                assert_non_null(strstr(e.msg, "r.json: "));
                pool_request_free(&rq);
        }
}

static void test_request_limits(void **state) {
        struct pool_request rq;
        struct sr_error e;
        size_t n = POOL_REQUEST_MAX + 10;
        char *big = malloc(n + 1);
        assert_non_null(big);
        memset(big, ' ', n);
        big[n] = 0;
        big[0] = '{';
        big[n - 1] = '}';
        assert_true(req(big, &rq, &e) < 0);
        assert_string_equal(e.reason, "bad-request");
        pool_request_free(&rq);
        free(big);

        /* argv longer than POOL_ARGV_MAX */
        char *j = malloc(16 * (POOL_ARGV_MAX + 2) + 128), *w = j;
        w += sprintf(w, "{\"task\":\"a\",\"tenant\":\"acme\",\"command\":[\"x\"");
        for (int i = 0; i < POOL_ARGV_MAX; i++)
                w += sprintf(w, ",\"y\"");
        sprintf(w, "]}");
        assert_true(req(j, &rq, &e) < 0);
        assert_non_null(strstr(e.msg, "$.command"));
        pool_request_free(&rq);
        free(j);

        /* deep nesting is refused before jansson recurses */
        char deep[200];
        memset(deep, '[', sizeof deep - 1);
        deep[sizeof deep - 1] = 0;
        assert_true(req(deep, &rq, &e) < 0);
        pool_request_free(&rq);
}

static void test_names(void **state) {
        assert_true(pool_spool_name_valid("T42.json"));
        assert_true(pool_spool_name_valid("2025-01-01T00:00:00.a.json"));
        assert_false(pool_spool_name_valid(".T42.json"));
        assert_false(pool_spool_name_valid("T42.json.tmp"));
        assert_false(pool_spool_name_valid(".json"));
        assert_false(pool_spool_name_valid("a b.json"));
        assert_false(pool_spool_name_valid("...json"));
        assert_true(pool_profile_name_valid("default.sealed"));
        assert_false(pool_profile_name_valid("a/b"));
        assert_false(pool_profile_name_valid(".."));
        assert_false(pool_profile_name_valid(""));
}

static int cfg(const char *json, struct pool_config *c, struct sr_error *e) {
        memset(e, 0, sizeof *e);
        return pool_config_parse("pool.json", json, strlen(json), c, e);
}

static void test_config(void **state) {
        struct pool_config c;
        struct sr_error e;
        assert_int_equal(
                cfg("{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p.json\",\"trust\":[\"/i.pub\",\"/j.pub\"],"
                    "\"profiles_dir\":\"/prof\",\"max_tasks\":4,\"audit\":\"best-effort\",\"timeout_s\":60,"
                    "\"prebuilt\":3}",
                    &c, &e),
                0);
        assert_string_equal(c.tenant, "acme");
        assert_int_equal(c.n_trust, 2);
        assert_string_equal(c.trust[1], "/j.pub");
        assert_int_equal(c.max_tasks, 4);
        assert_int_equal(c.audit, POOL_AUDIT_BEST_EFFORT);
        assert_int_equal(c.stop_grace_ms, 10000);
        assert_int_equal(c.prebuilt, 3);
        pool_config_free(&c);

        assert_int_equal(cfg("{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p.json\"}", &c, &e), 0);
        assert_int_equal(c.max_tasks, 2);
        assert_int_equal(c.audit, POOL_AUDIT_REQUIRED);
        assert_int_equal(c.prebuilt, 0); /* off unless asked */
        pool_config_free(&c);

        static const struct {
                const char *json, *path;
        } bad[] = {
                { "{\"version\":2,\"tenant\":\"acme\",\"policy\":\"/p\"}", "$.version" },
                { "{\"version\":1,\"tenant\":\"Acme\",\"policy\":\"/p\"}", "$.tenant" },
                { "{\"version\":1,\"tenant\":\"acme\"}", "$.policy" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"p.json\"}", "$.policy" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"trust\":[\"rel.pub\"]}", "$.trust[0]" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"max_tasks\":0}", "$.max_tasks" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"max_tasks\":100000}", "$.max_tasks" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"audit\":\"maybe\"}", "$.audit" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"prebuilt\":-1}", "$.prebuilt" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"prebuilt\":1000}", "$.prebuilt" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"key\":\"/k\"}", "$.key" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"work_root\":\"src\"}", "$.work_root" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"work_path\":\"/a/../b\"}", "$.work_path" },
                { "{\"version\":1,\"tenant\":\"acme\",\"policy\":\"/p\",\"work_path\":\"/\"}", "$.work_path" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (cfg(bad[i].json, &c, &e) >= 0)
                        fail_msg("config case %zu accepted", i);
                if (!strstr(e.msg, bad[i].path))
                        fail_msg("config case %zu: message \"%s\" does not name %s", i, e.msg, bad[i].path);
                assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
        }
}

/* A request's workdir: plain relative components only (openat2 is the guard; this is the message). */
static void test_workdir(void **state) {
        static const char *const good[] = { "proj", "a/b/c", "a.b", "..a", "a..", ".git", "x/.y" };
        static const char *const bad[] = { "",  "/etc", "..",    "../x", "a/..", "a/../b",
                                           ".", "./a",  "a/./b", "a//b", "a/",   "a\nb" };
        struct pool_request rq;
        struct sr_error e;
        char big[POOL_WORKDIR_MAX + 2];
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!pool_workdir_valid(good[i]))
                        fail_msg("workdir \"%s\" refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (pool_workdir_valid(bad[i]))
                        fail_msg("workdir \"%s\" accepted", bad[i]);
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        assert_false(pool_workdir_valid(big));
        assert_int_equal(req("{\"task\":\"t\",\"tenant\":\"acme\",\"workdir\":\"p/q\",\"command\":[\"x\"]}", &rq, &e),
                         0);
        assert_string_equal(rq.workdir, "p/q");
        pool_request_free(&rq);
        assert_true(req("{\"task\":\"t\",\"tenant\":\"acme\",\"workdir\":\"../q\",\"command\":[\"x\"]}", &rq, &e) < 0);
        assert_non_null(strstr(e.msg, "$.workdir"));
        assert_string_equal(e.reason, "bad-request");
        pool_request_free(&rq);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_ok),  cmocka_unit_test(test_request_cross_tenant_first),
                cmocka_unit_test(test_request_bad), cmocka_unit_test(test_request_limits),
                cmocka_unit_test(test_names),       cmocka_unit_test(test_config),
                cmocka_unit_test(test_workdir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
