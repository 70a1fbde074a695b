/* Unit tests: RFC 3339 and +DURATION parsing, canonical formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "policy/profile.h"

static void test_parse_table(void **state) {
        static const struct {
                const char *s;
                int64_t want; /* with now = 1000000 */
                bool ok;
        } cases[] = {
                { "1970-01-01T00:00:00Z", 0, true },
                { "2023-11-14T22:13:20Z", 1700000000, true },
                { "2023-11-14t22:13:20z", 1700000000, true },
                { "2023-11-14T22:13:20.123456Z", 1700000000, true },
                { "2023-11-15T00:13:20+02:00", 1700000000, true },
                { "2023-11-14T20:13:20-02:00", 1700000000, true },
                { "2024-02-29T00:00:00Z", 1709164800, true },
                { "+15m", 1000000 + 900, true },
                { "+24h", 1000000 + 86400, true },
                { "+7d", 1000000 + 7 * 86400, true },
                { "+1h30m", 1000000 + 5400, true },
                { "+90s", 1000000 + 90, true },
                { "+2w", 1000000 + 14 * 86400, true },
                { "2023-02-29T00:00:00Z", 0, false },
                { "2023-13-01T00:00:00Z", 0, false },
                { "2023-11-14 22:13:20Z", 0, false },
                { "2023-11-14T22:13:20", 0, false },
                { "2023-11-14T24:00:00Z", 0, false },
                { "2023-11-14T22:13:20+2:00", 0, false },
                { "2023-11-14T22:13:20.Z", 0, false },
                { "2023-11-14T22:13:20Zjunk", 0, false },
                { "1969-12-31T23:59:59Z", 0, false },
                { "+", 0, false },
                { "+15", 0, false },
                { "+15x", 0, false },
                { "+m", 0, false },
                { "+-5m", 0, false },
                { "+99999999999999999999d", 0, false },
                { "15m", 0, false },
                { "", 0, false },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                int64_t t = -1;
                int r = profile_time_parse(cases[i].s, 1000000, &t);
                if ((r == 0) != cases[i].ok)
                        fail_msg("\"%s\": r=%d", cases[i].s, r);
                if (cases[i].ok && t != cases[i].want)
                        fail_msg("\"%s\": %lld != %lld", cases[i].s, (long long)t, (long long)cases[i].want);
        }
}

static void test_format(void **state) {
        char buf[32];
        int64_t t;
        (void)state;
        profile_time_format(1700000000, buf);
        assert_string_equal(buf, "2023-11-14T22:13:20Z");
        assert_int_equal(profile_time_parse(buf, 0, &t), 0);
        assert_int_equal(t, 1700000000);
        profile_time_format(7258118400, buf);
        assert_string_equal(buf, "2200-01-01T00:00:00Z");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_table),
                cmocka_unit_test(test_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
