/* Unit tests: scope syntax, coverage and the ceiling subset check (tables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "policy/scope.h"

static void test_syntax(void **state) {
        static const struct {
                const char *s;
                bool ok;
        } cases[] = {
                { "read:model:*", true },
                { "read:model:gpt-4o", true },
                { "write:repo:acme/web", true },
                { "read:bucket:a.b_c-d@e+f=g", true },
                { "admin:org:ACME", true },
                { "r.w-x_y:re.s-o_u:1", true },
                { "read:model:", false },
                { ":model:x", false },
                { "read::x", false },
                { "read:model", false },
                { "read", false },
                { "", false },
                { "*:model:x", false },
                { "read:*:x", false },
                { "*:*:*", false },
                { "read:model:gpt*", false },
                { "read:model:*gpt", false },
                { "read:model:**", false },
                { "read:model:a:b", false },
                { "Read:model:x", false },
                { "read:Model:x", false },
                { "-read:model:x", false },
                { "read:model:a b", false },
                { "read:model:a\tb", false },
                { "read:model:\xc3\xa9", false },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
                if (scope_valid(cases[i].s) != cases[i].ok)
                        fail_msg("scope_valid(\"%s\") != %d", cases[i].s, cases[i].ok);
        assert_false(scope_valid(NULL));
        char long_scope[300];
        memset(long_scope, 'a', sizeof long_scope);
        memcpy(long_scope, "read:model:", 11);
        long_scope[sizeof long_scope - 1] = 0;
        assert_false(scope_valid(long_scope));
}

static void test_covers(void **state) {
        static const struct {
                const char *outer, *inner;
                bool covers;
        } cases[] = {
                { "read:model:*", "read:model:gpt", true },
                { "read:model:*", "read:model:*", true },
                { "read:model:gpt", "read:model:gpt", true },
                { "read:model:gpt", "read:model:*", false }, /* specific never covers the wildcard */
                { "read:model:gpt", "read:model:gpt2", false },
                { "read:model:gpt2", "read:model:gpt", false },
                { "read:model:*", "write:model:gpt", false },
                { "read:model:*", "read:models:gpt", false },
                { "read:model:*", "read:mode:gpt", false },
                { "read:mod:*", "read:model:x", false }, /* prefixes are not parents */
                { "read:model:*", "read:model", false },
                { "read:model:*", "bogus", false },
                { "bogus:*", "bogus:x", false },
                { "read:repo:acme/*", "read:repo:acme/web", false }, /* '*' only as the whole identifier */
                { "read:repo:ACME", "read:repo:acme", false },       /* case-sensitive */
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
                if (scope_covers(cases[i].outer, cases[i].inner) != cases[i].covers)
                        fail_msg("scope_covers(\"%s\", \"%s\") != %d", cases[i].outer, cases[i].inner, cases[i].covers);
}

static void test_subset(void **state) {
        const char *ceiling[] = { "read:model:*", "write:repo:acme/web" };
        const char *ok[] = { "read:model:gpt", "write:repo:acme/web", "read:model:*" };
        const char *wider[] = { "read:model:gpt", "write:repo:*" };
        const char *other[] = { "admin:org:acme" };
        size_t bad = 99;
        (void)state;
        assert_true(scope_subset(ok, 3, ceiling, 2, &bad));
        assert_true(scope_subset(NULL, 0, ceiling, 2, &bad));
        assert_true(scope_subset(NULL, 0, NULL, 0, &bad));
        assert_false(scope_subset(wider, 2, ceiling, 2, &bad));
        assert_int_equal(bad, 1);
        assert_false(scope_subset(other, 1, ceiling, 2, &bad));
        assert_int_equal(bad, 0);
        /* no ceiling: nothing is allowed */
        assert_false(scope_subset(ok, 1, NULL, 0, &bad));
        assert_true(scope_covered_by("read:model:x", ceiling, 2));
        assert_false(scope_covered_by("read:model:x", ceiling + 1, 1));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_syntax),
                cmocka_unit_test(test_covers),
                cmocka_unit_test(test_subset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
