/* /proc and /sys hardening inside the new root: mask kernel-wide files, make kernel knobs read-only.
 *
 * Runs in sandbox init right after pivot_root. Every target is opened with
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) and must sit on procfs or
 * sysfs (fstatfs) before anything is mounted over it, and the mount goes
 * onto that fd: a target swapped for a symlink or a file elsewhere is never
 * mounted over (the CVE-2025-31133 / CVE-2025-52565 family in runc). The mask
 * itself comes from a private tmpfs that only we hold, not from /dev/null,
 * whose identity would need checking too. */
#include "launcher/procmask.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "launcher/fsutil.h"

/* Kernel-wide information or interfaces that a sandbox has no use for. */
static const char *const proc_masked[] = {
        "kcore",         "kallsyms",   "keys",       "key-users",   "timer_list",  "sched_debug",
        "latency_stats", "kpagecount", "kpageflags", "kpagecgroup", "vmallocinfo", "interrupts",
        "acpi",          "scsi",       "asound",     "driver",      "config.gz",
};
static const char *const proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
static const char *const sys_masked[] = {
        "firmware", "kernel/debug", "kernel/tracing", "kernel/security", "fs/selinux", "devices/virtual/powercap",
};

struct masks {
        int tmpfs; /* detached private tmpfs: "f" empty file, "d" empty dir */
        int count;
};

static int make_mask_source(struct masks *m) {
        static const struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), f = -1;
        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "size", "4096", 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "8", 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        m->tmpfs = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (m->tmpfs < 0)
                return -errno;
        f = openat(m->tmpfs, "f", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
        if (f < 0 || mkdirat(m->tmpfs, "d", 0555) < 0)
                return -errno;
        close(TAKE_FD(f));
        if (mount_setattr(m->tmpfs, "", AT_EMPTY_PATH, (struct mount_attr *)&ro, sizeof ro) < 0)
                return -errno;
        return 0;
}

/* Before Linux 6.15 open_tree(OPEN_TREE_CLONE) refuses a detached mount
 * (EINVAL), so the mask source is attached below the new root for the time
 * of the masking and detached again afterwards. */
