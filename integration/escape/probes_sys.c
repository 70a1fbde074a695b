/* Escape suite: probes that go through system calls (terminal injection, tracing, namespaces, kernel interfaces, ABIs).
 */
#include "integration/escape/escape.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Values from the UAPI, spelled out so the program builds on any libc headers. */
#define X32_SYSCALL_BIT 0x40000000L
#define KEXEC_SEGMENT_MAX 16
#define UFFD_USER_MODE_ONLY 1
#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_SESSION_KEYRING -3
#define BPF_MAP_CREATE 0
#define BPF_MAP_TYPE_ARRAY 2

static volatile uint64_t marker = 0x5ea1ed5ea1edULL;

/* A pty whose slave becomes our controlling terminal: TIOCSTI needs one. */
static int open_ctty(struct outcome *o) {
        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s;
        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
                o->result = R_SKIPPED;
                o->err = errno;
                set_detail(o, "no pseudo-terminal to test with: %s", strerror(errno));
                return -1;
        }
        setsid();
        s = open(ptsname(m), O_RDWR | O_CLOEXEC);
        if (s < 0) {
                o->result = R_SKIPPED;
                o->err = errno;
                set_detail(o, "cannot open the pty slave: %s", strerror(errno));
                return -1;
        }
        ioctl(s, TIOCSCTTY, 0);
        return s;
}

static void sti(struct outcome *o, unsigned long cmd, const char *what) {
        char ch = 'x';
        int s = open_ctty(o);
        if (s < 0)
                return;
        long r = syscall(SYS_ioctl, s, cmd, &ch);
        /* EIO: dev.tty.legacy_tiocsti=0 refuses it in the kernel. */
        static const int deny[] = { EPERM, EACCES, EIO, 0 };
        set_result(o, r, errno, deny, "%s on our own controlling pty", what);
}

static void p_tiocsti(const struct ctx *c, struct outcome *o) {
        sti(o, TIOCSTI, "ioctl(TIOCSTI)");
}

static void p_tiocsti_hi(const struct ctx *c, struct outcome *o) {
        /* The kernel drops the upper 32 bits of the command; a filter that
         * compares all 64 would let this through (CVE-2019-10063). */
        sti(o, (unsigned long)TIOCSTI | (1UL << 32), "ioctl(TIOCSTI | 1<<32)");
}

static void p_tioclinux(const struct ctx *c, struct outcome *o) {
        char sub[2] = { 6, 0 }; /* TIOCL_GETSEL: harmless when it gets through */
        int s = open_ctty(o);
        if (s < 0)
                return;
        long r = syscall(SYS_ioctl, s, 0x541CUL, sub);
        /* On a pty the driver answers ENOTTY/EINVAL: the call got through. */
        set_result(o, r, errno, DENY_PERM, "ioctl(TIOCLINUX) reached the tty layer unless denied");
}

static void p_ptrace_pid1(const struct ctx *c, struct outcome *o) {
        long r = ptrace(PTRACE_SEIZE, c->target, 0, 0);
        set_result(o, r, errno, DENY_PERM, "PTRACE_SEIZE of pid %d (init unless --target-self)", (int)c->target);
}

static void p_ptrace_parent(const struct ctx *c, struct outcome *o) {
        /* Our parent is the suite's main process: same uid, dumpable. */
        long r = ptrace(PTRACE_SEIZE, getppid(), 0, 0);
        set_result(o, r, errno, DENY_PERM, "PTRACE_SEIZE of our parent, pid %d", (int)getppid());
}

static void p_process_vm_readv(const struct ctx *c, struct outcome *o) {
        uint64_t got = 0;
        struct iovec l = { &got, sizeof got }, rm = { (void *)&marker, sizeof marker };
        long r = syscall(SYS_process_vm_readv, c->target, &l, 1, &rm, 1, 0);
        /* EFAULT/ESRCH after the access check still means the check passed. */
        set_result(o, r, errno, DENY_PERM, "process_vm_readv of pid %d%s", (int)c->target,
                   r == sizeof got && got == marker ? " returned its memory" : "");
}

