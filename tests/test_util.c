/* Unit tests for policy/util.c: validators, parse_long, read_fd_all, and policy_path_valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "policy/policy.h"
#include "policy/util.h"

struct vcase {
        const char *s;
        bool ok;
};

static void check_table(bool (*fn)(const char *), const char *fname, const struct vcase *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fn(t[i].s) != t[i].ok)
                        fail_msg("%s(\"%s\") returned %s, expected %s", fname, t[i].s ? t[i].s : "(null)",
                                 t[i].ok ? "false" : "true", t[i].ok ? "true" : "false");
}
#define CHECK_TABLE(fn, t) check_table(fn, #fn, t, ELEMENTSOF(t))

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);
        assert_non_null(s);
        memset(s, c, n);
        s[n] = 0;
        return s;
}

static void test_slug_valid(void **state) {
        _cleanup_free_ char *s62 = repeat('a', 62), *s63 = repeat('a', 63), *s64 = repeat('a', 64);
        const struct vcase t[] = {
                { "acme", true },
                { "a1", true },
                { "0tenant", true },
                { "my-tenant_2", true },
                { "ab", true },
                { "a", false }, /* 2 chars is the minimum */
                { "", false },
                { NULL, false },
                { "-acme", false },
                { "_acme", false },
                { "Acme", false },
                { "acME", false },
                { "acme!", false },
                { "ac me", false },
                { "ac/me", false },
                { "ac.me", false },
                { "a-", true },
                { "0-", true },
                { "caf\xc3\xa9", false },
                { "\xc3\xa9t\xc3\xa9", false },
                { "acme\n", false },
                { "a\x7f", false },
        };
        CHECK_TABLE(slug_valid, t);
        assert_true(slug_valid(s62));
        assert_true(slug_valid(s63)); /* 63 chars is the maximum */
        assert_false(slug_valid(s64));
        s63[62] = 'A';
        assert_false(slug_valid(s63));
}

static void test_task_id_valid(void **state) {
        _cleanup_free_ char *s128 = repeat('T', 128), *s129 = repeat('T', 129);
        const struct vcase t[] = {
                { "T42", true },   { "a", true },     { "task-1_2.3:4", true }, { "", false },    { NULL, false },
                { ".", false },    { "..", false },   { "a/b", false },         { "/", false },   { "a b", false },
                { "a\tb", false }, { "a\nb", false }, { "t\xc3\xa9", false },   { "a*b", false }, { "...", true },
        };
        CHECK_TABLE(task_id_valid, t);
        assert_true(task_id_valid(s128));
        assert_false(task_id_valid(s129));
}

static void test_cred_name_valid(void **state) {
        _cleanup_free_ char *s255 = repeat('c', 255), *s256 = repeat('c', 256);
        const struct vcase t[] = {
                { "github_token", true }, { "OPENAI_API_KEY", true },
                { "a.b-c~!", true },      { ".x", true },
                { "..x", true },          { "", false },
                { NULL, false },          { ".", false },
                { "..", false },          { "a/b", false },
                { "/", false },           { "a b", false },
                { "a\tb", false },        { "a\x7f", false },
                { "\xc3\xa9", false },
        };
        CHECK_TABLE(cred_name_valid, t);
        assert_true(cred_name_valid(s255));
        assert_false(cred_name_valid(s256));
}

static void test_env_name_valid(void **state) {
        _cleanup_free_ char *s255 = repeat('E', 255), *s256 = repeat('E', 256);
        const struct vcase t[] = {
                { "PATH", true }, { "_", true },    { "_X1", true },  { "lower", true },
                { "", false },    { NULL, false },  { "1X", false },  { "A=B", false },
                { "A-B", false }, { "A B", false }, { "A.B", false }, { "\xc3\x89T\xc3\x89", false },
                { "A\n", false },
        };
        CHECK_TABLE(env_name_valid, t);
        assert_true(env_name_valid(s255));
        assert_false(env_name_valid(s256));
}

/* The one DNS-name check of hosts files, resolver names and egress hosts. */
static void test_dns_name_valid(void **state) {
        _cleanup_free_ char *l63 = repeat('a', 63), *l64 = repeat('a', 64), *long_name = repeat('a', 254);
        const struct vcase t[] = {
                { "example.com", true },
                { "a", true },
                { "Api.Example.COM", true },
                { "x_y.test", true },
                { "a-b.c-d", true },
                { "1.example", true },
                { "", false },
                { ".a", false },
                { "a.", false },
                { "a..b", false },
                { "-a.b", false },
                { "a-.b", false },
                { "a.-b", false },
                { "a.b-", false },
                { "a b", false },
                { "a/b", false },
                { "b\xc3\xbc.de", false },
                { "a:1", false },
        };
        CHECK_TABLE(dns_name_valid, t);
        assert_true(dns_name_valid(l63));
        assert_false(dns_name_valid(l64)); /* a label is at most 63 bytes */
        for (size_t i = 63; i < 254; i += 64)
                long_name[i] = '.';
        assert_false(dns_name_valid(long_name)); /* 254 bytes */
        long_name[253] = 0;
        assert_true(dns_name_valid(long_name));
}