#define MASK_DIR ".sealrun-mask"
static int attach_mask_source(struct masks *m, int root) {
        int fd;
        if (mkdirat(root, MASK_DIR, 0700) < 0)
                return -errno;
        if (move_mount(m->tmpfs, "", root, MASK_DIR, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        fd = openat(root, MASK_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        close(m->tmpfs);
        m->tmpfs = fd;
        return 0;
}

static void detach_mask_source(struct masks *m, int root) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", m->tmpfs);
        umount2(path, MNT_DETACH);
        close(m->tmpfs);
        m->tmpfs = -1;
        unlinkat(root, MASK_DIR, AT_REMOVEDIR);
}

/* The kernel filesystems a host mounts below /sys (tracefs on
 * /sys/kernel/tracing, debugfs, securityfs, selinuxfs): masking them is the
 * point, so a /sys entry on one of these counts as "on sysfs". */
static bool on_expected_fs(long type, long magic) {
        if (type == magic)
                return true;
        return magic == SYSFS_MAGIC && (type == TRACEFS_MAGIC || type == DEBUGFS_MAGIC || type == SECURITYFS_MAGIC ||
                                        type == (long)SELINUX_MAGIC);
}

/* The target below `root`, opened without following anything, and only if
 * it is on the filesystem we expect. -ENOENT: nothing to protect. */
static int open_target(int root, const char *path, long magic, struct sr_error *e) {
        struct statfs sf;
        int fd = fs_openat2(root, path, O_PATH | O_CLOEXEC | O_NOFOLLOW, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return -ENOENT;
        if (fd < 0)
                return sr_fail(e, SR_EXIT_REFUSED, -fd, "procmask", "/%s: cannot open it safely to mask it: %s%s", path,
                               strerror(-fd), fd == -ELOOP || fd == -EXDEV ? " (symlink or escape; refusing)" : "");
        if (fstatfs(fd, &sf) < 0 || !on_expected_fs((long)sf.f_type, magic)) {
                close(fd);
                return sr_fail(e, SR_EXIT_REFUSED, EXDEV, "procmask", "/%s: not on %s, refusing to mount over it", path,
                               magic == PROC_SUPER_MAGIC ? "procfs" : "sysfs");
        }
        return fd;
}

static int mask_one(struct masks *m, int target, const char *path, struct sr_error *e) {
        struct stat st;
        _cleanup_close_ int tree = -1;
        if (fstat(target, &st) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "procmask", "/%s: %s", path, strerror(errno));
        tree = open_tree(m->tmpfs, S_ISDIR(st.st_mode) ? "d" : "f", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0 || move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "procmask", "/%s: cannot mask it: %s", path,
                               strerror(errno));
        m->count++;
        return 0;
}

static int readonly_one(int target, const char *path, struct sr_error *e) {
        struct mount_attr a = { .attr_set =
                                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        _cleanup_close_ int tree =
                open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0 ||
            move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "procmask", "/%s: cannot make it read-only: %s", path,
                               strerror(errno));
        return 0;
}

static int apply_list(struct masks *m, int root, const char *base, const char *const *names, size_t n, long magic,
                      bool readonly, struct sr_error *e) {
        for (size_t i = 0; i < n; i++) {
                char path[4200];
                int fd, r;
                snprintf(path, sizeof path, "%s/%s", base, names[i]);
                fd = open_target(root, path, magic, e);
                if (fd == -ENOENT)
                        continue;
                if (fd < 0)
                        return fd;
                r = readonly ? readonly_one(fd, path, e) : mask_one(m, fd, path, e);
                close(fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* base is relative to root ("proc"); nothing to do when it is not procfs. */
static int harden_proc(struct masks *m, int root, const char *base, struct sr_error *e) {
        struct statfs sf;
        _cleanup_close_ int fd =
                fs_openat2(root, base, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        int r;
        if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
                return 0;
        if ((r = apply_list(m, root, base, proc_masked, ELEMENTSOF(proc_masked), PROC_SUPER_MAGIC, false, e)) < 0)
                return r;
        return apply_list(m, root, base, proc_readonly, ELEMENTSOF(proc_readonly), PROC_SUPER_MAGIC, true, e);
}

static int harden_sys(struct masks *m, int root, const char *base, struct sr_error *e) {
        struct statfs sf;
        _cleanup_close_ int fd =
                fs_openat2(root, base, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != SYSFS_MAGIC)
                return 0;
        return apply_list(m, root, base, sys_masked, ELEMENTSOF(sys_masked), SYSFS_MAGIC, false, e);
}

int procmask_apply_at(int root, const struct policy *p, struct sr_error *e) {
        struct masks m = { .tmpfs = -1 };
        int r = make_mask_source(&m);
        if (r >= 0 && (r = attach_mask_source(&m, root)) < 0)
                unlinkat(root, MASK_DIR, AT_REMOVEDIR);
        if (r < 0) {
                if (m.tmpfs >= 0)
                        close(m.tmpfs);
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "procmask", "cannot create the mask tmpfs: %s", strerror(-r));
        }
        /* Every procfs the plan mounted, and /proc and /sys wherever they came from. */
        r = harden_proc(&m, root, "proc", e);
        for (size_t i = 0; r >= 0 && p && i < p->n_mounts; i++)
                if (p->mounts[i].type == MNT_PROC && strcmp(p->mounts[i].dst, "/proc") != 0)
                        r = harden_proc(&m, root, p->mounts[i].dst + 1, e);
        if (r >= 0)
                r = harden_sys(&m, root, "sys", e);
        detach_mask_source(&m, root);
        return r < 0 ? r : m.count;
}

int procmask_apply(struct task *t, struct sr_error *e) {
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;
        if (root < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "procmask", "cannot open /: %s", strerror(errno));
        r = procmask_apply_at(root, t->pol, e);
        return r < 0 ? r : 0;
}