static pid_t clone3_raw(uint64_t flags) {
        struct clone_args ca;
        memset(&ca, 0, sizeof ca);
        ca.flags = flags;
        ca.exit_signal = SIGCHLD;
        return (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
}

static void p_userns_unshare(const struct ctx *c, struct outcome *o) {
        long r = unshare(CLONE_NEWUSER);
        set_result(o, r, errno, DENY_PERM, "unshare(CLONE_NEWUSER)");
}

static void p_userns_clone3(const struct ctx *c, struct outcome *o) {
        pid_t p = clone3_raw(CLONE_NEWUSER);
        if (p == 0)
                _exit(0);
        int err = errno;
        if (p > 0)
                waitpid(p, NULL, 0);
        /* ENOSYS is the stock filter's answer to clone3. */
        set_result(o, p, err, DENY_SECCOMP_NS, "clone3(CLONE_NEWUSER)");
}

static void p_userns_clone(const struct ctx *c, struct outcome *o) {
        pid_t p = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
        if (p == 0)
                _exit(0);
        int err = errno;
        if (p > 0)
                waitpid(p, NULL, 0);
        set_result(o, p, err, DENY_PERM, "clone(CLONE_NEWUSER)");
}

/* Mount where it harms nobody: in a new mount namespace when we can make
 * one, else on a fresh directory that is unmounted again at once. */
static void p_mount(const struct ctx *c, struct outcome *o) {
        char dir[] = "/tmp/escape-mnt-XXXXXX";
        const char *target = "/tmp";
        bool ns = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 || unshare(CLONE_NEWNS) == 0;
        if (ns)
                mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
        else if (mkdtemp(dir))
                target = dir;
        else {
                o->result = R_SKIPPED;
                set_detail(o, "no directory to mount on");
                return;
        }
        long r = mount("escape", target, "tmpfs", 0, "size=4k");
        int err = errno;
        if (r == 0 && !ns)
                umount2(target, MNT_DETACH);
        if (!ns)
                rmdir(dir);
        set_result(o, r, err, DENY_PERM_RO, "mount tmpfs on %s%s", target, ns ? " in a new mount namespace" : "");
}

static void p_pivot_root(const struct ctx *c, struct outcome *o) {
        bool ns = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 || unshare(CLONE_NEWNS) == 0;
        /* The permission check comes before the lookups: ENOENT means it passed. */
        long r = syscall(SYS_pivot_root, "/escape-none-new", "/escape-none-old");
        set_result(o, r, errno, DENY_PERM, "pivot_root%s", ns ? " in a new mount namespace" : "");
}

static void p_setns(const struct ctx *c, struct outcome *o) {
        static const char *const kinds[] = { "mnt", "net", "uts", "ipc", "pid", "cgroup", "user" };
        char path[64], got[160] = "";
        int first_err = 0, ok = 0;
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)c->target, kinds[i]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                int r = fd < 0 ? -1 : setns(fd, 0);
                int err = errno;
                if (fd >= 0)
                        close(fd);
                if (r == 0) {
                        ok++;
                        strncat(got, kinds[i], sizeof got - strlen(got) - 2);
                        strcat(got, " ");
                } else if (!first_err || (first_err == ENOENT && err != ENOENT)) {
                        first_err = err;
                }
        }
        if (ok) {
                o->result = R_ALLOWED;
                set_detail(o, "setns into /proc/%d/ns: %s", (int)c->target, got);
        } else {
                set_result(o, -1, first_err, DENY_PERM, "setns into /proc/%d/ns/* refused", (int)c->target);
                if (first_err == EINVAL) /* opened, but joining our own namespace is EINVAL */
                        o->result = R_ALLOWED;
        }
}

static void p_keyctl(const struct ctx *c, struct outcome *o) {
        long r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
        set_result(o, r, errno, DENY_PERM, "keyctl(KEYCTL_GET_KEYRING_ID)");
}

static void p_bpf(const struct ctx *c, struct outcome *o) {
        union {
                struct {
                        uint32_t map_type, key_size, value_size, max_entries;
                } m;
                char pad[128];
        } attr;
        memset(&attr, 0, sizeof attr);
        attr.m.map_type = BPF_MAP_TYPE_ARRAY;
        attr.m.key_size = 4;
        attr.m.value_size = 4;
        attr.m.max_entries = 1;
        long r = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
        set_result(o, r, errno, DENY_PERM, "bpf(BPF_MAP_CREATE)");
}

static void p_perf_event_open(const struct ctx *c, struct outcome *o) {
        struct perf_event_attr a;
        memset(&a, 0, sizeof a);
        a.size = sizeof a;
        a.type = PERF_TYPE_SOFTWARE;
        a.config = PERF_COUNT_SW_TASK_CLOCK;
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        long r = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
        set_result(o, r, errno, DENY_PERM, "perf_event_open(task clock of ourselves)");
}

