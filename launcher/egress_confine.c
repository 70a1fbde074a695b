/* Egress proxy, its own confinement once it is set up: a seccomp allow-list
 * and a Landlock domain that grants nothing.
 *
 * The proxy parses untrusted bytes (and, with brokered credentials, will hold
 * secrets), so what it may still do after start is only what moving bytes
 * needs: no open of any file, no execve, no new socket (the supervisor dials;
 * the listeners were bound by sandbox init), no ptrace, no kill, no mount, no
 * executable memory. Anything that opens a file (a TLS trust store) must run
 * before egress_proxy_lockdown(). The list also holds what a TLS library
 * needs at run time (getrandom, the memory calls, futex, clocks). A call off
 * the list fails with EPERM rather than killing the proxy, so a libc that
 * grows a new call degrades into a refused request, never a hole; a foreign
 * architecture's call kills it (libseccomp's bad-arch action). */
#include "launcher/egress_impl.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "launcher/landlock.h"

/* The allow-list (docs/network.md, "The proxy's own confinement"). */
static const char *const proxy_syscalls[] = {
        /* moving bytes */
        "read",
        "write",
        "readv",
        "writev",
        "recvfrom",
        "recvmsg",
        "recvmmsg",
        "sendto",
        "sendmsg",
        "sendmmsg",
        "splice",
        "pipe2",
        "close",
        "shutdown",
        "accept4",
        "accept",
        "getsockname",
        "getpeername",
        "getsockopt",
        /* the event loop */
        "epoll_create1",
        "epoll_ctl",
        "epoll_wait",
        "epoll_pwait",
        "epoll_pwait2",
        "signalfd4",
        "poll",
        "ppoll",
        /* memory (mmap and mprotect below, without PROT_EXEC) */
        "munmap",
        "mremap",
        "brk",
        "madvise",
        /* threads, time, randomness (a TLS library) */
        "futex",
        "clock_gettime",
        "clock_getres",
        "gettimeofday",
        "clock_nanosleep",
        "nanosleep",
        "getrandom",
        "sched_yield",
        "getpid",
        "gettid",
        "rseq",
        "set_robust_list",
        /* the TLS broker: locked secrets, socket timeouts, TCP_NODELAY */
        "mlock",
        "munlock",
        "setsockopt",
        "sched_getaffinity",
        /* signals and leaving */
        "rt_sigprocmask",
        "rt_sigreturn",
        "sigaltstack",
        "restart_syscall",
        "exit",
        "exit_group",
        NULL,
};

static int add(scmp_filter_ctx ctx, const char *name, unsigned n, const struct scmp_arg_cmp *args) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0; /* not on this architecture */
        return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, args);
}

static int build(scmp_filter_ctx ctx) {
        static const int fcntl_ops[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_SETPIPE_SZ, F_GETPIPE_SZ };
        int r = 0;
        for (size_t i = 0; r == 0 && proxy_syscalls[i]; i++)
                r = add(ctx, proxy_syscalls[i], 0, NULL);
        /* no executable memory: a parser bug cannot become injected code */
        if (r == 0)
                r = add(ctx, "mmap", 1, (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
        if (r == 0)
                r = add(ctx, "mprotect", 1, (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
        /* the broker's threads: clone only with CLONE_THREAD (a thread, never
         * a process); clone3 answers ENOSYS, its flags are beyond a filter's
         * reach, and libc then falls back to clone */
        if (r == 0)
                r = add(ctx, "clone", 1,
                        (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD) });
        if (r == 0) {
                int nr = seccomp_syscall_resolve_name("clone3");
                if (nr != __NR_SCMP_ERROR)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
        }
        /* a thread's name only (the test hook's "sealrun-paused"): no other
         * prctl, so no PR_SET_DUMPABLE back, no PR_SET_MM */
        if (r == 0)
                r = add(ctx, "prctl", 1, (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME) });
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(fcntl_ops); i++)
                r = add(ctx, "fcntl", 1, (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_ops[i]) });
        return r;
}

int egress_proxy_seccomp(void) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        int r;
        if (!ctx)
                return -ENOMEM;
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r == 0)
                r = build(ctx);
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r < 0 ? r : 0;
}

/* Before the fork (sandbox init): what the kernel offers against what the
 * policy's "landlock" section demands. Without Landlock the proxy runs under
 * its seccomp filter alone (which refuses every open and execve by itself);
 * a policy that requires Landlock is refused, as its payload would be. */
int egress_proxy_lock_check(const struct task *t, struct sr_error *e) {
        const struct policy_landlock *l = &t->pol->landlock;
        if (landlock_abi() >= 1 || !l->set || l->optional)
                return 0;
        return sr_fail(e, SR_EXIT_REFUSED, EOPNOTSUPP, "landlock",
                       "%s: $.landlock: the kernel has no Landlock for the egress proxy or the payload (mark it "
                       "\"optional\" to run without)",
                       t->pol->file);
}

/* In the proxy, after its fds and privileges are settled: Landlock (where
 * the kernel has it; egress_proxy_lock_check decided that its absence is
 * allowed), then seccomp last. */
int egress_proxy_lockdown(const struct task *t) {
        int abi, r = landlock_deny_all(&abi);
        if (r < 0 && !(r == -EOPNOTSUPP && egress_proxy_lock_check(t, NULL) == 0))
                return r;
        egress_proxy_probe(r == 0 ? "landlock" : "no-landlock");
        return egress_proxy_seccomp();
}

/* Test hook (SEALRUN_TEST_PROXY_PROBE=1, the caller's own environment): the
 * proxy tries what its confinement forbids and says on stderr how each try
 * ended: before the lockdown (the control), after Landlock alone, and after
seccomp too, so each layer is shown to hold by itself. It only ever
 * attempts; it grants nothing and skips no step. */
void egress_proxy_probe(const char *when) {
        const char *v = getenv("SEALRUN_TEST_PROXY_PROBE");
        char out[256];
        int fd, n;
        if (!v || strcmp(v, "1") != 0)
                return;
        n = snprintf(out, sizeof out, "sealrun-proxy probe %s:", when);
        fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        n += snprintf(out + n, sizeof out - (size_t)n, " open=%s", fd >= 0 ? "ok" : strerrorname_np(errno));
        if (fd >= 0)
                close(fd);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        n += snprintf(out + n, sizeof out - (size_t)n, " socket=%s", fd >= 0 ? "ok" : strerrorname_np(errno));
        if (fd >= 0)
                close(fd);
        /* execve of a path that does not exist: ENOENT when allowed, so the
         * probe never actually replaces the proxy */
        (void)syscall(SYS_execve, "/nonexistent/sealrun-probe", (char *[]){ NULL }, (char *[]){ NULL });
        n += snprintf(out + n, sizeof out - (size_t)n, " execve=%s", strerrorname_np(errno));
        {
                void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                n += snprintf(out + n, sizeof out - (size_t)n, " mmap_exec=%s",
                              p != MAP_FAILED ? "ok" : strerrorname_np(errno));
                if (p != MAP_FAILED)
                        munmap(p, 4096);
        }
        n += snprintf(out + n, sizeof out - (size_t)n, " kill=%s\n",
                      syscall(SYS_kill, 1, 0) == 0 ? "ok" : strerrorname_np(errno));
        (void)!write(2, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
}
