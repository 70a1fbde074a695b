/* noclone3 COMMAND [ARG...]: run COMMAND under a seccomp filter that answers
 * clone3 with ENOSYS, as an old kernel or Docker's default seccomp profile
 * (without CAP_SYS_ADMIN) does. Checks that clone3 really fails that way
 * before it runs COMMAND (exit 125 otherwise), so a test using it cannot pass
 * by testing nothing. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "noclone3: add this architecture's AUDIT_ARCH"
#endif

int main(int argc, char **argv) {
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
        struct clone_args ca = { .exit_signal = SIGCHLD };
        long pid;

        if (argc < 2) {
                fprintf(stderr, "usage: noclone3 COMMAND [ARG...]\n");
                return 125;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
                fprintf(stderr, "noclone3: cannot load the filter: %s\n", strerror(errno));
                return 125;
        }
        pid = syscall(SYS_clone3, &ca, sizeof ca);
        if (pid == 0)
                _exit(0);
        if (pid > 0) {
                waitpid((pid_t)pid, NULL, 0);
                fprintf(stderr, "noclone3: clone3 still works under the filter\n");
                return 125;
        }
        if (errno != ENOSYS) {
                fprintf(stderr, "noclone3: clone3 failed with %s, not ENOSYS\n", strerror(errno));
                return 125;
        }
        execvp(argv[1], argv + 1);
        fprintf(stderr, "noclone3: %s: %s\n", argv[1], strerror(errno));
        return 127;
}
