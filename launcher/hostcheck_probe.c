/* --check-host probes: try each namespace, mount and kernel interface for real in throwaway children.
 *
 * Nothing a probe creates outlives it: namespaces, mounts (made in a private
 * mount namespace, after MS_PRIVATE, so nothing propagates back) and seccomp
 * filters belong to a forked child that exits. */
#include "launcher/hostcheck_impl.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher/landlock.h"

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

struct hc_item *hc_add(struct hc_report *r, const char *name, bool ok, bool needed, const char *fmt, ...) {
        static struct hc_item sink;
        struct hc_item *it = r->n < HC_MAX_ITEMS ? &r->items[r->n++] : &sink;
        va_list ap;
        memset(it, 0, sizeof *it);
        snprintf(it->name, sizeof it->name, "%s", name);
        it->state = ok ? HC_OK : HC_FAIL;
        it->needed = needed;
        va_start(ap, fmt);
        vsnprintf(it->detail, sizeof it->detail, fmt, ap);
        va_end(ap);
        return it;
}

void hc_set_fix(struct hc_item *it, const char *reason, const char *fmt, ...) {
        va_list ap;
        snprintf(it->reason, sizeof it->reason, "%s", reason);
        va_start(ap, fmt);
        vsnprintf(it->fix, sizeof it->fix, fmt, ap);
        va_end(ap);
}

const char *hc_strerror(int r, char *buf, size_t size) {
        if (r <= HC_KILLED(1))
                snprintf(buf, size, "killed by signal %d", -r - 1000);
        else
                snprintf(buf, size, "%s", strerror(-r));
        return buf;
}

int hc_run(int (*fn)(void *), void *arg) {
        int st;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int r = fn(arg);
                _exit(r < 0 ? (-r > 255 ? 255 : -r) : 0);
        }
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFSIGNALED(st))
                return HC_KILLED(WTERMSIG(st));
        return -WEXITSTATUS(st);
}

static int userns_fn(void *arg) {
        return unshare(CLONE_NEWUSER) < 0 ? -errno : 0;
}

int hostcheck_try_userns(void) {
        return hc_run(userns_fn, NULL);
}

/* ---- namespaces ---- */

enum ns_action { ACT_NONE, ACT_TMPFS, ACT_PROC, ACT_MOUNT_API, ACT_CGROUPNS };

struct ns_probe {
        bool userns;           /* first a user namespace, mapped like sealrun maps it */
        int flags;             /* then these namespaces */
        enum ns_action action; /* then this inside */
        uid_t uid;
        gid_t gid;
};

static int write_self(const char *file, const char *text) {
        _cleanup_close_ int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                return -errno;
        return 0;
}

static int act(enum ns_action a) {
        struct mount_attr ma = { .attr_set = MOUNT_ATTR_NOSUID };
        _cleanup_close_ int tree = -1;
        if (a == ACT_NONE)
                return 0;
        if (a == ACT_CGROUPNS)
                return unshare(CLONE_NEWCGROUP) < 0 ? -errno : 0;
        /* Never mount before propagation is cut: the host must not see it. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        switch (a) {
        case ACT_TMPFS:
                return mount("tmpfs", "/", "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0700") < 0 ? -errno : 0;
        case ACT_PROC: return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ? -errno : 0;
        case ACT_MOUNT_API:
                /* recursive: a user namespace cannot clone one mount of a locked tree */
                tree = open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if (tree < 0)
                        return -errno;
                return mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof ma) < 0 ? -errno : 0;
        default: return 0;
        }
}

