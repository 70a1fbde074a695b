/* Unit tests: the locked arena (alloc, wipe on release, roll back, limits) and jansson's allocator switch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "policy/secmem.h"

static void test_alloc_release(void **state) {
        struct secmem *m;
        (void)state;
        assert_int_equal(secmem_new(1u << 20, &m), 0);
        char *a = secmem_alloc(m, 100), *b = secmem_alloc(m, 100);
        assert_non_null(a);
        assert_non_null(b);
        assert_true(((uintptr_t)a & 15) == 0);
        memset(a, 'A', 100);
        memset(b, 'B', 100);
        secmem_release(m, a); /* not on top: wiped in place */
        for (int i = 0; i < 100; i++)
                assert_int_equal(a[i], 0);
        secmem_release(m, b); /* on top: wiped and space reused */
        char *c = secmem_alloc(m, 100);
        assert_ptr_equal(c, b);
        for (int i = 0; i < 100; i++)
                assert_int_equal(c[i], 0);
        /* larger than a chunk: gets its own */
        char *big = secmem_alloc(m, 200000);
        assert_non_null(big);
        memset(big, 1, 200000);
        /* over the limit: refused */
        assert_null(secmem_alloc(m, 2u << 20));
        secmem_release(m, NULL);
        char *s = secmem_strndup(m, "abcdef", 3);
        assert_string_equal(s, "abc");
        secmem_destroy(m);
}

static void test_json_on_arena(void **state) {
        struct secmem *m;
        json_error_t je;
        (void)state;
        assert_int_equal(secmem_new(1u << 20, &m), 0);
        secmem_json_push(m);
        json_t *j = json_loads("{\"k\":\"secret value\",\"a\":[1,2,3]}", 0, &je);
        assert_non_null(j);
        const char *v = json_string_value(json_object_get(j, "k"));
        char *copy = (char *)v;
        json_decref(j);
        /* the string was freed through the arena: wiped */
        assert_int_not_equal(memcmp(copy, "secret value", 12), 0);
        secmem_json_pop();
        j = json_string("after pop"); /* libc allocator again */
        json_decref(j);
        secmem_destroy(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_alloc_release),
                cmocka_unit_test(test_json_on_arena),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
