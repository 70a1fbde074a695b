/* Unit tests for launcher/setup.c: the order of the supervisor's launch sequence and its release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "launcher/setup.h"

static size_t idx(const char *name) {
        size_t found = setup_steps_n;
        for (size_t i = 0; i < setup_steps_n; i++) {
                assert_non_null(setup_steps[i].name);
                if (strcmp(setup_steps[i].name, name) != 0)
                        continue;
                if (found != setup_steps_n)
                        fail_msg("setup table: step \"%s\" appears twice", name);
                found = i;
        }
        if (found == setup_steps_n)
                fail_msg("setup table: no step \"%s\"", name);
        return found;
}

static void before(const char *a, const char *b) {
        if (idx(a) >= idx(b))
                fail_msg("\"%s\" (step %zu) must come before \"%s\" (step %zu)", a, idx(a), b, idx(b));
}

static void test_well_formed(void **state) {
        assert_true(setup_steps_n > 0);
        for (size_t i = 0; i < setup_steps_n; i++) {
                assert_non_null(setup_steps[i].prepare);
                (void)idx(setup_steps[i].name); /* unique */
        }
        /* the task's steps all come first: then "released in reverse" holds
         * across the report, which sits between the two phases */
        for (size_t i = 1; i < setup_steps_n; i++)
                if (setup_steps[i - 1].phase == SETUP_SANDBOX && setup_steps[i].phase == SETUP_TASK)
                        fail_msg("task step \"%s\" after sandbox step \"%s\"", setup_steps[i].name,
                                 setup_steps[i - 1].name);
}

static void test_order(void **state) {
        /* the command line is resolved before anything is created */
        assert_int_equal(idx("policy"), 0);
        /* the tenant's ids decide who opens anything */
        before("ids", "audit");
        before("ids", "network");
        /* a credentials refusal is a deny event: the audit connection first */
        before("audit", "credentials");
        /* refusals (header, trust, slots) before any host resource */
        before("credentials", "network");
        before("slot", "network");
        before("credentials", "cgroup");
        /* the mount plan is complete before the clone: network and
         * credentials contribute to it, the seccomp cache check reads it */
        before("network", "mounts");
        before("credentials", "mounts");
        before("mounts", "seccomp");
        before("mounts", "clone");
        /* the filter is compiled on the host side, before the sandbox exists */
        before("seccomp", "clone");
        /* CLONE_INTO_CGROUP needs the cgroup */
        before("cgroup", "clone");
        /* the launch is acknowledged before the sandbox exists */
        before("launch", "clone");
        before("clone", "cgroup_attach");
        before("clone", "network_parent");
        assert_int_equal(idx("go"), setup_steps_n - 1);
}

static void test_phases(void **state) {
        assert_int_equal(setup_steps[idx("audit")].phase, SETUP_TASK);
        assert_int_equal(setup_steps[idx("slot")].phase, SETUP_TASK);
        assert_int_equal(setup_steps[idx("cgroup")].phase, SETUP_SANDBOX);
        assert_int_equal(setup_steps[idx("network")].phase, SETUP_SANDBOX);
        assert_int_equal(setup_steps[idx("clone")].phase, SETUP_SANDBOX);
        assert_int_equal(setup_steps[idx("mounts")].phase, SETUP_SANDBOX);
        /* what holds host resources is released */
        assert_non_null(setup_steps[idx("policy")].release);
        assert_non_null(setup_steps[idx("audit")].release);
        assert_non_null(setup_steps[idx("credentials")].release);
        assert_non_null(setup_steps[idx("slot")].release);
        assert_non_null(setup_steps[idx("network")].release);
        assert_non_null(setup_steps[idx("mounts")].release);
        assert_non_null(setup_steps[idx("seccomp")].release);
        assert_non_null(setup_steps[idx("cgroup")].release);
        assert_non_null(setup_steps[idx("clone")].release);
}

/* Nothing prepared, nothing released: a release of zero steps touches nothing. */
static void test_release_nothing(void **state) {
        struct task t = { .pidfd = -1 };
        setup_release(&t, 0, SETUP_SANDBOX);
        setup_release(&t, 0, SETUP_TASK);
        assert_null(t.pol);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_well_formed),
                cmocka_unit_test(test_order),
                cmocka_unit_test(test_phases),
                cmocka_unit_test(test_release_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
