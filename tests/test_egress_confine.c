/* Unit tests: launcher/egress_confine.c, the egress proxy's own confinement:
 * each layer is applied in a child, which then tries what it forbids, with
 * the same tries in an unconfined child as the control. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/skip.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher/egress_impl.h"
#include "launcher/landlock.h"

enum { L_NONE, L_SECCOMP, L_LANDLOCK };

/* One bit per try that succeeded: open, socket, execve reached (ENOENT),
 * exec memory, pipe2+splice-size fcntl, write, getrandom. 0xff: setup failed. */
static int tries(int layer) {
        int fds[2], bits = 0, abi;
        char b[8];
        pid_t pid = fork();
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(0xff);
                if (layer == L_SECCOMP && egress_proxy_seccomp() < 0)
                        _exit(0xff);
                if (layer == L_LANDLOCK && landlock_deny_all(&abi) < 0)
                        _exit(0xff);
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        bits |= 1, close(fd);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd >= 0)
                        bits |= 2, close(fd);
                syscall(SYS_execve, "/nonexistent/x", (char *[]){ NULL }, (char *[]){ NULL });
                if (errno == ENOENT)
                        bits |= 4;
                void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m != MAP_FAILED)
                        bits |= 8;
                if (pipe2(fds, O_CLOEXEC) == 0 && fcntl(fds[1], F_SETPIPE_SZ, 65536) > 0)
                        bits |= 16;
                if (write(fds[1], "x", 1) == 1)
                        bits |= 32;
                if (syscall(SYS_getrandom, b, sizeof b, 0) == (long)sizeof b)
                        bits |= 64;
                _exit(bits);
        }
        int st;
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        return WEXITSTATUS(st);
}

static void test_seccomp(void **state) {
        /* control: everything works unconfined */
        assert_int_equal(tries(L_NONE), 127);
        /* the filter: no open, socket, execve or executable memory; pipes,
         * writes and randomness (what moving bytes and TLS need) still work */
        assert_int_equal(tries(L_SECCOMP), 16 | 32 | 64);
}

/* prctl: a thread's name only (the test hook's "sealrun-paused"); never
 * dumpable again, which would open the broker's memory to ptrace. */
static void test_seccomp_prctl(void **state) {
        pid_t pid = fork();
        int st;
        if (pid == 0) {
                int bits = 0;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
                    egress_proxy_seccomp() < 0)
                        _exit(0xff);
                if (prctl(PR_SET_NAME, "sealrun-paused", 0, 0, 0) == 0)
                        bits |= 1;
                if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0)
                        bits |= 2;
                if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1)
                        bits |= 4;
                _exit(bits);
        }
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 1);
}

static void test_landlock(void **state) {
        if (landlock_abi() < 1) {
                sr_skip_reason("the kernel has no Landlock: the proxy runs under its seccomp filter alone");
                skip();
        }
        /* no file can be opened; sockets, memory and pipes are not Landlock's */
        assert_int_equal(tries(L_LANDLOCK), 127 & ~1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seccomp),
                cmocka_unit_test(test_seccomp_prctl),
                cmocka_unit_test(test_landlock),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
