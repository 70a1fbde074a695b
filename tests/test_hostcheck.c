/* Unit tests of the host diagnosis: every cause (AppArmor restriction, sysctls,
 * max_user_namespaces, an enclosing seccomp filter, a container) read from a
 * fake /proc/sys + securityfs tree under $SEALRUN_HOST_ROOT, the launch error
 * rewrite, the id-map check, and the probes' child runner. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "launcher/hostcheck_impl.h"

static char root[64];

static void put(const char *path, const char *text) {
        char full[512], dir[512], *slash;
        FILE *f;
        snprintf(full, sizeof full, "%s%s", root, path);
        snprintf(dir, sizeof dir, "%s", full);
        for (slash = strchr(dir + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                mkdir(dir, 0755);
                *slash = '/';
        }
        if (!text) {
                mkdir(full, 0755);
                return;
        }
        f = fopen(full, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static int setup(void **state) {
        snprintf(root, sizeof root, "/tmp/sealrun-hc.XXXXXX");
        assert_non_null(mkdtemp(root));
        setenv("SEALRUN_HOST_ROOT", root, 1);
        unsetenv("KUBERNETES_SERVICE_HOST");
        put("/proc/sys/user/max_user_namespaces", "15000\n");
        put("/proc/self/status", "Name:\tx\nSeccomp:\t0\n");
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        unsetenv("SEALRUN_HOST_ROOT");
        return 0;
}

static void test_apparmor_restricted(void **state) {
        struct hc_cause c;
        put("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
        /* The sysctl alone is not enough: AppArmor must be enabled. */
        hostcheck_userns_cause(EPERM, false, &c);
        assert_string_not_equal(c.reason, "userns-restricted");
        put("/sys/kernel/security/apparmor", NULL);
        assert_true(hostcheck_apparmor_enabled());
        hostcheck_userns_cause(EPERM, false, &c);
        assert_string_equal(c.reason, "userns-restricted");
        assert_non_null(strstr(c.what, "kernel.apparmor_restrict_unprivileged_userns=1"));
        assert_non_null(strstr(c.fix, "install the sealrun AppArmor profile or run as root"));
        /* err 0: created, but no capabilities (how the restriction shows) */
        hostcheck_userns_cause(0, false, &c);
        assert_string_equal(c.reason, "userns-restricted");
        /* under sealrun's own profile the restriction is not the cause */
        put("/proc/self/attr/apparmor/current", "sealrun (unconfined)\n");
        hostcheck_userns_cause(0, false, &c);
        assert_string_equal(c.reason, "userns-no-caps");
        put("/proc/self/attr/apparmor/current", "unconfined\n");
        hostcheck_userns_cause(0, false, &c);
        assert_string_equal(c.reason, "userns-restricted");
        /* root is not restricted */
        hostcheck_userns_cause(EPERM, true, &c);
        assert_string_not_equal(c.reason, "userns-restricted");
        put("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0\n");
        hostcheck_userns_cause(EPERM, false, &c);
        assert_string_not_equal(c.reason, "userns-restricted");
}

static void test_module_parameter(void **state) {
        assert_false(hostcheck_apparmor_enabled());
        put("/sys/module/apparmor/parameters/enabled", "N\n");
        assert_false(hostcheck_apparmor_enabled());
        put("/sys/module/apparmor/parameters/enabled", "Y\n");
        assert_true(hostcheck_apparmor_enabled());
}

static void test_sysctls(void **state) {
        struct hc_cause c;
        put("/proc/sys/kernel/unprivileged_userns_clone", "0\n");
        hostcheck_userns_cause(EPERM, false, &c);
        assert_string_equal(c.reason, "userns-disabled");
        assert_non_null(strstr(c.what, "kernel.unprivileged_userns_clone=0"));
        hostcheck_userns_cause(EPERM, true, &c); /* root is not concerned */
        assert_string_not_equal(c.reason, "userns-disabled");
        put("/proc/sys/user/max_user_namespaces", "0\n");
        hostcheck_userns_cause(ENOSPC, false, &c);
        assert_string_equal(c.reason, "userns-limit");
        assert_non_null(strstr(c.what, "user.max_user_namespaces=0"));
        assert_null(strstr(c.fix, "optional"));
        hostcheck_userns_cause(ENOSPC, true, &c); /* root hears about "optional" */
        assert_non_null(strstr(c.fix, "\"user\": \"optional\""));
        put("/proc/sys/user/max_user_namespaces", "7\n");
        hostcheck_userns_cause(ENOSPC, false, &c);
        assert_string_equal(c.reason, "userns-limit");
        assert_non_null(strstr(c.what, "=7"));
        /* a namespace that was created was not stopped by a limit */
        put("/proc/sys/user/max_user_namespaces", "0\n");
        hostcheck_userns_cause(0, false, &c);
        assert_string_equal(c.reason, "userns-no-caps");
}

