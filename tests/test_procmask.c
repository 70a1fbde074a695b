/* Unit tests: /proc masking and read-only knobs, and the refusal to mount over what is not procfs. */
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
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "launcher/procmask.h"

static void write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY);
        if (fd < 0 || write(fd, text, strlen(text)) < 0)
                _exit(90);
        close(fd);
}

/* Run fn as pid 1 of new user, mount and pid namespaces, on a private tmpfs root. */
static int in_namespaces(int (*fn)(int root, const char *dir)) {
        int st;
        pid_t pid = fork();
        if (pid == 0) {
                char map[64], dir[] = "/tmp/sr-procmask-XXXXXX";
                uid_t uid = geteuid();
                gid_t gid = getegid();
                if (!mkdtemp(dir) || unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) < 0)
                        _exit(91);
                write_file("/proc/self/setgroups", "deny");
                snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
                write_file("/proc/self/uid_map", map);
                snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
                write_file("/proc/self/gid_map", map);
                pid_t inner = fork();
                if (inner == 0) {
                        char p[64];
                        int root;
                        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                            mount("t", dir, "tmpfs", 0, NULL) < 0)
                                _exit(92);
                        snprintf(p, sizeof p, "%s/proc", dir);
                        if (mkdir(p, 0755) < 0 || mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                                _exit(93);
                        root = open(dir, O_PATH | O_DIRECTORY);
                        _exit(fn(root, dir));
                }
                waitpid(inner, &st, 0);
                rmdir(dir);
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
        }
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static int masks_applied(int root, const char *dir) {
        struct sr_error e = { 0 };
        char p[128], buf[64];
        int fails = 0, fd;
        struct statvfs sv;
        int n = procmask_apply_at(root, NULL, &e);
        if (n <= 0)
                return 1;
        snprintf(p, sizeof p, "%s/proc/keys", dir); /* masked: empty */
        fd = open(p, O_RDONLY);
        fails |= (fd < 0 || read(fd, buf, sizeof buf) != 0) << 1;
        snprintf(p, sizeof p, "%s/proc/timer_list", dir);
        fd = open(p, O_RDONLY);
        fails |= (fd < 0 || read(fd, buf, sizeof buf) != 0) << 2;
        snprintf(p, sizeof p, "%s/proc/sys/kernel", dir); /* a read-only mount, whoever asks */
        fails |= (statvfs(p, &sv) < 0 || !(sv.f_flag & ST_RDONLY)) << 3;
        snprintf(p, sizeof p, "%s/proc/self", dir);
        fails |= (statvfs(p, &sv) < 0 || (sv.f_flag & ST_RDONLY)) << 6;
        snprintf(p, sizeof p, "%s/proc/self/status", dir); /* the rest of /proc still works */
        fails |= (open(p, O_RDONLY) < 0) << 4;
        snprintf(p, sizeof p, "%s/proc/keys", dir); /* the mask itself is read-only */
        fails |= (statvfs(p, &sv) < 0 || !(sv.f_flag & ST_RDONLY)) << 5;
        return fails;
}

static void test_masks(void **state) {
        int r = in_namespaces(masks_applied);
        if (r != 0)
                fail_msg("mask checks failed: 0x%x", r);
}

/* Something that is not procfs where a target should be (a bind from the
 * host over /proc/sys, say): never mounted over, the launch is refused. */
static int swapped_target(int root, const char *dir) {
        struct sr_error e = { 0 };
        char p[128];
        snprintf(p, sizeof p, "%s/proc/sys", dir);
        if (mount("fake", p, "tmpfs", 0, NULL) < 0)
                return 1;
        int r = procmask_apply_at(root, NULL, &e);
        if (r != -EXDEV || e.exit_code != SR_EXIT_REFUSED || !strstr(e.msg, "/proc/sys: not on procfs"))
                return 2;
        return 0;
}

static void test_swapped_target(void **state) {
        int r = in_namespaces(swapped_target);
        if (r != 0)
                fail_msg("a non-procfs target was not refused: %d", r);
}

static int no_proc(int root, const char *dir) {
        struct sr_error e = { 0 };
        char p[128];
        snprintf(p, sizeof p, "%s/proc", dir);
        if (umount2(p, MNT_DETACH) < 0)
                return 1;
        /* nothing to protect: no error, no mask */
        return procmask_apply_at(root, NULL, &e) == 0 ? 0 : 2;
}

static void test_no_proc(void **state) {
        assert_int_equal(in_namespaces(no_proc), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_masks),
                cmocka_unit_test(test_swapped_target),
                cmocka_unit_test(test_no_proc),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
