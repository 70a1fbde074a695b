/* Unit tests of the trusted-file check: owner root or the caller, mode not
 * writable by others (secret: not accessible), unlinked secrets pass. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "policy/trusted_file.h"

static char path[64];

static int setup(void **state) {
        int fd;
        snprintf(path, sizeof path, "/tmp/ut-trusted-XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        return 0;
}

static int teardown(void **state) {
        return unlink(path);
}

/* The check on `path` with mode m; 0 or the refusal's reason in e. */
static int check_mode(mode_t m, unsigned flags, struct sr_error *e) {
        int fd, r;
        memset(e, 0, sizeof *e);
        assert_int_equal(chmod(path, m), 0);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        r = trusted_file_check(fd, path, "policy", "policy-permissions", flags, e);
        close(fd);
        return r;
}

static void test_modes(void **state) {
        struct sr_error e;
        assert_int_equal(check_mode(0644, 0, &e), 0);
        assert_int_equal(check_mode(0600, 0, &e), 0);
        assert_int_equal(check_mode(0444, 0, &e), 0);
        assert_int_equal(check_mode(0666, 0, &e), -EPERM);
        assert_int_equal(e.exit_code, SR_EXIT_REFUSED);
        assert_string_equal(e.reason, "policy-permissions");
        assert_non_null(strstr(e.msg, path));
        assert_non_null(strstr(e.msg, "policy is writable by group or others (mode 0666)"));
        assert_int_equal(check_mode(0620, 0, &e), -EPERM);
        assert_int_equal(check_mode(0602, 0, &e), -EPERM);
        /* secret: readable by group or others is already too much */
        assert_int_equal(check_mode(0600, TRUSTED_FILE_SECRET, &e), 0);
        assert_int_equal(check_mode(0640, TRUSTED_FILE_SECRET, &e), -EPERM);
        assert_non_null(strstr(e.msg, "accessible by group or others (mode 0640)"));
        assert_int_equal(check_mode(0604, TRUSTED_FILE_SECRET, &e), -EPERM);
}

static void test_owner(void **state) {
        struct sr_error e;
        if (geteuid() != 0)
                skip(); /* giving a file to another uid needs root */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(check_mode(0644, 0, &e), -EPERM);
        assert_non_null(strstr(e.msg, "owned by uid 65534, not by you or root"));
        assert_int_equal(chown(path, 0, 0), 0);
        assert_int_equal(check_mode(0644, 0, &e), 0);
}

static void test_unlinked_secret(void **state) {
        struct sr_error e = { 0 };
        /* a memfd is mode 0777 but reachable through its fd alone */
        int fd = memfd_create("key", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(trusted_file_check(fd, "--key-fd 3", "secret key", "key-permissions", TRUSTED_FILE_SECRET, &e),
                         0);
        /* not a secret: a trust anchor must not be writable, fd or not */
        assert_int_equal(trusted_file_check(fd, "memfd", "public key", "key-permissions", 0, &e), -EPERM);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
                cmocka_unit_test(test_unlinked_secret),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
