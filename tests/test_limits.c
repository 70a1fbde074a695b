/* Unit tests of the policy "limits" section: sizes, cpu fractions, pids, optional list, max_concurrent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

static struct sr_error err;

static int parse_limits(const char *limits, struct policy **ret) {
        char buf[4096];
        snprintf(buf, sizeof buf, "{\"version\":1,\"mounts\":[],\"limits\":%s}", limits);
        memset(&err, 0, sizeof err);
        *ret = NULL;
        return policy_parse("t.json", buf, strlen(buf), ret, &err);
}

static struct policy *good(const char *limits) {
        struct policy *p = NULL;
        int r = parse_limits(limits, &p);
        if (r < 0)
                print_error("input %s: %s\n", limits, err.msg);
        assert_int_equal(r, 0);
        assert_non_null(p);
        return p;
}

/* Refused with 125, one line naming the file and the JSON path. */
static void bad(const char *limits, const char *path) {
        struct policy *p = NULL;
        int r = parse_limits(limits, &p);
        if (r == 0 || !strstr(err.msg, path))
                print_error("input %s: r=%d msg=%s (expected %s)\n", limits, r, err.msg, path);
        assert_true(r < 0);
        assert_null(p);
        assert_int_equal(err.exit_code, SR_EXIT_LAUNCHER);
        assert_non_null(strstr(err.msg, "t.json: "));
        assert_non_null(strstr(err.msg, path));
        assert_null(strchr(err.msg, '\n'));
}

static void test_defaults(void **state) {
        struct policy *p = good("{}");
        for (int k = 0; k < LIM_COUNT; k++) {
                assert_false(p->limits.set[k]);
                assert_false(p->limits.optional[k]);
        }
        assert_int_equal(p->limits.swap, 0); /* credentials never reach swap */
        assert_int_equal(p->limits.max_concurrent, 0);
        assert_int_equal(p->limits.kill_grace_ms, 2000);
        policy_free(p);
}

static void test_sizes(void **state) {
        struct policy *p = good("{\"memory\":\"512M\",\"swap\":\"64k\"}");
        assert_true(p->limits.set[LIM_MEMORY]);
        assert_int_equal(p->limits.memory, 512ULL << 20);
        assert_true(p->limits.set[LIM_SWAP]);
        assert_int_equal(p->limits.swap, 64ULL << 10);
        policy_free(p);
        p = good("{\"memory\":1048576,\"swap\":0}");
        assert_int_equal(p->limits.memory, 1048576);
        assert_true(p->limits.set[LIM_SWAP]);
        assert_int_equal(p->limits.swap, 0);
        policy_free(p);
        p = good("{\"memory\":\"2G\",\"swap\":\"max\"}");
        assert_int_equal(p->limits.memory, 2ULL << 30);
        assert_true(p->limits.swap == LIM_UNLIMITED);
        policy_free(p);

        bad("{\"memory\":\"12X\"}", "$.limits.memory");
        bad("{\"memory\":\"\"}", "$.limits.memory");
        bad("{\"memory\":\"-5M\"}", "$.limits.memory");
        bad("{\"memory\":-1}", "$.limits.memory");
        bad("{\"memory\":1000}", "$.limits.memory");    /* below 1 MiB */
        bad("{\"memory\":\"max\"}", "$.limits.memory"); /* only swap takes "max" */
        bad("{\"memory\":true}", "$.limits.memory");
        bad("{\"memory\":\"99999999999999999999\"}", "$.limits.memory");
        bad("{\"memory\":\"2048T\"}", "$.limits.memory"); /* above 2^50 */
        bad("{\"swap\":\"1.5G\"}", "$.limits.swap");
}

