/* The mount plan: a fresh tmpfs root, the policy's entries in order, pivot_root.
 *
 * Bind sources are opened once with openat2(RESOLVE_NO_SYMLINKS) and cloned
 * with open_tree(), then attached by fd: a path is never resolved twice, so a
 * source swapped for a symlink between check and use cannot redirect a bind
 * (the class of CVE-2019-16884 / CVE-2021-30465 races in container runtimes). */
#include "launcher/mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/capability.h>
#include <sys/syscall.h>

#include "launcher/creds.h"
#include "launcher/fsutil.h"
#include "launcher/net.h"

#define BASE "/tmp" /* private base for the new root; our mount ns is private */

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
#define N_DEV ELEMENTSOF(dev_nodes)

struct mounts_ctx {
        int *trees;     /* per plan entry: detached mount, or -1 */
        int dev[N_DEV]; /* host device nodes, O_PATH */
        int root;       /* the new root (O_PATH) */
        char **extra;   /* mountpoints other modules need (credentials) */
        size_t n_extra;
};

static struct mounts_ctx *ctx(struct task *t) {
        if (!t->mounts) {
                t->mounts = calloc(1, sizeof *t->mounts);
                if (t->mounts)
                        t->mounts->root = -1;
        }
        return t->mounts;
}

static int add_mountpoint(struct mounts_ctx *m, const char *path) {
        char **n = realloc(m->extra, (m->n_extra + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        m->extra = n;
        if (!(n[m->n_extra] = strdup(path)))
                return -ENOMEM;
        m->n_extra++;
        return 0;
}

size_t mounts_n_mountpoints(const struct task *t) {
        return t->mounts ? t->mounts->n_extra : 0;
}

/* A generated file at a path another entry mounts would hide it (or be
 * hidden by it): refused instead of choosing silently. */
static int check_generated(const struct task *t, size_t n, const struct mount_entry *g, struct sr_error *e) {
        for (size_t i = 0; i < n; i++) {
                if (strcmp(t->plan[i].dst, g->dst) != 0)
                        continue;
                if (t->plan[i].from_cli)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--bind/--ro-bind %s: generated from the policy's \"network\" section", g->dst);
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "bad-input",
                               "%s: $.mounts[%zu].dst: %s is generated from $.network (use its \"hosts\"/\"dns\" keys)",
                               t->pol->file, i, g->dst);
        }
        return 0;
}

int mounts_plan(struct task *t, struct sr_error *e) {
        const struct policy *p = t->pol;
        const struct mount_entry *files = NULL;
        const char *mountpoint = creds_mountpoint(t);
        struct mounts_ctx *m = ctx(t);
        size_t n_files = 0, n = 0;
        int r;
        net_generated_files(t, &files, &n_files);
        if (!m || !(t->plan = calloc(p->n_mounts + t->cfg.n_binds + n_files + 2, sizeof *t->plan)))
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        for (size_t i = 0; i < p->n_mounts; i++)
                t->plan[n++] = p->mounts[i];
        /* --workdir: as root idmapped, so that the task sees the directory's
         * files as its own and what it writes lands as their owner
         * (config_resolve allowed it only under the policy's workdir.sources);
         * unprivileged, the user namespace already maps the caller to the task */
        if (t->cfg.workdir_src)
                t->plan[n++] = (struct mount_entry){ .type = MNT_BIND,
                                                     .src = (char *)t->cfg.workdir_src,
                                                     .dst = (char *)t->cfg.workdir_dst,
                                                     .idmap = t->as_root ? IDMAP_REQUIRED : IDMAP_NONE,
                                                     .from_cli = true };
        for (size_t i = 0; i < t->cfg.n_binds; i++) {
                const struct config_bind *b = &t->cfg.binds[i];
                t->plan[n++] = (struct mount_entry){ .type = b->tmpfs ? MNT_TMPFS
                                                             : b->ro  ? MNT_RO_BIND
                                                                      : MNT_BIND,
                                                     .src = (char *)b->src,
                                                     .dst = (char *)b->dst,
                                                     .optional = b->optional,
                                                     .from_cli = true };
        }
        t->n_plan = n;
        for (size_t i = 0; i < n_files; i++) {
                if ((r = check_generated(t, n, &files[i], e)) < 0)
                        return r;
                t->plan[t->n_plan++] = files[i];
        }
        /* the mountpoint must exist before the sandbox root turns read-only */
        if (mountpoint && add_mountpoint(m, mountpoint) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        return 0;
}

static int ensure_trees(struct task *t, struct mounts_ctx *m) {
        if (m->trees)
                return 0;
        m->trees = malloc((t->n_plan + 1) * sizeof *m->trees);
        if (!m->trees)
                return -ENOMEM;
        for (size_t i = 0; i <= t->n_plan; i++)
                m->trees[i] = -1;
        return 0;
}

int mounts_adopt_tree(struct task *t, size_t i, int tree) {
        struct mounts_ctx *m = ctx(t);
        int r = m ? ensure_trees(t, m) : -ENOMEM;
        if (r < 0)
                return r;
        m->trees[i] = tree;
        return 0;
}

void mounts_release(struct task *t) {
        struct mounts_ctx *m = t->mounts;
        if (!m) {
                free(t->plan);
                t->plan = NULL;
                t->n_plan = 0;
                return;
        }
        for (size_t i = 0; i < m->n_extra; i++)
                free(m->extra[i]);
        free(m->extra);
        /* the supervisor's copies of idmapped trees (the child has its own) */
        for (size_t i = 0; m->trees && i < t->n_plan; i++)
                if (m->trees[i] >= 0)
                        close(m->trees[i]);
        free(m->trees);
        free(m);
        t->mounts = NULL;
        free(t->plan);
        t->plan = NULL;
        t->n_plan = 0;
}

static int attr_tree(int fd, uint64_t set, bool recursive) {
        struct mount_attr a = { .attr_set = set };
        return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0 ? -errno : 0;
}

static uid_t mounts_host_uid(const struct task *t) {
        return t->as_root ? t->host_uid : t->caller_uid;
}

/* Lower or raise the DAC overrides in the effective set. In a user namespace
 * they cover only the sandbox's own files; without one ("user": "optional")
 * they are the host's, and would open any path. */
static int dac_overrides(bool on) {
        static const cap_value_t v[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };
        cap_t c = cap_get_proc();
        int r = 0;
        if (!c)
                return -errno;
        if (cap_set_flag(c, CAP_EFFECTIVE, ELEMENTSOF(v), v, on ? CAP_SET : CAP_CLEAR) < 0 || cap_set_proc(c) < 0)
                r = -errno;
        cap_free(c);
        return r;
}

static int open_sources(struct task *t, struct sr_error *e);

/* Runs after the id switch, with the DAC overrides lowered: the kernel checks
 * every path component against the sandbox's host uid and gid with no
 * supplementary groups (as root), so a root caller's rights never reach a
 * bind source. */
int mounts_open_sources(struct task *t, struct sr_error *e) {
        int r = dac_overrides(false), r2;
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "mounts", "cannot lower the DAC overrides: %s", strerror(-r));
        r = open_sources(t, e);
        /* raised again for the rest of setup; the exec site drops them all */
        r2 = dac_overrides(true);
        if (r >= 0 && r2 < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r2, "mounts", "cannot raise the DAC overrides again: %s",
                               strerror(-r2));
        return r;
}

static int open_sources(struct task *t, struct sr_error *e) {
        struct mounts_ctx *m = ctx(t);
        if (!m || ensure_trees(t, m) < 0)
                return -ENOMEM;
        /* No propagation back to the host, whatever the host's / is. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "mounts", "cannot make / private: %s", strerror(errno));
        for (size_t i = 0; i < t->n_plan; i++) {
                const struct mount_entry *me = &t->plan[i];
                _cleanup_close_ int src = -1;
                int tree;
                /* idmapped binds come finished from the supervisor; an
                 * optional one it could not idmap is bound plainly here */
                if ((me->type != MNT_RO_BIND && me->type != MNT_BIND) || m->trees[i] >= 0)
                        continue;
                src = fs_openat2(AT_FDCWD, me->src, O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                if (src < 0 && me->optional && (src == -ENOENT || src == -ENOTDIR)) {
                        /* nothing is bound: no Landlock access is implied at dst */
                        t->plan[i].absent = true;
                        /* a policy's optional bind is routine; a --bind-try the caller asked for is said */
                        if (me->from_cli)
                                fprintf(stderr, "sealrun: note: --%s %s: the source does not exist, skipped\n",
                                        me->type == MNT_RO_BIND ? "ro-bind-try" : "bind-try", me->src);
                        continue;
                }
                if (src == -EACCES || src == -EPERM)
                        return sr_fail(e, SR_EXIT_REFUSED, -src, "bind-source-denied",
                                       "%s: bind source %s: Permission denied for host uid %u (binds are opened with "
                                       "the sandbox's host ids, not the caller's)",
                                       me->from_cli ? "command line" : t->pol->file, me->src,
                                       (unsigned)mounts_host_uid(t));
                if (src < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -src, "mounts", "%s: bind source %s: %s%s",
                                       me->from_cli ? "command line" : t->pol->file, me->src, strerror(-src),
                                       src == -ELOOP ? " (a path component is a symlink; name the real path)" : "");
                tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
                if (tree < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "mounts", "bind source %s: open_tree: %s", me->src,
                                       strerror(errno));
                m->trees[i] = tree;
                int r = attr_tree(
                        tree, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (me->type == MNT_RO_BIND ? MOUNT_ATTR_RDONLY : 0),
                        true);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "mounts",
                                       "bind source %s: cannot set nosuid,nodev%s: %s", me->src,
                                       me->type == MNT_RO_BIND ? ",ro" : "", strerror(-r));
        }
        for (size_t i = 0; i < N_DEV; i++) {
                char path[32];
                snprintf(path, sizeof path, "/dev/%s", dev_nodes[i]);
                m->dev[i] = fs_openat2(AT_FDCWD, path, O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);
        }
        return 0;
}

