/* The one clone site: clone3 into fresh namespaces, uid/gid maps, sync socket. */
#include "launcher/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "launcher/cgroup.h"
#include "launcher/child.h"
#include "launcher/hostcheck.h"
#include "launcher/idreg.h"
#include "launcher/mounts.h"

static int write_file(pid_t pid, const char *name, const char *text, struct sr_error *e) {
        char path[64];
        _cleanup_close_ int fd = -1;
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "userns", "cannot open %s: %s", path, strerror(errno));
        if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "userns", "cannot write %s: %s", path, strerror(errno));
        return 0;
}

int sandbox_prepare_ids(struct task *t, struct sr_error *e) {
        const char *tenant = t->cfg.tenant;
        uint32_t first, last, base;
        int r;
        /* Unprivileged callers can map only themselves; untenanted root
         * tasks keep the policy's host_uid (65534 by default). */
        t->host_uid = t->pol->host_uid;
        t->host_gid = t->pol->host_gid;
        if (!t->as_root || !tenant)
                return 0;
        pol_ids_range(&t->pol->tenant_ids, &first, &last);
        r = idreg_lookup(idreg_path(), tenant, first, last, &base, e);
        if (r < 0)
                return r;
        /* policy uid/gid are at most 65533: inside the tenant's block */
        t->tenant_ids = true;
        t->host_uid = base + t->pol->uid;
        t->host_gid = base + t->pol->gid;
        return 0;
}

/* Root maps the sandbox ids to unprivileged host ids (never host root: the
 * tenant's own block, else the policy's host_uid) and keeps setgroups so the child can drop root's supplementary
 * groups; an unprivileged caller can only map itself and must deny setgroups first. */
static int write_maps(struct task *t, struct sr_error *e) {
        char map[64];
        uid_t hu = t->as_root ? t->host_uid : t->caller_uid;
        gid_t hg = t->as_root ? t->host_gid : t->caller_gid;
        int r;
        if (!t->as_root && (r = write_file(t->pid, "setgroups", "deny", e)) < 0)
                return r;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)t->pol->uid, (unsigned)hu);
        if ((r = write_file(t->pid, "uid_map", map, e)) < 0)
                return r;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)t->pol->gid, (unsigned)hg);
        return write_file(t->pid, "gid_map", map, e);
}

uid_t sandbox_uid(const struct task *t) {
        return t->no_userns ? t->host_uid : t->pol->uid;
}

gid_t sandbox_gid(const struct task *t) {
        return t->no_userns ? t->host_gid : t->pol->gid;
}

/* "namespaces": {"user": "optional"}: a root caller (a container without
 * user namespaces) goes on without one. Only then, never silently, and not
 * when the payload would keep capabilities: outside a user namespace they
 * would be the host's. The payload still ends as host_uid with no
 * capabilities, under no_new_privs, Landlock and seccomp. 0: go on without
 * it; 1: not applicable; -errno: refused (e filled). */
static int userns_fallback(struct task *t, int err, struct sr_error *e) {
        struct hc_cause c;
        int r;
        if (!t->pol->userns_optional || !t->as_root ||
            !(err == EPERM || err == ENOSPC || err == EUSERS || err == EACCES) || hostcheck_try_userns() == 0)
                return 1; /* not applicable (or not the user namespace's fault): the caller reports err */
        hostcheck_userns_cause(err, true, &c);
        if (strstr(c.fix, "; as root"))
                *strstr(c.fix, "; as root") = 0; /* the hint to use "optional": already taken */
        if (t->pol->caps.keep)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "userns-optional-caps",
                               "%s: $.namespaces.user: \"optional\" cannot go on without a user namespace (%s) while "
                               "the policy keeps "
                               "capabilities: they would be host capabilities; keep none, or %s",
                               t->pol->file, c.what, c.fix);
        /* A container maps few ids, so a tenant's block is usually out of
         * reach there: "optional" accepted an ordinary host user, so the
         * policy's host ids serve, said in not_enforced. Idmapped binds were
         * made for the tenant's ids: refused rather than shown as foreign. */
        if (t->tenant_ids && hostcheck_ids_usable(t->host_uid, t->host_gid) < 0) {
                for (size_t i = 0; i < t->pol->n_mounts; i++)
                        if (t->pol->mounts[i].idmap != IDMAP_NONE)
                                return sr_fail(e, SR_EXIT_REFUSED, ERANGE, "idmap-unsupported",
                                               "%s: bind %s: \"idmap\" cannot go on without a user namespace (%s): the "
                                               "tenant's host ids "
                                               "are not mapped here",
                                               t->pol->file, t->pol->mounts[i].dst, c.what);
                t->host_uid = t->pol->host_uid;
                t->host_gid = t->pol->host_gid;
                if (t->status.n_not_enforced < ELEMENTSOF(t->status.not_enforced))
                        t->status.not_enforced[t->status.n_not_enforced++] = "tenant_ids";
        }
        r = hostcheck_ids_usable(t->host_uid, t->host_gid);
        if (r < 0)
                return sr_fail(
                        e, SR_EXIT_LAUNCHER, -r, "userns-optional-ids",
                        "%s: $.namespaces.user: \"optional\" cannot go on without a user namespace (%s): the payload's "
                        "host_uid %u/host_gid %u %s in sealrun's own user namespace; map them, or %s",
                        t->pol->file, c.what, (unsigned)t->host_uid, (unsigned)t->host_gid,
                        r == -ERANGE ? "are not mapped" : "cannot be taken (setgroups is denied)", c.fix);
        t->no_userns = true;
        if (t->status.n_not_enforced < ELEMENTSOF(t->status.not_enforced))
                t->status.not_enforced[t->status.n_not_enforced++] = "namespaces.user";
        fprintf(stderr,
                "sealrun: note: %s: no user namespace (%s): going on without it as \"user\": \"optional\" allows; "
                "the payload runs as host uid %u with no capabilities\n",
                t->pol->file, c.what, (unsigned)t->host_uid);
        return 0;
}

