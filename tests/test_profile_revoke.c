/* Unit tests: revocation list format, matching by tenant/profile/version and key id, file checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/profile.h"

static struct profile_header hdr(const char *tenant, const char *profile, uint64_t version) {
        struct profile_header h = { .version = version };
        snprintf(h.tenant, sizeof h.tenant, "%s", tenant);
        snprintf(h.profile, sizeof h.profile, "%s", profile);
        memcpy(h.recipient, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
        memcpy(h.issuer, "\x11\x12\x13\x14\x15\x16\x17\x18", 8);
        return h;
}

static void test_parse_and_match(void **state) {
        static const char *list = "# comment\n"
                                  "\n"
                                  "   # indented comment\n"
                                  "tenant=gone\n"
                                  "tenant=acme profile=agent version=3\n"
                                  "tenant=acme profile=old\n"
                                  "key=0102030405060708\n";
        static const struct {
                const char *tenant, *profile;
                uint64_t version;
                bool revoked;
        } cases[] = {
                { "gone", "anything", 1, true }, { "acme", "agent", 3, true }, { "acme", "agent", 4, false },
                { "acme", "agent", 2, false },   { "acme", "old", 99, true },  { "acme", "new", 1, false },
                { "acme2", "agent", 3, false },
        };
        struct revocation_list l;
        struct sr_error e = { 0 };
        char what[128];
        (void)state;
        assert_int_equal(revocation_parse("rl", list, strlen(list), &l, &e), 0);
        assert_int_equal(l.n, 4);
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct profile_header h = hdr(cases[i].tenant, cases[i].profile, cases[i].version);
                memset(h.recipient, 0xee, 8);
                if (revocation_match(&l, &h, what, sizeof what) != cases[i].revoked)
                        fail_msg("case %zu: %s/%s v%llu", i, cases[i].tenant, cases[i].profile,
                                 (unsigned long long)cases[i].version);
        }
        /* key ids match the recipient or the issuer */
        struct profile_header h = hdr("other", "p", 1);
        assert_true(revocation_match(&l, &h, what, sizeof what));
        assert_string_equal(what, "key=0102030405060708");
        memset(h.recipient, 0, 8);
        memcpy(h.issuer, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
        assert_true(revocation_match(&l, &h, what, sizeof what));
        memset(h.issuer, 0, 8);
        assert_false(revocation_match(&l, &h, what, sizeof what));
        assert_false(revocation_match(NULL, &h, what, sizeof what));
        revocation_free(&l);
}

static void test_bad_lines(void **state) {
        static const char *bad[] = {
                "tenant\n",
                "tenant=\n",
                "tenant=A\n",
                "profile=x\n",
                "tenant=acme version=3\n",
                "tenant=acme profile=x version=0\n",
                "tenant=acme profile=x version=-1\n",
                "tenant=acme profile=x version=3x\n",
                "key=xyz\n",
                "key=0102030405060708 tenant=acme\n",
                "tenant=acme profile=x version=3 extra=1\n",
                "revoke acme\n",
                "tenant=acme profile=/x\n",
        };
        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct revocation_list l = { 0 };
                struct sr_error e = { 0 };
                if (revocation_parse("rl", bad[i], strlen(bad[i]), &l, &e) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_int_equal(e.exit_code, 125);
                assert_non_null(strstr(e.msg, "rl:1: "));
        }
}

static void test_format_round_trip(void **state) {
        struct revoke_entry r = { .kind = REVOKE_TENANT, .has_version = true, .version = 42 };
        struct revocation_list l;
        struct sr_error e = { 0 };
        char line[256];
        (void)state;
        snprintf(r.tenant, sizeof r.tenant, "acme");
        snprintf(r.profile, sizeof r.profile, "agent");
        assert_int_equal(revocation_entry_format(&r, line, sizeof line), 0);
        assert_string_equal(line, "tenant=acme profile=agent version=42");
        assert_int_equal(revocation_parse("rl", line, strlen(line), &l, &e), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.v[0].version, 42);
        revocation_free(&l);
}