/* Create the mountpoint (or the object) for dst below the root and return
 * an O_PATH fd on it. */
static int make_target(int root, const char *dst, bool dir, mode_t mode) {
        char parent[4096];
        const char *base = fs_split_parent(dst + 1, parent, sizeof parent);
        _cleanup_close_ int pfd = fs_mkdir_p_beneath(root, parent);
        if (pfd < 0)
                return pfd;
        if (dir) {
                if (mkdirat(pfd, base, mode ? mode : 0755) < 0 && errno != EEXIST)
                        return -errno;
                /* By fd, never fchmodat(): base may be a symlink a payload
                 * planted in a writable bind, and before pivot_root it
                 * resolves on the host. */
                if (mode) {
                        _cleanup_close_ int d = fs_openat2(pfd, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW,
                                                           0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
                        if (d < 0)
                                return d;
                        if (fchmod(d, mode) < 0)
                                return -errno;
                }
        } else {
                /* O_NONBLOCK|O_NOCTTY: a FIFO or a tty planted in a writable
                 * bind must not block or steer the launch */
                int fd = openat(pfd, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
                                mode ? mode : 0644);
                if (fd < 0 && errno != EISDIR)
                        return -errno;
                if (fd >= 0)
                        close(fd);
        }
        return fs_openat2(pfd, base, O_PATH | O_CLOEXEC | O_NOFOLLOW | (dir ? O_DIRECTORY : 0), 0,
                          RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
}

static int attach(int tree, int target) {
        return move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ? -errno : 0;
}

static int new_fs(const char *type, const char *const *opts, uint64_t attrs) {
        _cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        for (size_t i = 0; opts && opts[i]; i += 2)
                if (fsconfig(fs, FSCONFIG_SET_STRING, opts[i], opts[i + 1], 0) < 0)
                        return -errno;
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        int mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)attrs);
        return mnt < 0 ? -errno : mnt;
}