/* clone3, or where it answers ENOSYS (a kernel before 5.3, or a container
 * runtime's seccomp profile, as Docker's default answers it for callers
 * without CAP_SYS_ADMIN) clone(2) with the same flags: fork semantics, the
 * pidfd through parent_tid. clone(2) has no CLONE_INTO_CGROUP, so the child
 * is moved into the v2 task cgroup before it is told to go on. */
static long clone_sandbox(struct task *t, struct clone_args *ca) {
        long pid = syscall(SYS_clone3, ca, sizeof *ca);
        if (pid >= 0 || errno != ENOSYS)
                return pid;
        pid = syscall(SYS_clone, (unsigned long)((ca->flags & ~(uint64_t)CLONE_INTO_CGROUP) | ca->exit_signal), NULL,
                      (int *)(uintptr_t)ca->pidfd, NULL, 0UL);
        if (pid > 0 && (ca->flags & CLONE_INTO_CGROUP))
                cgroup_cloned_outside(t);
        return pid;
}

int sandbox_spawn(struct task *t, struct sr_error *e) {
        struct clone_args ca;
        int sv[2], pidfd = -1, cgfd, r;
        long pid;

        if ((r = mounts_prepare_idmaps(t, e)) < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "sync", "socketpair: %s", strerror(errno));
        t->sync_parent = sv[0];
        t->sync_child = sv[1];

        memset(&ca, 0, sizeof ca);
        ca.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_PIDFD;
        if (t->cfg.ns_net) /* namespaces.net, or --network none on a "host" policy */
                ca.flags |= CLONE_NEWNET;
        if (t->pol->ns_ipc)
                ca.flags |= CLONE_NEWIPC;
        if (t->pol->ns_uts)
                ca.flags |= CLONE_NEWUTS;
        /* The cgroup namespace is unshared by the child once the supervisor
         * has placed it (a v1 attach happens after the clone). */
        cgfd = cgroup_clone_fd(t);
        if (cgfd >= 0) {
                ca.flags |= CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)cgfd;
        }
        ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
        ca.exit_signal = SIGCHLD;

        pid = clone_sandbox(t, &ca);
        if (pid < 0) {
                int err = errno;
                if ((r = userns_fallback(t, err, e)) < 0)
                        return r;
                if (r == 0) {
                        ca.flags &= ~(uint64_t)CLONE_NEWUSER;
                        pid = clone_sandbox(t, &ca);
                } else
                        errno = err;
        }
        if (pid < 0) {
                int err = errno;
                sr_fail(e, SR_EXIT_LAUNCHER, err, "clone", "cannot create the sandbox namespaces (clone: %s)",
                        strerror(err));
                if (t->no_userns || hostcheck_try_userns() < 0)
                        hostcheck_annotate(e, t->as_root, !t->no_userns);
                return -e->err;
        }
        if (pid == 0) {
                close(sv[0]);
                _exit(child_main(t));
        }
        close(sv[1]);
        t->sync_child = -1;
        t->pid = (pid_t)pid;
        t->pidfd = pidfd;
        if (t->no_userns)
                return 0;
        if ((r = write_maps(t, e)) < 0)
                hostcheck_annotate(e, t->as_root, true);
        return r;
}

int sandbox_become_ids(struct task *t, struct sr_error *e) {
        cap_t caps;
        int r = 0;
        /* Root's supplementary groups (gid 0 among them) would still count for
         * access checks on host files; drop them where the kernel lets us. */
        if (t->as_root && setgroups(0, NULL) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "ids", "setgroups: %s", strerror(errno));
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresgid(sandbox_gid(t), sandbox_gid(t), sandbox_gid(t)) < 0 ||
            setresuid(sandbox_uid(t), sandbox_uid(t), sandbox_uid(t)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "ids", "cannot take uid %u gid %u inside the sandbox: %s%s",
                               (unsigned)sandbox_uid(t), (unsigned)sandbox_gid(t), strerror(errno),
                               t->no_userns && errno == EINVAL
                                       ? " (without a user namespace these are the policy's host_uid/host_gid, "
                                         "which the caller's own user namespace does not map)"
                                       : "");
        /* Changing ids may clear the effective set; setup still needs the
         * namespace's capabilities (mounts), which the exec site drops. */
        caps = cap_get_proc();
        if (!caps)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "ids", "cap_get_proc: %s", strerror(errno));
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                cap_flag_value_t v;
                if (cap_get_flag(caps, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
                        cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET);
        }
        if (cap_set_proc(caps) < 0)
                r = sr_fail(e, SR_EXIT_LAUNCHER, errno, "ids", "cannot raise namespace capabilities: %s",
                            strerror(errno));
        cap_free(caps);
        return r;
}
