/* Unit tests for launcher/idreg.c: registry parsing, block choice, and (as root) the file's trust checks and updates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher/idreg.h"
#include "launcher/sandbox.h"

static int parse(const char *text, struct idreg_entry **v, size_t *n, size_t *line) {
        return idreg_parse(text, strlen(text), v, n, line);
}

static void test_parse_ok(void **state) {
        struct idreg_entry *v = NULL;
        size_t n = 0, line = 9;
        assert_int_equal(parse("# c\n\nacme 1879048192 65536\nbeta-2 1879113728 65536", &v, &n, &line), 0);
        assert_int_equal(n, 2);
        assert_int_equal(line, 0);
        assert_string_equal(v[0].tenant, "acme");
        assert_int_equal(v[0].first, 1879048192u);
        assert_int_equal(v[1].count, 65536);
        free(v);
        assert_int_equal(parse("", &v, &n, &line), 0);
        assert_int_equal(n, 0);
        free(v);
}

static void test_parse_bad(void **state) {
        static const struct {
                const char *text;
                size_t line;
        } cases[] = {
                { "acme 1 65536 extra\n", 1 },
                { "# ok\nAcme 65536 65536\n", 2 }, /* not a slug */
                { "acme -1 65536\n", 1 },
                { "acme 65536 0\n", 1 },
                { "acme 4294967295 1\n", 1 },
                { "acme 4294901760 65536\n", 1 },               /* runs past the last id */
                { "acme 65536 65536\nacme 131072 65536\n", 2 }, /* duplicate tenant */
                { "acme 65536 65536\nbeta 131071 65536\n", 2 }, /* overlap */
                { "acme 65536\n", 1 },
                { "acme 65536 65536\nbe\x01ta 131072 65536\n", 2 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct idreg_entry *v = NULL;
                size_t n = 0, line = 0;
                if (parse(cases[i].text, &v, &n, &line) != -EINVAL)
                        fail_msg("case %zu parsed: %s", i, cases[i].text);
                assert_int_equal(line, cases[i].line);
                assert_null(v);
        }
}

static void test_pick(void **state) {
        struct idreg_entry v[2] = { { "a", 65536, 65536 }, { "b", 196608, 65536 } };
        uint32_t b = 0;
        assert_int_equal(idreg_pick(v, 0, 65536, 262143, 65536, &b), 0);
        assert_int_equal(b, 65536);
        assert_int_equal(idreg_pick(v, 2, 65536, 262143, 65536, &b), 0);
        assert_int_equal(b, 131072); /* the hole between a and b */
        assert_int_equal(idreg_pick(v, 2, 65536, 196607, 65536, &b), 0);
        assert_int_equal(b, 131072);
        assert_int_equal(idreg_pick(v, 2, 196608, 262143, 65536, &b), -ENOSPC);
        assert_int_equal(idreg_pick(v, 0, 4294901760u, 4294967294u, 65536, &b), -ENOSPC); /* no whole block */
}

/* As root: allocate, find again, refuse an untrusted file. */
static void test_lookup(void **state) {
        char dir[] = "/tmp/test-idreg.XXXXXX", path[64], tmp[80];
        struct sr_error e = { 0 };
        uint32_t a = 0, b = 0, a2 = 0;
        if (geteuid() != 0)
                skip(); /* the registry must be root-owned */
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/ids", dir);
        assert_int_equal(idreg_lookup(path, "acme", 65536, 262143, &a, &e), 0);
        assert_int_equal(idreg_lookup(path, "beta", 65536, 262143, &b, &e), 0);
        assert_int_equal(idreg_lookup(path, "acme", 65536, 262143, &a2, &e), 0);
        assert_int_equal(a, 65536);
        assert_int_equal(b, 131072);
        assert_int_equal(a2, a);
        /* a narrower range later never moves a tenant that has a block */
        assert_int_equal(idreg_lookup(path, "beta", 196608, 262143, &b, &e), 0);
        assert_int_equal(b, 131072);
        assert_int_equal(idreg_lookup(path, "gamma", 65536, 196607, &b, &e), -ENOSPC);
        assert_int_equal(e.exit_code, SR_EXIT_REFUSED);
        assert_string_equal(e.reason, "tenant-ids-full");
        assert_int_equal(chmod(path, 0664), 0);
        memset(&e, 0, sizeof e);
        assert_true(idreg_lookup(path, "acme", 65536, 262143, &a, &e) < 0);
        assert_string_equal(e.reason, "tenant-ids");
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(chmod(dir, 0777), 0);
        memset(&e, 0, sizeof e);
        assert_true(idreg_lookup(path, "acme", 65536, 262143, &a, &e) < 0);
        assert_int_equal(e.exit_code, SR_EXIT_REFUSED);
        assert_int_equal(chmod(dir, 0700), 0);
        /* a symlink in place of the file is refused, not followed */
        snprintf(tmp, sizeof tmp, "%s/link", dir);
        assert_int_equal(symlink(path, tmp), 0);
        memset(&e, 0, sizeof e);
        assert_true(idreg_lookup(tmp, "acme", 65536, 262143, &a, &e) < 0);
        assert_int_equal(e.exit_code, SR_EXIT_REFUSED);
        unlink(tmp);
        unlink(path);
        rmdir(dir);
}

/* As root: the ids step puts the tenant's block into the task; the parsed
 * policy keeps its own host ids (an untenanted task gets those). */
static void test_prepare_ids(void **state) {
        char dir[] = "/tmp/test-idreg.XXXXXX", path[64];
        struct sr_error e = { 0 };
        struct policy pol = { .uid = 1000, .gid = 1001, .host_uid = 65534, .host_gid = 65533 };
        struct task t = { .pol = &pol, .as_root = true };
        if (geteuid() != 0)
                skip(); /* the registry must be root-owned */
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/ids", dir);
        assert_int_equal(setenv(IDREG_ENV, path, 1), 0);
        assert_int_equal(sandbox_prepare_ids(&t, &e), 0); /* no tenant */
        assert_false(t.tenant_ids);
        assert_int_equal(t.host_uid, 65534);
        assert_int_equal(t.host_gid, 65533);
        t.cfg.tenant = "acme";
        assert_int_equal(sandbox_prepare_ids(&t, &e), 0);
        assert_true(t.tenant_ids);
        assert_int_equal(t.host_uid, POL_IDS_DEFAULT_FIRST + 1000);
        assert_int_equal(t.host_gid, POL_IDS_DEFAULT_FIRST + 1001);
        assert_int_equal(pol.host_uid, 65534);
        assert_int_equal(pol.host_gid, 65533);
        unsetenv(IDREG_ENV);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_bad),   cmocka_unit_test(test_pick),
                cmocka_unit_test(test_lookup),   cmocka_unit_test(test_prepare_ids),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