static void test_parse_size(void **state) {
        uint64_t v;
        assert_int_equal(pol_limits_parse_size("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(pol_limits_parse_size("3t", &v), 0);
        assert_int_equal(v, 3ULL << 40);
        assert_int_equal(pol_limits_parse_size("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(pol_limits_parse_size("18446744073709551616", &v), -ERANGE);
        assert_int_equal(pol_limits_parse_size("17179869184G", &v), -ERANGE);
        assert_int_equal(pol_limits_parse_size("1MB", &v), -EINVAL);
        assert_int_equal(pol_limits_parse_size(" 1", &v), -EINVAL);
        assert_int_equal(pol_limits_parse_size("M", &v), -EINVAL);
        assert_int_equal(pol_limits_parse_size(NULL, &v), -EINVAL);
}

static void test_pids_cpu(void **state) {
        struct policy *p = good("{\"pids\":64,\"cpu\":0.5}");
        assert_true(p->limits.set[LIM_PIDS]);
        assert_int_equal(p->limits.pids, 64);
        assert_true(p->limits.set[LIM_CPU]);
        assert_int_equal(p->limits.cpu_milli, 500);
        policy_free(p);
        p = good("{\"cpu\":2}");
        assert_int_equal(p->limits.cpu_milli, 2000);
        policy_free(p);
        p = good("{\"cpu\":0.01}");
        assert_int_equal(p->limits.cpu_milli, 10);
        policy_free(p);
        bad("{\"pids\":0}", "$.limits.pids");
        bad("{\"pids\":5000000}", "$.limits.pids");
        bad("{\"pids\":\"64\"}", "$.limits.pids");
        bad("{\"cpu\":0}", "$.limits.cpu");
        bad("{\"cpu\":0.001}", "$.limits.cpu");
        bad("{\"cpu\":-1}", "$.limits.cpu");
        bad("{\"cpu\":\"0.5\"}", "$.limits.cpu");
        bad("{\"cpu\":100000}", "$.limits.cpu");
}

static void test_optional(void **state) {
        struct policy *p = good("{\"memory\":\"64M\",\"pids\":10,\"optional\":[\"memory\",\"swap\"]}");
        assert_true(p->limits.optional[LIM_MEMORY]);
        assert_true(p->limits.optional[LIM_SWAP]); /* the implicit swap 0 may be optional too */
        assert_false(p->limits.optional[LIM_PIDS]);
        assert_false(p->limits.optional[LIM_CPU]);
        policy_free(p);
        bad("{\"memory\":\"64M\",\"optional\":[\"bogus\"]}", "$.limits.optional[0]");
        bad("{\"memory\":\"64M\",\"optional\":[\"memory\",\"memory\"]}", "$.limits.optional[1]");
        bad("{\"memory\":\"64M\",\"optional\":\"memory\"}", "$.limits.optional");
        bad("{\"optional\":[\"cpu\"]}", "$.limits.optional"); /* listed but not set: a typo, not a wish */
        bad("{\"memory\":\"64M\",\"optional\":[1]}", "$.limits.optional[0]");
}

static void test_max_concurrent_and_keys(void **state) {
        struct policy *p = good("{\"max_concurrent\":4,\"timeout_s\":30,\"rlimits\":{\"nofile\":64,\"core\":0}}");
        assert_int_equal(p->limits.max_concurrent, 4);
        assert_int_equal(p->limits.timeout_s, 30);
        assert_true(p->limits.rlimit_set[RL_NOFILE]);
        policy_free(p);
        bad("{\"max_concurrent\":-1}", "$.limits.max_concurrent");
        bad("{\"max_concurrent\":1.5}", "$.limits.max_concurrent");
        bad("{\"memroy\":\"1G\"}", "$.limits.memroy");
        bad("{\"rlimits\":{\"core\":1}}", "$.limits.rlimits.core");
}

static void test_names(void **state) {
        assert_string_equal(pol_limits_cg_name(LIM_MEMORY), "limits.memory");
        assert_string_equal(pol_limits_cg_name(LIM_SWAP), "limits.swap");
        assert_string_equal(pol_limits_cg_name(LIM_PIDS), "limits.pids");
        assert_string_equal(pol_limits_cg_name(LIM_CPU), "limits.cpu");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),   cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_parse_size), cmocka_unit_test(test_pids_cpu),
                cmocka_unit_test(test_optional),   cmocka_unit_test(test_max_concurrent_and_keys),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
