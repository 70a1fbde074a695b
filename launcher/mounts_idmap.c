/* Idmapped binds (policy "idmap"): the supervisor clones the bind source and
 * maps its owner to the sandbox's host ids, so the task sees that directory
 * as its own and what it writes there lands as the source's owner.
 *
 * Only host root can idmap a host file system (the filesystem's user
 * namespace is the initial one), so this runs in the supervisor before the
 * clone, and the child inherits the finished tree. Support is found by
 * attempting: open_tree() fails with EPERM unprivileged, mount_setattr()
 * with EINVAL where the file system cannot be idmapped (tmpfs before 6.3). */
#include "launcher/mounts.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher/fsutil.h"

static int write_proc(pid_t pid, const char *name, const char *text) {
        char path[64];
        _cleanup_close_ int fd = -1;
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -errno;
}

/* A user namespace whose only mapping is disk owner → sandbox host ids: the
 * mount's idmapping. A helper process holds it while we open its ns file. */
static int idmap_userns(uid_t from_u, uid_t to_u, gid_t from_g, gid_t to_g, int *ret) {
        int go[2], hold[2], r = 0, ns = -1;
        char c, map[64];
        pid_t pid;
        if (pipe2(go, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(hold, O_CLOEXEC) < 0) {
                r = -errno;
                close(go[0]);
                close(go[1]);
                return r;
        }
        pid = fork();
        if (pid == 0) {
                close(go[0]);
                close(hold[1]);
                if (unshare(CLONE_NEWUSER) < 0 || write(go[1], "x", 1) != 1)
                        _exit(1);
                (void)!read(hold[0], &c, 1); /* EOF: the supervisor is done */
                _exit(0);
        }
        close(go[1]);
        close(hold[0]);
        if (pid < 0)
                r = -errno;
        else if (read(go[0], &c, 1) != 1)
                r = -EPERM;
        if (r == 0) {
                snprintf(map, sizeof map, "%u %u 1\n", (unsigned)from_u, (unsigned)to_u);
                r = write_proc(pid, "uid_map", map);
        }
        if (r == 0) {
                snprintf(map, sizeof map, "%u %u 1\n", (unsigned)from_g, (unsigned)to_g);
                r = write_proc(pid, "gid_map", map);
        }
        if (r == 0) {
                snprintf(map, sizeof map, "/proc/%d/ns/user", (int)pid);
                ns = open(map, O_RDONLY | O_CLOEXEC);
                if (ns < 0)
                        r = -errno;
        }
        close(go[0]);
        close(hold[1]);
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        if (r == 0)
                *ret = ns;
        return r;
}

/* Open a bind source with the sandbox's host ids and no supplementary
 * groups, as the child does for plain binds after its id switch. fsuid and
 * the group list are per thread at the syscall level; both are restored. */
static int open_as_sandbox(const struct task *t, const char *src) {
        _cleanup_free_ gid_t *groups = NULL;
        int n, fd;
        if (!t->as_root)
                return fs_openat2(AT_FDCWD, src, O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        n = getgroups(0, NULL);
        if (n < 0 || !(groups = calloc((size_t)n + 1, sizeof *groups)) || getgroups(n, groups) != n)
                return -ENOMEM;
        if (syscall(SYS_setgroups, 0, NULL) < 0)
                return -errno;
        setfsgid(t->host_gid);
        setfsuid(t->host_uid);
        if ((uid_t)setfsuid((uid_t)-1) != t->host_uid || (gid_t)setfsgid((gid_t)-1) != t->host_gid)
                fd = -EPERM;
        else
                fd = fs_openat2(AT_FDCWD, src, O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        setfsuid(geteuid());
        setfsgid(getegid());
        if (syscall(SYS_setgroups, (size_t)n, groups) < 0) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        return fd;
}

static int idmap_one(struct task *t, const struct mount_entry *me, int *ret_tree, struct sr_error *e) {
        const char *where = me->from_cli ? "command line" : t->pol->file;
        _cleanup_close_ int src = -1, tree = -1, ns = -1;
        uint32_t first, last;
        struct stat st;
        struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };

        src = open_as_sandbox(t, me->src);
        if (src < 0 && me->optional && (src == -ENOENT || src == -ENOTDIR))
                return 0;
        if (src == -EACCES || src == -EPERM)
                return sr_fail(e, SR_EXIT_REFUSED, -src, "bind-source-denied",
                               "%s: bind source %s: Permission denied for host uid %u (binds are opened with the "
                               "sandbox's host ids, not the caller's)",
                               where, me->src, (unsigned)t->host_uid);
        if (src < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -src, "mounts", "%s: bind source %s: %s", where, me->src,
                               strerror(-src));
        if (fstat(src, &st) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "mounts", "%s: bind source %s: %s", where, me->src,
                               strerror(errno));
        /* unprivileged: EPERM here, before any check of the owner */
        tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0)
                return -errno;
        /* What the task writes lands as the owner: never root (a setuid-root
         * file made by a tenant), never another tenant's block. */
        pol_ids_range(&t->pol->tenant_ids, &first, &last);
        if (st.st_uid == 0 || st.st_gid == 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "idmap-owner",
                               "%s: idmapped bind source %s is owned by uid %u gid %u; root cannot be lent to a task "
                               "(chown it to the user the task's files should belong to)",
                               where, me->src, (unsigned)st.st_uid, (unsigned)st.st_gid);
        if ((st.st_uid >= first && st.st_uid <= last && st.st_uid - (t->host_uid - t->pol->uid) >= POL_IDS_BLOCK) ||
            (st.st_gid >= first && st.st_gid <= last && st.st_gid - (t->host_gid - t->pol->gid) >= POL_IDS_BLOCK))
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "idmap-owner",
                               "%s: idmapped bind source %s is owned by another tenant's ids (%u:%u)", where, me->src,
                               (unsigned)st.st_uid, (unsigned)st.st_gid);
        int r = idmap_userns(st.st_uid, t->host_uid, st.st_gid, t->host_gid, &ns);
        if (r < 0)
                return r;
        if (me->type == MNT_RO_BIND)
                a.attr_set |= MOUNT_ATTR_RDONLY;
        a.userns_fd = (uint64_t)ns;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
                return -errno;
        *ret_tree = TAKE_FD(tree);
        return 0;
}

int mounts_prepare_idmaps(struct task *t, struct sr_error *e) {
        for (size_t i = 0; i < t->n_plan; i++) {
                const struct mount_entry *me = &t->plan[i];
                int tree = -1, r;
                if (me->idmap == IDMAP_NONE)
                        continue;
                r = idmap_one(t, me, &tree, e);
                if (r < 0 && e->msg[0])
                        return r;
                if (r < 0 && me->idmap == IDMAP_OPTIONAL) {
                        /* bound plainly by the child; said in the status */
                        if (t->status.n_not_enforced < ELEMENTSOF(t->status.not_enforced))
                                t->status.not_enforced[t->status.n_not_enforced++] = "idmap";
                        continue;
                }
                if (r < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, -r, "idmap-unsupported",
                                       "%s: bind %s: cannot idmap it here (%s)%s",
                                       me->from_cli ? "command line" : t->pol->file, me->dst, strerror(-r),
                                       t->as_root ? "; mark it \"idmap\": \"optional\" to bind it without"
                                                  : "; idmapped mounts need root");
                if (tree >= 0 && (r = mounts_adopt_tree(t, i, tree)) < 0) {
                        close(tree);
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "mounts", "out of memory");
                }
        }
        return 0;
}