static void p_userfaultfd(const struct ctx *c, struct outcome *o) {
        long r = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
        set_result(o, r, errno, DENY_PERM, "userfaultfd(UFFD_USER_MODE_ONLY)");
}

static void p_io_uring_setup(const struct ctx *c, struct outcome *o) {
        char params[120];
        memset(params, 0, sizeof params);
        long r = syscall(SYS_io_uring_setup, 1, params);
        set_result(o, r, errno, DENY_PERM, "io_uring_setup(1)");
}

static void p_kexec_load(const struct ctx *c, struct outcome *o) {
        /* Too many segments and bad flags: EINVAL once past the capability check. */
        long r = syscall(SYS_kexec_load, 0UL, (unsigned long)KEXEC_SEGMENT_MAX + 1, NULL, 0xdead0000UL);
        set_result(o, r, errno, DENY_PERM, "kexec_load with invalid arguments");
}

static void p_init_module(const struct ctx *c, struct outcome *o) {
        long r = syscall(SYS_init_module, NULL, 0UL, "");
        set_result(o, r, errno, DENY_PERM, "init_module(NULL, 0)");
}

static void p_open_by_handle_at(const struct ctx *c, struct outcome *o) {
        struct {
                unsigned int bytes;
                int type;
                unsigned char h[16];
        } fh = { 8, 1, { 0 } };
        int mfd = open("/", O_PATH | O_CLOEXEC);
        long r = syscall(SYS_open_by_handle_at, mfd, &fh, O_RDONLY);
        /* ESTALE/EINVAL: the handle was looked at, so the check passed. */
        set_result(o, r, errno, DENY_PERM, "open_by_handle_at with a made-up handle");
}

static void p_x32_getpid(const struct ctx *c, struct outcome *o) {
        long r = syscall(X32_SYSCALL_BIT | SYS_getpid);
        set_result(o, r, errno, DENY_PERM, "x32 getpid (syscall 0x%lx)", X32_SYSCALL_BIT | SYS_getpid);
}

static void p_i386_getpid(const struct ctx *c, struct outcome *o) {
#if defined(__x86_64__)
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); /* i386 __NR_getpid */
        set_result(o, r < 0 ? -1 : r, r < 0 ? (int)-r : 0, DENY_PERM, "i386 getpid via int 0x80 returned %ld", r);
#else
        o->result = R_ABSENT;
        set_detail(o, "not an x86_64 build");
#endif
}

static void p_personality(const struct ctx *c, struct outcome *o) {
        long r = personality(READ_IMPLIES_EXEC);
        set_result(o, r, errno, DENY_PERM, "personality(READ_IMPLIES_EXEC)");
}

static void p_signal_init(const struct ctx *c, struct outcome *o) {
        long r = kill(c->target, 0);
        set_result(o, r, errno, DENY_PERM, "kill(%d, 0)", (int)c->target);
}

const struct probe probes_sys[] = {
        { "tiocsti", p_tiocsti },
        { "tiocsti_upper_bits", p_tiocsti_hi },
        { "tioclinux", p_tioclinux },
        { "ptrace_pid1", p_ptrace_pid1 },
        { "ptrace_parent", p_ptrace_parent },
        { "process_vm_readv_pid1", p_process_vm_readv },
        { "userns_unshare", p_userns_unshare },
        { "userns_clone3", p_userns_clone3 },
        { "userns_clone", p_userns_clone },
        { "mount", p_mount },
        { "pivot_root", p_pivot_root },
        { "setns_pid1", p_setns },
        { "keyctl", p_keyctl },
        { "bpf", p_bpf },
        { "perf_event_open", p_perf_event_open },
        { "userfaultfd", p_userfaultfd },
        { "io_uring_setup", p_io_uring_setup },
        { "kexec_load", p_kexec_load },
        { "init_module", p_init_module },
        { "open_by_handle_at", p_open_by_handle_at },
        { "x32_getpid", p_x32_getpid },
        { "i386_int80_getpid", p_i386_getpid },
        { "personality", p_personality },
        { "signal_init", p_signal_init },
};
const size_t probes_sys_n = sizeof probes_sys / sizeof *probes_sys;