static void test_seccomp_and_container(void **state) {
        struct hc_cause c;
        assert_false(hostcheck_seccomp_filtered());
        assert_null(hostcheck_container());
        hostcheck_userns_cause(EPERM, false, &c);
        assert_string_equal(c.reason, "userns-unavailable");
        put("/.dockerenv", "");
        assert_string_equal(hostcheck_container(), "docker");
        hostcheck_userns_cause(EPERM, false, &c);
        assert_string_equal(c.reason, "userns-container");
        put("/proc/self/status", "Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t1\n");
        assert_true(hostcheck_seccomp_filtered());
        hostcheck_userns_cause(EPERM, false, &c);
        assert_string_equal(c.reason, "userns-seccomp");
        assert_non_null(strstr(c.what, "(docker)"));
        hostcheck_rootns_cause(ENOSYS, &c);
        assert_string_equal(c.reason, "ns-seccomp");
}

static void test_annotate(void **state) {
        struct sr_error e = { 0 };
        put("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
        put("/sys/kernel/security/apparmor", NULL);
        /* the supervisor's id-map write refused: the cause and fix, one line */
        sr_fail(&e, SR_EXIT_LAUNCHER, EPERM, "userns", "cannot write /proc/1/uid_map: Operation not permitted");
        hostcheck_annotate(&e, false, true);
        assert_string_equal(e.reason, "userns-restricted");
        assert_non_null(strstr(
                e.msg, "user namespaces are restricted by AppArmor (kernel.apparmor_restrict_unprivileged_userns=1): "
                       "install the sealrun AppArmor profile or run as root"));
        assert_null(strchr(e.msg, '\n'));
        /* a step the host has nothing to do with, or another errno: unchanged */
        sr_fail(&e, SR_EXIT_LAUNCHER, EPERM, "landlock", "landlock: nope");
        hostcheck_annotate(&e, false, true);
        assert_string_equal(e.reason, "landlock");
        sr_fail(&e, SR_EXIT_LAUNCHER, ENOENT, "mounts", "bind source /x: No such file or directory");
        hostcheck_annotate(&e, false, true);
        assert_string_equal(e.reason, "mounts");
        /* nothing explains an EPERM in a setup step: the step's message stays */
        put("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0\n");
        sr_fail(&e, SR_EXIT_LAUNCHER, EPERM, "mounts", "mount /x: Operation not permitted");
        hostcheck_annotate(&e, false, true);
        assert_string_equal(e.reason, "mounts");
        assert_string_equal(e.msg, "mount /x: Operation not permitted");
        /* the clone itself always gets a cause */
        put("/proc/sys/user/max_user_namespaces", "0\n");
        sr_fail(&e, SR_EXIT_LAUNCHER, ENOSPC, "clone",
                "cannot create the sandbox namespaces (clone3: No space left on device)");
        hostcheck_annotate(&e, true, true);
        assert_string_equal(e.reason, "userns-limit");
        assert_non_null(strstr(e.msg, "(reason: userns-limit; clone failed: No space left on device)"));
        /* without a user namespace, only the clone is about the host */
        sr_fail(&e, SR_EXIT_LAUNCHER, EPERM, "ids", "setgroups: Operation not permitted");
        hostcheck_annotate(&e, true, false);
        assert_string_equal(e.reason, "ids");
}

static void test_host_root_is_absolute_only(void **state) {
        char v[32];
        setenv("SEALRUN_HOST_ROOT", "relative/dir", 1);
        assert_string_equal(hostcheck_root(), "");
        /* the real file is read then */
        assert_int_equal(hostcheck_read("/proc/sys/kernel/ostype", v, sizeof v), 0);
        assert_string_equal(v, "Linux");
        setenv("SEALRUN_HOST_ROOT", root, 1);
        assert_int_equal(hostcheck_read("/proc/sys/kernel/ostype", v, sizeof v), -ENOENT);
}

static void test_ids_usable(void **state) {
        /* Reads the real /proc whatever SEALRUN_HOST_ROOT says: a decision. */
        char line[128] = "";
        unsigned in, out, count;
        FILE *f = fopen("/proc/self/uid_map", "re");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_int_equal(sscanf(line, "%u %u %u", &in, &out, &count), 3);
        if (count > 65535)
                assert_int_equal(hostcheck_ids_usable(65534, 65534), 0);
        assert_int_equal(hostcheck_ids_usable((uid_t)(in + count), 0), -ERANGE);
}

static int exit_with(void *arg) {
        return -(int)(intptr_t)arg;
}

static int die(void *arg) {
        raise(SIGKILL);
        return 0;
}

static void test_run(void **state) {
        char b[64];
        assert_int_equal(hc_run(exit_with, (void *)0), 0);
        assert_int_equal(hc_run(exit_with, (void *)(intptr_t)EPERM), -EPERM);
        assert_int_equal(hc_run(die, NULL), HC_KILLED(SIGKILL));
        assert_string_equal(hc_strerror(HC_KILLED(SIGSYS), b, sizeof b), "killed by signal 31");
        assert_string_equal(hc_strerror(-EPERM, b, sizeof b), "Operation not permitted");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_apparmor_restricted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_module_parameter, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sysctls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_seccomp_and_container, setup, teardown),
                cmocka_unit_test_setup_teardown(test_annotate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_root_is_absolute_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ids_usable, setup, teardown),
                cmocka_unit_test(test_run),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
