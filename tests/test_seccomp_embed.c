/* Unit tests for launcher/seccomp_embed.c: the build-time program is exactly the run-time compile, and is what the
 * stock profile gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <seccomp.h>
#include <string.h>

#include "launcher/seccomp.h"

static void test_embedded_present(void **state) {
        /* make builds it in by default (SECCOMP_EMBED=1); this test is linked with it */
        assert_non_null(&seccomp_stock_embedded_n);
        assert_int_equal(seccomp_stock_embedded_n, 1);
        assert_int_equal(seccomp_stock_embedded[0].arch, seccomp_arch_native());
        assert_non_null(seccomp_embedded_find());
}

/* Byte for byte what libseccomp produces now from the stock JSON. */
static void test_embedded_equals_runtime_compile(void **state) {
        const struct seccomp_embedded *m = seccomp_embedded_find();
        struct policy_seccomp stock = { 0 };
        struct seccomp_bpf b = { 0 };
        struct sr_error e = { 0 };
        assert_non_null(m);
        assert_int_equal(seccomp_compile(&stock, &b, &e), 0);
        assert_int_equal(b.len, m->len);
        assert_int_equal(b.flags, m->flags);
        assert_memory_equal(b.prog, m->prog, b.len * sizeof *b.prog);
        free(b.prog);
}

/* The stock profile (no section, or {"profile": "default"}) takes the
 * embedded program without libseccomp; any other profile is compiled. */
static void test_origin(void **state) {
        struct policy_seccomp unset = { 0 }, builtin = { .set = true, .builtin = true }, custom = { 0 };
        struct seccomp_bpf b = { 0 };
        struct sr_error e = { 0 };
        enum seccomp_origin o = SECCOMP_CACHE_HIT;
        assert_true(seccomp_uses_embedded(&unset));
        assert_true(seccomp_uses_embedded(&builtin));
        assert_int_equal(seccomp_get(&builtin, -1, 0, &b, &o, &e), 0);
        assert_int_equal(o, SECCOMP_EMBEDDED);
        assert_memory_equal(b.prog, seccomp_embedded_find()->prog, b.len * sizeof *b.prog);
        assert_ptr_not_equal(b.prog, seccomp_embedded_find()->prog); /* a copy the task frees */
        free(b.prog);
        /* a custom profile: allow-all with one deny */
        custom.set = true;
        custom.default_action = SCMP_ACT_ALLOW;
        custom.source = "test";
        assert_false(seccomp_uses_embedded(&custom));
        assert_int_equal(seccomp_embedded_get(&custom, &b), -ENOENT);
        memset(&b, 0, sizeof b);
        assert_int_equal(seccomp_get(&custom, -1, 0, &b, &o, &e), 0);
        assert_int_equal(o, SECCOMP_CACHE_OFF);
        free(b.prog);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_embedded_present),
                cmocka_unit_test(test_embedded_equals_runtime_compile),
                cmocka_unit_test(test_origin),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
