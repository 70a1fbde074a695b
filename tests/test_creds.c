/* Unit tests: the credentials mount (stage read-only, scrub overwrites in place), in a private user+mount namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "launcher/creds_fs.h"
#include "tests/skip.h"

#define CHECK(n, cond) \
        do { \
                if (!(cond)) { \
                        fprintf(stderr, "check %d failed: %s\n", n, #cond); \
                        _exit(n); \
                } \
        } while (0)

static void write_text(const char *path, const char *s) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void)!write(fd, s, strlen(s));
                close(fd);
        }
}

/* Become root of a fresh user namespace with a private mount namespace:
 * works for root and for an unprivileged caller alike. */
static int enter_namespaces(void) {
        char map[64];
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return -errno;
        write_text("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        write_text("/proc/self/uid_map", map);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        write_text("/proc/self/gid_map", map);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        return 0;
}

static void child(void) {
        static const uint8_t secret[] = "CANARY-creds-fs-0123456789";
        struct creds_file files[] = {
                { .name = "tok", .value = secret, .len = sizeof secret - 1 },
                { .name = "empty", .value = (const uint8_t *)"", .len = 0 },
        };
        struct policy pol = { .uid = 0, .gid = 0 };
        struct task t = { .pol = &pol, .sync_child = -1, .sync_parent = -1 };
        struct sr_error e = { 0 };
        char dir[] = "/tmp/sealrun-test-creds.XXXXXX", path[128], buf[64];
        struct stat st;
        int held;
        ssize_t n;

        if (enter_namespaces() < 0)
                _exit(77); /* no user namespaces here: skip */
        CHECK(1, mkdtemp(dir) != NULL);
        CHECK(2, creds_fs_stage(&t, dir, files, 2, &e) == 0);
        snprintf(path, sizeof path, "%s/tok", dir);
        CHECK(3, stat(dir, &st) == 0 && (st.st_mode & 07777) == 0500);
        CHECK(4, stat(path, &st) == 0 && (st.st_mode & 07777) == 0400 && st.st_size == (off_t)(sizeof secret - 1));
        held = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(5, held >= 0);
        n = read(held, buf, sizeof buf);
        CHECK(6, n == (ssize_t)(sizeof secret - 1) && memcmp(buf, secret, (size_t)n) == 0);
        /* read-only even for root of the namespace */
        CHECK(7, open(path, O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
        snprintf(path, sizeof path, "%s/new", dir);
        CHECK(8, open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0);

        /* An open file keeps the mount busy: the scrub wipes and unlinks, then
         * reports that it could not unmount. The held fd shows the wipe
         * happened in place (same pages), not just an unlink. */
        CHECK(9, creds_fs_scrub(&t, dir, &e) < 0 && strstr(e.msg, "cannot unmount"));
        CHECK(10, pread(held, buf, sizeof buf, 0) == (ssize_t)(sizeof secret - 1));
        for (size_t i = 0; i < sizeof secret - 1; i++)
                CHECK(11, buf[i] == 0);
        snprintf(path, sizeof path, "%s/tok", dir);
        CHECK(12, access(path, F_OK) < 0);
        close(held);
        memset(&e, 0, sizeof e);
        CHECK(13, creds_fs_scrub(&t, dir, &e) == 0);
        /* gone: no mount, and scrubbing again is a no-op */
        struct statx stx;
        CHECK(14,
              statx(AT_FDCWD, dir, 0, STATX_BASIC_STATS, &stx) == 0 && !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT));
        CHECK(15, creds_fs_scrub(&t, dir, &e) == 0);
        rmdir(dir);
        /* a symlinked credentials dir is never followed */
        snprintf(path, sizeof path, "%s.link", dir);
        CHECK(16, mkdir(dir, 0700) == 0 && symlink(dir, path) == 0);
        CHECK(17, creds_fs_stage(&t, path, files, 1, &e) < 0);
        unlink(path);
        rmdir(dir);
        _exit(0);
}

static void test_stage_and_scrub_in_place(void **state) {
        int st;
        pid_t pid;
        (void)state;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                child();
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) == 77) {
                sr_skip_reason("no user namespaces on this host");
                skip();
        }
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stage_and_scrub_in_place),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
