/* Escape suite: syscalls newer than the filter's table, vsock sockets and executable memfds.
 *
 * A syscall the kernel lacks answers ENOSYS with or without a filter, and
 * a socket family the kernel lacks answers EAFNOSUPPORT, so their probes
 * ask a question the kernel's own answer cannot fake: does the call get
 * past the filters already installed? The probe stacks one more filter
 * that asks for a user notification for that syscall. The kernel runs
 * every filter and takes the strictest answer, and ERRNO, TRAP and KILL
 * all outrank USER_NOTIF: a notification arrives exactly when every
 * earlier filter let the call through. The call is then allowed to
 * continue into the kernel, whose answer goes into the detail. */
#include "integration/escape/escape.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR_STATMOUNT 457
#define NR_LISTMOUNT 458
#define NR_OPEN_TREE_ATTR 467
#define NR_NEVER 1000 /* no architecture has assigned it */
#define AF_VSOCK_ 40
#define MFD_CLOEXEC_ 0x1U
#define MFD_EXEC_ 0x10U /* Linux 6.3 */

static int notify_filter(long nr) {
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog p = { .len = sizeof f / sizeof *f, .filter = f };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &p);
}

/* allowed: the call reached our notifier (every earlier filter let it
 * pass); denied: it came back with an error without reaching it. */
static void reach(struct outcome *o, long nr, const long a[6], const char *what) {
        int listener = notify_filter(nr), st = 0, err, pfd[2];
        bool notified = false;
        pid_t pid;
        if (listener < 0) {
                o->result = R_SKIPPED;
                o->err = errno;
                set_detail(o, "cannot install a user-notification filter to observe %s: %s", what, strerror(errno));
                return;
        }
        if (pipe(pfd) < 0) {
                o->result = R_SKIPPED;
                set_detail(o, "pipe: %s", strerror(errno));
                return;
        }
        pid = fork();
        if (pid == 0) {
                long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
                int e = r < 0 ? errno : 0;
                if (write(pfd[1], &e, sizeof e) != (ssize_t)sizeof e)
                        _exit(1);
                _exit(0);
        }
        close(pfd[1]);
        for (int waited = 0; pid > 0 && waited < 5000; waited += 50) {
                struct pollfd p = { .fd = listener, .events = POLLIN };
                if (poll(&p, 1, 50) > 0 && (p.revents & POLLIN)) {
                        struct seccomp_notif req;
                        struct seccomp_notif_resp resp;
                        memset(&req, 0, sizeof req);
                        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
                                memset(&resp, 0, sizeof resp);
                                resp.id = req.id;
                                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                                ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
                                notified = true;
                                break;
                        }
                }
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        pid = 0;
                        break;
                }
        }
        if (pid > 0)
                waitpid(pid, &st, 0);
        if (read(pfd[0], &err, sizeof err) != (ssize_t)sizeof err)
                err = -1;
        if (notified) {
                o->result = R_ALLOWED;
                o->err = err > 0 ? err : 0;
                set_detail(o, "%s got past the filters; the kernel then answered %s", what,
                           err == 0  ? "success"
                           : err > 0 ? strerrorname_np(err)
                                     : "nothing");
        } else if (WIFSIGNALED(st)) {
                o->result = R_KILLED;
                set_detail(o, "%s: killed by signal %d before reaching the kernel", what, WTERMSIG(st));
        } else if (err > 0) {
                o->result = R_DENIED;
                o->err = err;
                set_detail(o, "%s refused by a filter (%s) before reaching the kernel", what, strerrorname_np(err));
        } else {
                o->result = R_SKIPPED;
                set_detail(o, "%s: succeeded without notifying us, the observer failed", what);
        }
}

static void p_open_tree_attr(const struct ctx *c, struct outcome *o) {
        /* a bad fd: EBADF if it gets to the kernel */
        const long a[6] = { -1, (long)"", 0, 0, 0, 0 };
        reach(o, NR_OPEN_TREE_ATTR, a, "open_tree_attr (467)");
}

static void p_statmount(const struct ctx *c, struct outcome *o) {
        const long a[6] = { 0, 0, 0, 0, 0, 0 };
        reach(o, NR_STATMOUNT, a, "statmount (457)");
}

static void p_listmount(const struct ctx *c, struct outcome *o) {
        const long a[6] = { 0, 0, 0, 0, 0, 0 };
        reach(o, NR_LISTMOUNT, a, "listmount (458)");
}

static void p_never_assigned(const struct ctx *c, struct outcome *o) {
        const long a[6] = { 0, 0, 0, 0, 0, 0 };
        reach(o, NR_NEVER, a, "syscall 1000 (never assigned)");
}

static void p_vsock(const struct ctx *c, struct outcome *o) {
        /* vsock is not network-namespaced: from a VM guest it reaches the host */
        const long a[6] = { AF_VSOCK_, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0 };
        reach(o, SYS_socket, a, "socket(AF_VSOCK)");
}

/* Run our own program from a memfd: the code never passed through a mount
 * or a Landlock rule that could have refused to execute it. */
static void p_memfd_exec(const struct ctx *c, struct outcome *o) {
        static const int deny[] = { EPERM, EACCES, ENOSYS, 0 };
        char buf[65536];
        int fd, self, st;
        ssize_t n;
        pid_t pid;
        fd = (int)syscall(SYS_memfd_create, "escape", MFD_CLOEXEC_ | MFD_EXEC_);
        if (fd < 0) /* before 6.3 MFD_EXEC is EINVAL; vm.memfd_noexec=2 answers EACCES */
                fd = (int)syscall(SYS_memfd_create, "escape", MFD_CLOEXEC_);
        if (fd < 0) {
                set_result(o, -1, errno, deny, "memfd_create refused");
                return;
        }
        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0) {
                o->result = R_SKIPPED;
                set_detail(o, "cannot read /proc/self/exe: %s", strerror(errno));
                return;
        }
        while ((n = read(self, buf, sizeof buf)) > 0)
                if (write(fd, buf, (size_t)n) != n) {
                        o->result = R_SKIPPED;
                        set_detail(o, "cannot fill the memfd: %s", strerror(errno));
                        return;
                }
        (void)fchmod(fd, 0755); /* refused on a sealed one; the exec decides */
        pid = fork();
        if (pid == 0) {
                char *argv[] = { "escape", "--exit-42", NULL }, *envp[] = { NULL };
                int dn = open("/dev/null", O_WRONLY);
                if (dn >= 0)
                        dup2(dn, 1);
                syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
                _exit(errno < 100 ? 100 + errno : 99);
        }
        if (pid < 0 || waitpid(pid, &st, 0) != pid) {
                o->result = R_SKIPPED;
                set_detail(o, "fork: %s", strerror(errno));
                return;
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 42)
                set_result(o, 0, 0, deny, "execveat(memfd, AT_EMPTY_PATH) ran our program");
        else if (WIFEXITED(st) && WEXITSTATUS(st) >= 100)
                set_result(o, -1, WEXITSTATUS(st) - 100, deny, "execveat(memfd, AT_EMPTY_PATH) refused");
        else {
                o->result = WIFSIGNALED(st) ? R_KILLED : R_SKIPPED;
                set_detail(o, "execveat(memfd): status 0x%x", st);
        }
}

const struct probe probes_new[] = {
        { "open_tree_attr_467", p_open_tree_attr }, { "statmount_457", p_statmount }, { "listmount_458", p_listmount },
        { "syscall_1000", p_never_assigned },       { "vsock_socket", p_vsock },      { "memfd_exec", p_memfd_exec },
};
const size_t probes_new_n = sizeof probes_new / sizeof *probes_new;