static int ns_probe_fn(void *arg) {
        const struct ns_probe *p = arg;
        char map[64];
        int r, st;
        pid_t pid;
        if (p->userns) {
                if (unshare(CLONE_NEWUSER) < 0)
                        return -errno;
                /* AppArmor's restriction lets unshare succeed and takes the
                 * capabilities away: the map write or the action fails. */
                snprintf(map, sizeof map, "0 %u 1\n", (unsigned)p->uid);
                if ((r = write_self("/proc/self/setgroups", "deny")) < 0 ||
                    (r = write_self("/proc/self/uid_map", map)) < 0)
                        return r;
                snprintf(map, sizeof map, "0 %u 1\n", (unsigned)p->gid);
                if ((r = write_self("/proc/self/gid_map", map)) < 0)
                        return r;
        }
        if (p->flags && unshare(p->flags) < 0)
                return -errno;
        if (!(p->flags & CLONE_NEWPID))
                return act(p->action);
        /* A new pid namespace takes effect for children: pid 1 acts. */
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                _exit(-act(p->action));
        if (waitpid(pid, &st, 0) < 0)
                return -errno;
        return WIFEXITED(st) ? -WEXITSTATUS(st) : -EINTR;
}

static int ns_try(bool userns, int flags, enum ns_action a) {
        struct ns_probe p = { .userns = userns, .flags = flags, .action = a, .uid = getuid(), .gid = getgid() };
        return hc_run(ns_probe_fn, &p);
}

static const struct {
        const char *name;
        int flag;
} ns_list[] = {
        { "mount", CLONE_NEWNS }, { "pid", CLONE_NEWPID }, { "net", CLONE_NEWNET },
        { "ipc", CLONE_NEWIPC },  { "uts", CLONE_NEWUTS }, { "cgroup", 0 },
};

static bool ns_needed(const struct policy *p, const char *name) {
        if (!strcmp(name, "net"))
                return p->ns_net;
        if (!strcmp(name, "ipc"))
                return p->ns_ipc;
        if (!strcmp(name, "uts"))
                return p->ns_uts;
        if (!strcmp(name, "cgroup"))
                return p->ns_cgroup;
        return true;
}

static bool policy_has_proc(const struct policy *p) {
        for (size_t i = 0; i < p->n_mounts; i++)
                if (p->mounts[i].type == MNT_PROC)
                        return true;
        return false;
}