static int mount_new_fs(int root, const char *dst, const char *type, const char *const *opts, uint64_t attrs) {
        _cleanup_close_ int target = make_target(root, dst, true, 0);
        _cleanup_close_ int mnt = -1;
        if (target < 0)
                return target;
        mnt = new_fs(type, opts, attrs);
        if (mnt < 0)
                return mnt;
        return attach(mnt, target);
}

static int mount_dev(struct mounts_ctx *m, int root, const char *dst) {
        static const char *const tmpfs_opts[] = { "mode", "0755", "size", "65536", NULL };
        static const char *const pts_opts[] = { "newinstance", NULL, "ptmxmode", "0666", "mode", "0620", NULL };
        static const char *const shm_opts[] = { "mode", "1777", NULL };
        static const char *const links[][2] = {
                { "ptmx", "pts/ptmx" },          { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
                { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
        };
        char path[4200];
        _cleanup_close_ int dev = -1;
        int r = mount_new_fs(root, dst, "tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        if (r < 0)
                return r;
        dev = fs_openat2(root, dst + 1, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (dev < 0)
                return dev;
        for (size_t i = 0; i < N_DEV; i++) {
                _cleanup_close_ int tree = -1, target = -1;
                if (m->dev[i] < 0)
                        continue;
                tree = open_tree(m->dev[i], "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                if (tree < 0)
                        return -errno;
                snprintf(path, sizeof path, "/%s", dev_nodes[i]);
                target = make_target(dev, path, false, 0666);
                if (target < 0)
                        return target;
                if ((r = attach(tree, target)) < 0)
                        return r;
        }
        /* devpts: a private instance (the "newinstance" key takes no value). */
        {
                _cleanup_close_ int fs = fsopen("devpts", FSOPEN_CLOEXEC), target = -1, mnt = -1;
                if (fs < 0)
                        return -errno;
                if (fsconfig(fs, FSCONFIG_SET_FLAG, "newinstance", NULL, 0) < 0)
                        return -errno;
                for (size_t i = 2; pts_opts[i]; i += 2)
                        if (fsconfig(fs, FSCONFIG_SET_STRING, pts_opts[i], pts_opts[i + 1], 0) < 0)
                                return -errno;
                if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                        return -errno;
                mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
                if (mnt < 0)
                        return -errno;
                target = make_target(dev, "/pts", true, 0);
                if (target < 0)
                        return target;
                if ((r = attach(mnt, target)) < 0)
                        return r;
        }
        {
                _cleanup_close_ int target = make_target(dev, "/shm", true, 0), mnt = -1;
                if (target < 0)
                        return target;
                mnt = new_fs("tmpfs", shm_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
                if (mnt < 0)
                        return mnt;
                if ((r = attach(mnt, target)) < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], dev, links[i][0]) < 0 && errno != EEXIST)
                        return -errno;
        return 0;
}

static int write_file_entry(int root, const struct mount_entry *me) {
        char parent[4096];
        const char *base = fs_split_parent(me->dst + 1, parent, sizeof parent);
        _cleanup_close_ int pfd = fs_mkdir_p_beneath(root, parent), fd = -1;
        if (pfd < 0)
                return pfd;
        fd = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, me->mode ? me->mode : 0644);
        if (fd < 0)
                return -errno;
        if (me->mode && fchmod(fd, me->mode) < 0)
                return -errno;
        return write_all(fd, me->content, me->content_len);
}

static int apply_entry(struct task *t, struct mounts_ctx *m, size_t i) {
        const struct mount_entry *me = &t->plan[i];
        char size[32], mode[16];
        const char *tmpfs_opts[] = { "mode", mode, me->size ? "size" : NULL, size, NULL };
        struct stat st;
        int r;

        switch (me->type) {
        case MNT_RO_BIND:
        case MNT_BIND: {
                _cleanup_close_ int target = -1;
                if (m->trees[i] < 0)
                        return 0; /* optional source absent */
                if (fstat(m->trees[i], &st) < 0)
                        return -errno;
                target = make_target(m->root, me->dst, S_ISDIR(st.st_mode), 0);
                if (target < 0)
                        return target;
                r = attach(m->trees[i], target);
                close(m->trees[i]);
                m->trees[i] = -1;
                return r;
        }
        case MNT_TMPFS:
                snprintf(mode, sizeof mode, "%o", me->mode ? me->mode : 0755);
                snprintf(size, sizeof size, "%llu", me->size);
                return mount_new_fs(m->root, me->dst, "tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        case MNT_PROC:
                return mount_new_fs(m->root, me->dst, "proc", NULL,
                                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        case MNT_DEV: return mount_dev(m, m->root, me->dst);
        case MNT_DIR: {
                int fd = make_target(m->root, me->dst, true, me->mode);
                if (fd < 0)
                        return fd;
                close(fd);
                return 0;
        }
        case MNT_SYMLINK: {
                char parent[4096];
                const char *base = fs_split_parent(me->dst + 1, parent, sizeof parent);
                _cleanup_close_ int pfd = fs_mkdir_p_beneath(m->root, parent);
                if (pfd < 0)
                        return pfd;
                return symlinkat(me->src, pfd, base) < 0 ? -errno : 0;
        }
        case MNT_FILE: return write_file_entry(m->root, me);
        }
        return -EINVAL;
}

static const char *type_name(enum mount_type ty) {
        static const char *const names[] = { "ro-bind", "bind", "tmpfs", "proc", "dev", "dir", "symlink", "file" };
        return names[ty];
}

int mounts_apply(struct task *t, struct sr_error *e) {
        struct mounts_ctx *m = ctx(t);
        if (!m)
                return -ENOMEM;
        if (mount("sealrun-root", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m") < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "mounts", "cannot mount the root tmpfs: %s",
                               strerror(errno));
        m->root = open(BASE, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m->root < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "mounts", "cannot open the new root: %s", strerror(errno));
        for (size_t i = 0; i < t->n_plan; i++) {
                const struct mount_entry *me = &t->plan[i];
                int r = apply_entry(t, m, i);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "mounts", "%s: mount entry %s %s: %s",
                                       me->from_cli ? "command line" : t->pol->file, type_name(me->type), me->dst,
                                       strerror(-r));
        }
        for (size_t i = 0; i < m->n_extra; i++) {
                int fd;
                if (!m->extra[i])
                        return -ENOMEM;
                fd = make_target(m->root, m->extra[i], true, 0755);
                if (fd < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -fd, "mounts", "cannot create mountpoint %s: %s",
                                       m->extra[i], strerror(-fd));
                close(fd);
        }
        return 0;
}

int mounts_pivot(struct task *t, struct sr_error *e) {
        struct mounts_ctx *m = ctx(t);
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching it leaves nothing of the host reachable. */
        if (fchdir(m->root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "pivot_root", "pivot_root: %s", strerror(errno));
        if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "pivot_root", "cannot detach the old root: %s",
                               strerror(errno));
        for (size_t i = 0; i < N_DEV; i++)
                if (m->dev[i] >= 0) {
                        close(m->dev[i]);
                        m->dev[i] = -1;
                }
        close(m->root);
        m->root = -1;
        return 0;
}

int mounts_seal_root(struct task *t, struct sr_error *e) {
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
        if (!t->pol->root_readonly)
                return 0;
        if (mount_setattr(AT_FDCWD, "/", 0, &a, sizeof a) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "root_readonly", "cannot make the root read-only: %s",
                               strerror(errno));
        return 0;
}