static void test_below_and_reason(void **state) {
        static const char *list = "tenant=acme profile=agent version<5 reason=rotated\n"
                                  "key=1111111111111111 reason=key-leaked\n";
        struct revocation_list l;
        struct sr_error e = { 0 };
        char what[320];
        assert_int_equal(revocation_parse("rl", list, strlen(list), &l, &e), 0);
        assert_int_equal(l.n, 2);
        assert_true(l.v[0].version_below);
        assert_string_equal(l.v[0].reason, "rotated");
        /* every version below 5, not 5 and not above, not another profile */
        for (uint64_t v = 1; v <= 7; v++) {
                struct profile_header h = hdr("acme", "agent", v);
                memset(h.recipient, 0xee, 8);
                memset(h.issuer, 0xee, 8);
                if (revocation_match(&l, &h, what, sizeof what) != (v < 5))
                        fail_msg("version %llu", (unsigned long long)v);
        }
        struct profile_header h = hdr("acme", "agent", 1);
        memset(h.recipient, 0xee, 8);
        assert_true(revocation_match(&l, &h, what, sizeof what));
        /* the reason travels with the matching entry's text */
        assert_string_equal(what, "tenant=acme profile=agent version<5 reason=rotated");
        h = hdr("acme", "other", 1);
        memset(h.recipient, 0xee, 8);
        assert_false(revocation_match(&l, &h, what, sizeof what));
        /* round trip */
        char line[256];
        assert_int_equal(revocation_entry_format(&l.v[1], line, sizeof line), 0);
        assert_string_equal(line, "key=1111111111111111 reason=key-leaked");
        revocation_free(&l);

        /* strict: the bound, the reason's charset, its place */
        static const char *bad[] = {
                "tenant=acme profile=agent version<1\n",
                "tenant=acme profile=agent version<0\n",
                "tenant=acme profile=agent version<\n",
                "tenant=acme profile=agent version<-3\n",
                "tenant=acme profile=agent version<03\n",
                "tenant=acme profile=agent version<3x\n",
                "tenant=acme version<3\n",
                "tenant=acme profile=agent version<=3\n",
                "tenant=acme profile=agent version>3\n",
                "tenant=acme profile=agent version=03\n",
                "tenant=acme reason=\n",
                "tenant=acme reason=two words\n",
                "tenant=acme reason=a/b\n",
                "tenant=acme reason=x profile=agent\n",
                "reason=x tenant=acme\n",
                "tenant=acme reason=x reason=y\n",
                "tenant=acme reason=0123456789012345678901234567890123456789012345678901234567890123456789\n",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct revocation_list b = { 0 };
                memset(&e, 0, sizeof e);
                if (revocation_parse("rl", bad[i], strlen(bad[i]), &b, &e) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_non_null(strstr(e.msg, "rl:1: "));
        }
}

static struct revoke_entry ent(const char *line) {
        struct revocation_list l;
        struct sr_error e = { 0 };
        struct revoke_entry r;
        if (revocation_parse("rl", line, strlen(line), &l, &e) < 0)
                fail_msg("%s: %s", line, e.msg);
        r = l.v[0];
        revocation_free(&l);
        return r;
}

static void test_covers(void **state) {
        static const struct {
                const char *a, *b;
                bool covers;
        } cases[] = {
                { "tenant=acme", "tenant=acme", true },
                { "tenant=acme reason=x", "tenant=acme reason=y", true }, /* reasons aside */
                { "tenant=acme", "tenant=acme profile=p version=3", true },
                { "tenant=acme profile=p", "tenant=acme", false },
                { "tenant=acme profile=p", "tenant=acme profile=p version<9", true },
                { "tenant=acme profile=p version=3", "tenant=acme profile=p version=3", true },
                { "tenant=acme profile=p version=3", "tenant=acme profile=p version=4", false },
                { "tenant=acme profile=p version<5", "tenant=acme profile=p version=4", true },
                { "tenant=acme profile=p version<5", "tenant=acme profile=p version=5", false },
                { "tenant=acme profile=p version<5", "tenant=acme profile=p version<3", true },
                { "tenant=acme profile=p version<3", "tenant=acme profile=p version<5", false },
                { "tenant=acme profile=p version=2", "tenant=acme profile=p version<3", false },
                { "tenant=acme profile=p version<5", "tenant=acme profile=p", false },
                { "tenant=acme profile=p", "tenant=acme profile=q", false },
                { "tenant=acme", "tenant=beta", false },
                { "key=0102030405060708", "key=0102030405060708 reason=x", true },
                { "key=0102030405060708", "key=0102030405060709", false },
                { "key=0102030405060708", "tenant=acme", false },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct revoke_entry a = ent(cases[i].a), b = ent(cases[i].b);
                if (revocation_entry_covers(&a, &b) != cases[i].covers)
                        fail_msg("\"%s\" covers \"%s\": expected %d", cases[i].a, cases[i].b, cases[i].covers);
        }
        assert_true(revocation_reason_valid("key-compromised"));
        assert_true(revocation_reason_valid("CVE-2026.1:x_y"));
        assert_false(revocation_reason_valid(""));
        assert_false(revocation_reason_valid("a b"));
        assert_false(revocation_reason_valid(NULL));
}

static void test_load_checks_mode(void **state) {
        char path[] = "/tmp/sealrun-test-rl.XXXXXX";
        struct revocation_list l;
        struct sr_error e = { 0 };
        int fd = mkstemp(path);
        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, "tenant=acme\n", 12), 0);
        fchmod(fd, 0644);
        assert_int_equal(revocation_load(path, &l, &e), 0);
        revocation_free(&l);
        fchmod(fd, 0664);
        assert_int_not_equal(revocation_load(path, &l, &e), 0);
        assert_int_equal(e.exit_code, 77);
        fchmod(fd, 0646);
        assert_int_not_equal(revocation_load(path, &l, &e), 0);
        close(fd);
        unlink(path);
        memset(&e, 0, sizeof e);
        assert_int_not_equal(revocation_load(path, &l, &e), 0);
        assert_int_equal(e.exit_code, 125);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_match),
                cmocka_unit_test(test_bad_lines),
                cmocka_unit_test(test_format_round_trip),
                cmocka_unit_test(test_below_and_reason),
                cmocka_unit_test(test_covers),
                cmocka_unit_test(test_load_checks_mode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