void hc_probe_namespaces(struct hc_report *r, const struct policy *p) {
        char eb[64], name[48];
        struct hc_cause c;
        int ru = ns_try(true, 0, ACT_NONE), rr = 0;
        /* Capabilities in the new namespace, not just its creation. */
        int rcap = ru == 0 ? ns_try(true, CLONE_NEWNS, ACT_TMPFS) : ru;
        bool fallback;
        struct hc_item *it;

        r->userns_ok = ru == 0 && rcap == 0;
        if (r->as_root)
                r->rootns_ok = (rr = ns_try(false, CLONE_NEWNS | CLONE_NEWPID, ACT_NONE)) == 0;
        fallback = !r->userns_ok && p->userns_optional && r->as_root && r->rootns_ok && !p->caps.keep &&
                   hostcheck_ids_usable(p->host_uid, p->host_gid) == 0;
        it = hc_add(r, "namespace user", r->userns_ok, !fallback, "%s",
                    r->userns_ok ? "created, mapped, capabilities inside" : hc_strerror(ru ? ru : rcap, eb, sizeof eb));
        if (!r->userns_ok) {
                hostcheck_userns_cause(ru, r->as_root, &c);
                hc_set_fix(it, c.reason, "%s: %s", c.what, c.fix);
                if (fallback)
                        snprintf(it->detail + strlen(it->detail), sizeof it->detail - strlen(it->detail),
                                 "; \"user\": \"optional\": runs without it as root, listed in not_enforced");
                else if (p->userns_optional && r->as_root && p->caps.keep)
                        snprintf(it->fix + strlen(it->fix), sizeof it->fix - strlen(it->fix),
                                 " (\"user\": \"optional\" needs a policy that keeps no capabilities)");
                else if (p->userns_optional && r->as_root && hostcheck_ids_usable(p->host_uid, p->host_gid) < 0)
                        snprintf(it->fix + strlen(it->fix), sizeof it->fix - strlen(it->fix),
                                 " (\"user\": \"optional\" needs host_uid %u/host_gid %u mapped here, setgroups "
                                 "allowed)",
                                 (unsigned)p->host_uid, (unsigned)p->host_gid);
        }
        if (r->as_root) {
                it = hc_add(r, "namespaces as root", r->rootns_ok, fallback, "mount+pid without a user namespace: %s",
                            r->rootns_ok ? "ok" : hc_strerror(rr, eb, sizeof eb));
                if (!r->rootns_ok) {
                        hostcheck_rootns_cause(-rr, &c);
                        hc_set_fix(it, c.reason, "%s: %s", c.what, c.fix);
                }
        }
        /* The others, the way the launch will create them. */
        bool via_userns = !fallback;
        for (size_t i = 0; i < ELEMENTSOF(ns_list); i++) {
                bool cg = ns_list[i].flag == 0;
                int rn;
                snprintf(name, sizeof name, "namespace %s", ns_list[i].name);
                if (via_userns && !r->userns_ok) {
                        snprintf(hc_add(r, name, false, ns_needed(p, ns_list[i].name), "not tried: no user namespace")
                                         ->reason,
                                 sizeof r->items[0].reason, "no-userns");
                        continue;
                }
                rn = ns_try(via_userns, cg ? CLONE_NEWNS : ns_list[i].flag, cg ? ACT_CGROUPNS : ACT_NONE);
                it = hc_add(r, name, rn == 0, ns_needed(p, ns_list[i].name), "%s%s",
                            rn ? hc_strerror(rn, eb, sizeof eb) : "ok",
                            via_userns ? "" : " (as root, no user namespace)");
                if (rn) {
                        via_userns ? hostcheck_userns_cause(0, r->as_root, &c) : hostcheck_rootns_cause(-rn, &c);
                        hc_set_fix(it, c.reason, "%s: %s", c.what, c.fix);
                }
        }
        if (via_userns && !r->userns_ok) {
                static const char *const later[] = { "mount tmpfs", "mount proc", "mount API" };
                for (size_t i = 0; i < ELEMENTSOF(later); i++)
                        snprintf(
                                hc_add(r, later[i], false, i != 1 || policy_has_proc(p), "not tried: no user namespace")
                                        ->reason,
                                sizeof r->items[0].reason, "no-userns");
                return;
        }
        {
                static const struct {
                        const char *name;
                        int flags;
                        enum ns_action a;
                } acts[] = {
                        { "mount tmpfs", CLONE_NEWNS, ACT_TMPFS },
                        { "mount proc", CLONE_NEWNS | CLONE_NEWPID, ACT_PROC },
                        { "mount API", CLONE_NEWNS, ACT_MOUNT_API },
                };
                for (size_t i = 0; i < ELEMENTSOF(acts); i++) {
                        int ra = ns_try(via_userns, acts[i].flags, acts[i].a);
                        bool needed = acts[i].a != ACT_PROC || policy_has_proc(p);
                        it = hc_add(r, acts[i].name, ra == 0, needed, "%s", ra ? hc_strerror(ra, eb, sizeof eb) : "ok");
                        if (ra == 0)
                                continue;
                        if (acts[i].a == ACT_PROC)
                                hc_set_fix(it, "proc-mount",
                                           "a new procfs cannot be mounted (a container masks parts of its /proc, or "
                                           "no pid "
                                           "namespace of ours): run the container with an unmasked /proc (Docker: "
                                           "--security-opt systempaths=unconfined) or drop the policy's proc mount");
                        else if (acts[i].a == ACT_MOUNT_API)
                                hc_set_fix(it, "mount-api",
                                           "open_tree/mount_setattr are missing (kernel older than 5.12, or "
                                           "filtered): use a newer kernel or allow them");
                        else
                                hc_set_fix(it, "tmpfs-mount",
                                           "tmpfs cannot be mounted in a new mount namespace: allow it");
                }
        }
}

/* ---- kernel interfaces ---- */

static struct sock_filter allow_all[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };

static int seccomp_fn(void *arg) {
        struct sock_fprog prog = { .len = 1, .filter = allow_all };
        unsigned flags = arg ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
        long r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        return r < 0 ? -errno : 0;
}

