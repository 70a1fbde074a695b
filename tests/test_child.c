/* Unit tests for launcher/child.c: the order of the launch sequence that security depends on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "launcher/child.h"

/* Index of step `name` in a table; fails the test when it is absent or repeated. */
static size_t idx(const struct child_step *steps, size_t n, const char *table, const char *name) {
        size_t found = n;
        for (size_t i = 0; i < n; i++) {
                assert_non_null(steps[i].name);
                if (strcmp(steps[i].name, name) != 0)
                        continue;
                if (found != n)
                        fail_msg("%s table: step \"%s\" appears twice", table, name);
                found = i;
        }
        if (found == n)
                fail_msg("%s table: no step \"%s\"", table, name);
        return found;
}
#define INIT(name) idx(child_init_steps, child_init_steps_n, "init", name)
#define PAYLOAD(name) idx(child_payload_steps, child_payload_steps_n, "payload", name)

static void before(size_t a, size_t b, const char *an, const char *bn) {
        if (a >= b)
                fail_msg("\"%s\" (step %zu) must come before \"%s\" (step %zu)", an, a, bn, b);
}
#define BEFORE_INIT(a, b) before(INIT(a), INIT(b), a, b)
#define BEFORE_PAYLOAD(a, b) before(PAYLOAD(a), PAYLOAD(b), a, b)

static void test_tables_well_formed(void **state) {
        assert_true(child_init_steps_n > 0);
        assert_true(child_payload_steps_n > 0);
        for (size_t i = 0; i < child_init_steps_n; i++) {
                assert_non_null(child_init_steps[i].name);
                assert_non_null(child_init_steps[i].fn);
                (void)INIT(child_init_steps[i].name); /* unique */
        }
        for (size_t i = 0; i < child_payload_steps_n; i++) {
                assert_non_null(child_payload_steps[i].name);
                assert_non_null(child_payload_steps[i].fn);
                (void)PAYLOAD(child_payload_steps[i].name);
        }
}

static void test_payload_order(void **state) {
        /* decrypt and stage while privileged; then give privileges up */
        BEFORE_PAYLOAD("credentials", "capabilities");
        /* no fd of ours (key, sealed body) survives into the payload */
        BEFORE_PAYLOAD("credentials", "close_fds");
        BEFORE_PAYLOAD("rlimits", "credentials"); /* RLIMIT_CORE 0 before any plaintext */
        /* seccomp filters without CAP_SYS_ADMIN need no_new_privs; and it must be set
         * before anything the payload could exploit */
        BEFORE_PAYLOAD("no_new_privs", "seccomp");
        BEFORE_PAYLOAD("no_new_privs", "landlock");
        BEFORE_PAYLOAD("capabilities", "landlock");
        /* seccomp last: the filter never has to allow our own setup calls */
        size_t s = PAYLOAD("seccomp");
        if (s != child_payload_steps_n - 1)
                fail_msg("\"seccomp\" is step %zu of %zu: it must be the last step", s, child_payload_steps_n);
}

static void test_init_order(void **state) {
        /* bind sources are opened with the sandbox's host ids, after the switch */
        BEFORE_INIT("ids", "mount_sources");
        /* the kernel lets only the host root uid write a sysctl */
        BEFORE_INIT("memfd_noexec", "ids");
        BEFORE_INIT("mount_sources", "mounts");
        BEFORE_INIT("ids", "mounts");
        BEFORE_INIT("mounts", "pivot_root");
        /* the root is made read-only after everything was mounted into it */
        BEFORE_INIT("pivot_root", "root_readonly");
        BEFORE_INIT("mounts", "root_readonly");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tables_well_formed),
                cmocka_unit_test(test_payload_order),
                cmocka_unit_test(test_init_order),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