static void test_parse_long(void **state) {
        long v = 12345;
        assert_int_equal(parse_long("0", 0, 10, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_long("10", 0, 10, &v), 0);
        assert_int_equal(v, 10);
        assert_int_equal(parse_long("-5", -10, 10, &v), 0);
        assert_int_equal(v, -5);
        assert_int_equal(parse_long("+7", 0, 10, &v), 0);
        assert_int_equal(v, 7);
        v = 99;
        /* out of range: bounds are inclusive, the output stays untouched */
        assert_int_equal(parse_long("11", 0, 10, &v), -ERANGE);
        assert_int_equal(parse_long("-1", 0, 10, &v), -ERANGE);
        assert_int_equal(parse_long("99999999999999999999999", 0, 10, &v), -ERANGE);
        assert_int_equal(parse_long("-99999999999999999999999", 0, 10, &v), -ERANGE);
        assert_int_equal(v, 99);
        /* not a decimal number */
        assert_int_equal(parse_long("", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long(NULL, 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long(" 5", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long("5 ", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long("5s", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long("0x5", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long("abc", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long("-", 0, 10, &v), -EINVAL);
        assert_int_equal(parse_long("\n5", 0, 10, &v), -EINVAL);
        assert_int_equal(v, 99);
        /* octal-looking input is decimal */
        assert_int_equal(parse_long("010", 0, 100, &v), 0);
        assert_int_equal(v, 10);
}

/* An fd whose contents are `len` bytes of 'x' (memfd, so no file on disk). */
static int data_fd(size_t len) {
        int fd = memfd_create("test", MFD_CLOEXEC);
        char *buf = repeat('x', len);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, buf, len), 0);
        free(buf);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static void expect_read(size_t len, size_t max, int want) {
        _cleanup_close_ int fd = data_fd(len);
        char *buf = NULL;
        size_t got = 0;
        int r = read_fd_all(fd, max, &buf, &got);
        if (r != want)
                fail_msg("read_fd_all(%zu bytes, max %zu) = %d, expected %d", len, max, r, want);
        if (r == 0) {
                assert_non_null(buf);
                assert_int_equal(got, len);
                assert_int_equal(buf[len], 0); /* NUL-terminated */
                assert_int_equal(strspn(buf, "x"), len);
                free(buf);
        } else {
                assert_null(buf);
        }
}

static void test_read_fd_all_limits(void **state) {
        expect_read(0, 0, 0);
        expect_read(1, 0, -EFBIG);
        expect_read(10, 10, 0);
        expect_read(11, 10, -EFBIG);
        /* around the internal buffer growth (4096, 8192, ...) */
        expect_read(4095, 4096, 0);
        expect_read(4096, 4096, 0);
        expect_read(4097, 4096, -EFBIG);
        expect_read(8192, 8192, 0);
        expect_read(8193, 8192, -EFBIG);
        expect_read(8192, 5000, -EFBIG);
        expect_read(100000, 1 << 20, 0);
        expect_read((size_t)POLICY_MAX_BYTES, POLICY_MAX_BYTES, 0);
        expect_read((size_t)POLICY_MAX_BYTES + 1, POLICY_MAX_BYTES, -EFBIG);
}

static void test_read_fd_all_pipe_and_errors(void **state) {
        int p[2];
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write_all(p[1], "hello", 5), 0);
        close(p[1]);
        assert_int_equal(read_fd_all(p[0], 100, &buf, &len), 0);
        assert_int_equal(len, 5);
        assert_string_equal(buf, "hello");
        free(buf);
        close(p[0]);
        /* a bad fd is an error, not a crash; ret_len may be NULL */
        buf = NULL;
        assert_int_equal(read_fd_all(-1, 100, &buf, NULL), -EBADF);
        assert_null(buf);
        int fd = data_fd(3);
        assert_int_equal(read_fd_all(fd, 100, &buf, NULL), 0);
        assert_string_equal(buf, "xxx");
        free(buf);
        close(fd);
}

static void test_policy_path_valid(void **state) {
        _cleanup_free_ char *long_ok = repeat('a', 4095), *long_bad = repeat('a', 4096);
        const struct vcase t[] = {
                { "/", true },        { "/usr", true },    { "/usr/lib64", true }, { "/a/b.c", true },
                { "/.hidden", true }, { "/a/..b", true },  { "/...", true },       { "/a b", true },
                { "", false },        { NULL, false },     { "usr", false },       { "./usr", false },
                { "/usr/", false },   { "//usr", false },  { "/usr//lib", false }, { "/.", false },
                { "/..", false },     { "/a/./b", false }, { "/a/../b", false },   { "/a/..", false },
                { "/a/.", false },    { "/a\nb", false },  { "/a\tb", false },     { "/\x01", false },
        };
        CHECK_TABLE(policy_path_valid, t);
        long_ok[0] = '/';
        long_bad[0] = '/';
        assert_true(policy_path_valid(long_ok));
        assert_false(policy_path_valid(long_bad));
}

static void test_sr_fail(void **state) {
        struct sr_error e = { 0 };
        assert_int_equal(sr_fail(&e, 77, EPERM, "expired", "profile %s expired", "p"), -EPERM);
        assert_int_equal(e.exit_code, 77);
        assert_int_equal(e.err, EPERM);
        assert_string_equal(e.reason, "expired");
        assert_string_equal(e.msg, "profile p expired");
        sr_error_prefix(&e, "%s: ", "file.json");
        assert_string_equal(e.msg, "file.json: profile p expired");
        /* err 0 still reports failure; a NULL e is allowed */
        assert_int_equal(sr_fail(&e, 125, 0, NULL, "x"), -EINVAL);
        assert_string_equal(e.reason, "error");
        assert_int_equal(sr_fail(NULL, 125, ENOENT, "r", "x"), -ENOENT);
        sr_error_prefix(NULL, "x");
}

/* Escapes: \uXXXX / \UXXXXXXXX for well-formed UTF-8, \xNN for everything
 * else outside printable ASCII; idempotent; never half an escape. */
static void test_sr_escape(void **state) {
        char out[64];
        struct sr_error e = { 0 };
        assert_int_equal(sr_escape(out, sizeof out, "plain/ascii ~"), 13);
        assert_string_equal(out, "plain/ascii ~");
        sr_escape(out, sizeof out,
                  "a\xe2\x80\xae"
                  "b\xef\xbb\xbf"
                  "c");
        assert_string_equal(out, "a\\u202eb\\ufeffc");
        sr_escape(out, sizeof out, "\xf0\x9f\x98\x80!");
        assert_string_equal(out, "\\U0001f600!");
        sr_escape(out, sizeof out, "\n\t\x7f\x1b");
        assert_string_equal(out, "\\x0a\\x09\\x7f\\x1b");
        /* invalid UTF-8: lone continuation, overlong, surrogate, truncated */
        sr_escape(out, sizeof out, "\x80\xc0\xaf\xed\xa0\x80\xe2\x80");
        assert_string_equal(out, "\\x80\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x80");
        /* idempotent */
        char twice[64];
        sr_escape(out, sizeof out, "x\xe2\x80\xae\\y");
        sr_escape(twice, sizeof twice, out);
        assert_string_equal(out, twice);
        /* truncation keeps whole escapes */
        sr_escape(out, 8, "ab\xe2\x80\xae");
        assert_string_equal(out, "ab");
        /* quoting: escaped, cut at 64 input bytes or at the buffer, marked "..." */
        char q[72];
        assert_string_equal(sr_quote("ok", q, sizeof q), "ok");
        assert_string_equal(sr_quote("\xe2\x80\xae", q, sizeof q), "\\u202e");
        char long_in[100];
        memset(long_in, 'a', 99);
        long_in[99] = 0;
        sr_quote(long_in, q, sizeof q);
        assert_int_equal(strlen(q), 67);
        assert_string_equal(q + 64, "...");
        memset(long_in, '\x1b', 40);
        sr_quote(long_in, q, sizeof q);
        assert_true(strlen(q) < sizeof q);
        assert_string_equal(q + strlen(q) - 3, "...");
        assert_true(sr_printable(q));
        assert_true(sr_printable("abc ~"));
        assert_false(sr_printable("a\x7f"));
        assert_false(sr_printable("\xc3\xa9"));
        /* sr_fail escapes its message: input quoted in it cannot forge lines */
        sr_fail(&e, 125, EINVAL, "bad-input", "%s: bad", "p\xe2\x80\xae\nsealrun: fake");
        assert_string_equal(e.msg, "p\\u202e\\x0asealrun: fake: bad");
        sr_error_prefix(&e, "f\x01: ");
        assert_string_equal(e.msg, "f\\x01: p\\u202e\\x0asealrun: fake: bad");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_slug_valid),         cmocka_unit_test(test_task_id_valid),
                cmocka_unit_test(test_cred_name_valid),    cmocka_unit_test(test_env_name_valid),
                cmocka_unit_test(test_dns_name_valid),     cmocka_unit_test(test_parse_long),
                cmocka_unit_test(test_read_fd_all_limits), cmocka_unit_test(test_read_fd_all_pipe_and_errors),
                cmocka_unit_test(test_policy_path_valid),  cmocka_unit_test(test_sr_fail),
                cmocka_unit_test(test_sr_escape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