static int clone3_fn(void *arg) {
        struct clone_args ca = { .exit_signal = SIGCHLD };
        long pid = syscall(SYS_clone3, &ca, sizeof ca);
        if (pid < 0)
                return -errno;
        if (pid == 0)
                _exit(0);
        return waitpid((pid_t)pid, NULL, 0) < 0 ? -errno : 0;
}

static int fd_result(long fd) {
        if (fd < 0)
                return -errno;
        close((int)fd);
        return 0;
}

void hc_probe_kernel(struct hc_report *r, const struct policy *p) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
        const struct policy_landlock *l = &p->landlock;
        int abi = landlock_abi(), rs, rn, rc, ro, rp, rm;
        bool need_ll = l->set && !l->optional && (l->fs || l->net || l->scopes);
        int need_abi = !need_ll                            ? 0
                       : (l->scopes && !l->scope_optional) ? 6
                       : (l->fs && !l->fs_rights_optional) ? 5
                       : (l->net && !l->net_optional)      ? 4
                                                           : 1;
        char eb[64];
        struct hc_item *it;

        it = hc_add(r, "landlock", abi >= (need_abi ? need_abi : 1), need_abi > 0, abi ? "ABI %d" : "not available",
                    abi);
        if (abi < need_abi)
                hc_set_fix(it, "landlock-abi",
                           "the policy's landlock rules need ABI %d (this kernel: %d): use a kernel with it "
                           "(lsm=...,landlock) or mark them optional",
                           need_abi, abi);
        else if (!abi)
                it->state = HC_FAIL;
        rs = hc_run(seccomp_fn, NULL);
        it = hc_add(r, "seccomp filter", rs == 0, true, "%s", rs ? hc_strerror(rs, eb, sizeof eb) : "ok");
        if (rs)
                hc_set_fix(it, "seccomp-unavailable",
                           "seccomp filters cannot be loaded: use a kernel with CONFIG_SECCOMP_FILTER");
        rn = hc_run(seccomp_fn, (void *)1);
        hc_add(r, "seccomp user notif", rn == 0, false, "%s", rn ? hc_strerror(rn, eb, sizeof eb) : "ok");
        rc = hc_run(clone3_fn, NULL);
        /* ENOSYS (an old kernel, or Docker's default seccomp profile without
         * CAP_SYS_ADMIN) is not a failure: the launch falls back to clone(2). */
        it = hc_add(r, "clone3", rc == 0, rc != -ENOSYS, "%s",
                    rc == -ENOSYS
                            ? (hostcheck_seccomp_filtered() ? "answered ENOSYS by a seccomp filter: clone(2) is used"
                                                            : "missing: clone(2) is used")
                    : rc ? hc_strerror(rc, eb, sizeof eb)
                         : "ok");
        if (rc && rc != -ENOSYS)
                hc_set_fix(it, "clone3-unavailable", "clone3 fails (%s): allow it in the enclosing seccomp profile",
                           hc_strerror(rc, eb, sizeof eb));
        ro = fd_result(syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how));
        it = hc_add(r, "openat2", ro == 0, true, "%s", ro ? hc_strerror(ro, eb, sizeof eb) : "ok");
        if (ro)
                hc_set_fix(it, "openat2-unavailable",
                           "openat2 is missing or filtered: use a kernel 5.6 or later, allow it in seccomp");
        rp = fd_result(syscall(SYS_pidfd_open, getpid(), 0));
        it = hc_add(r, "pidfd", rp == 0, true, "%s", rp ? hc_strerror(rp, eb, sizeof eb) : "ok");
        if (rp)
                hc_set_fix(it, "pidfd-unavailable",
                           "pidfd_open is missing or filtered: use a kernel 5.3 or later, allow it in seccomp");
        rm = fd_result(syscall(SYS_memfd_secret, 0));
        hc_add(r, "memfd_secret", rm == 0, false, "%s", rm ? hc_strerror(rm, eb, sizeof eb) : "ok");
}
