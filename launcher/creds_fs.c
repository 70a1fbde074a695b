/* The credentials mount: staged on a detached tmpfs/ramfs, attached read-only; scrubbed by overwriting in place.
 *
 * The kernel does not zero freed page-cache pages (unless booted with
 * init_on_free=1), so unmounting a tmpfs is not a scrub: every file is
 * overwritten with zeros before it is unlinked and the mount detached. */
#include "launcher/creds_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "launcher/sandbox.h"
#include "launcher/fsutil.h"
#include "launcher/sync.h"

#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

static int fs_create(const char *type, bool noswap, size_t bytes, size_t n) {
        _cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
        char size[32], inodes[32];
        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0500", 0) < 0)
                return -errno;
        if (strcmp(type, "tmpfs") == 0) {
                /* room for the values plus a page per file, and no more */
                snprintf(size, sizeof size, "%zu", bytes + (n + 4) * 4096);
                snprintf(inodes, sizeof inodes, "%zu", n + 4);
                if (fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", inodes, 0) < 0)
                        return -errno;
                /* Linux 6.4+, and only in the initial user namespace */
                if (noswap && fsconfig(fs, FSCONFIG_SET_FLAG, "noswap", NULL, 0) < 0)
                        return -errno;
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        return mnt < 0 ? -errno : mnt;
}

/* tmpfs with noswap where the kernel allows it; else ramfs, whose pages are
 * never swapped; plain tmpfs (swappable) only as a last resort, reported. */
static int creds_fs_new(struct task *t, size_t bytes, size_t n, const char **ret_kind) {
        int mnt = fs_create("tmpfs", true, bytes, n);
        *ret_kind = "tmpfs,noswap";
        if (mnt >= 0)
                return mnt;
        mnt = fs_create("ramfs", false, bytes, n);
        *ret_kind = "ramfs";
        if (mnt >= 0)
                return mnt;
        mnt = fs_create("tmpfs", false, bytes, n);
        *ret_kind = "tmpfs";
        if (mnt >= 0)
                sync_send(t->sync_child, SYNC_NOTE, 0, 0, "credentials", "credentials-noswap");
        return mnt;
}

static int write_one(int dfd, const struct creds_file *f, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = openat(dfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
        int r;
        if (fd < 0)
                return -errno;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0400) < 0)
                return -errno;
        if ((r = write_all(fd, f->value, f->len)) < 0)
                return r;
        return 0;
}

int creds_fs_stage(struct task *t, const char *dir, const struct creds_file *files, size_t n, struct sr_error *e) {
        _cleanup_close_ int mnt = -1, root = -1, target = -1;
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        const char *kind = NULL;
        size_t bytes = 0;
        int r;

        for (size_t i = 0; i < n; i++)
                bytes += files[i].len;
        /* the mountpoint was made by the mount step; never follow a symlink to it */
        target = fs_openat2(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                            RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (target < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -target, "credentials", "credentials directory %s: %s", dir,
                               strerror(-target));
        mnt = creds_fs_new(t, bytes, n, &kind);
        if (mnt < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -mnt, "credentials",
                               "cannot create the credentials file system: %s", strerror(-mnt));
        root = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials", "cannot open the credentials file system: %s",
                               strerror(errno));
        for (size_t i = 0; i < n; i++)
                if ((r = write_one(root, &files[i], sandbox_uid(t), sandbox_gid(t))) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "credentials", "cannot write credential %s: %s",
                                       files[i].name, strerror(-r));
        if (fchown(root, sandbox_uid(t), sandbox_gid(t)) < 0 || fchmod(root, 0500) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials",
                               "cannot set the credentials directory's owner and mode: %s", strerror(errno));
        if (mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials",
                               "cannot make the credentials mount read-only: %s", strerror(errno));
        if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials", "cannot mount the credentials at %s: %s", dir,
                               strerror(errno));
        return 0;
}

/* Overwrite the whole file with zeros, in place, and push it to the pages. */
static int zero_file(int dfd, const char *name) {
        static const char zeros[4096];
        _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        off_t off = 0;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        while (off < st.st_size) {
                size_t n = (size_t)(st.st_size - off) < sizeof zeros ? (size_t)(st.st_size - off) : sizeof zeros;
                ssize_t w = pwrite(fd, zeros, n, off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return w < 0 ? -errno : -EIO;
                off += w;
        }
        return fsync(fd) < 0 ? -errno : 0;
}

static bool is_our_mount(int dfd) {
        struct statx stx;
        struct statfs sfs;
        if (statx(dfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0 ||
            !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) || !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return false;
        if (fstatfs(dfd, &sfs) < 0)
                return false;
        return sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC;
}

static int mnt_id(int dfd, const char *path, uint64_t *ret) {
        struct statx stx;
        if (statx(dfd, path, AT_SYMLINK_NOFOLLOW | (*path ? 0 : AT_EMPTY_PATH), STATX_MNT_ID, &stx) < 0)
                return -errno;
        *ret = stx.stx_mnt_id;
        return 0;
}

int creds_fs_hold_parent(const char *dir) {
        char parent[4096];
        fs_split_parent(dir, parent, sizeof parent);
        return fs_openat2(AT_FDCWD, parent[0] == '.' && !parent[1] ? "/" : parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                          RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

int creds_fs_scrub(struct task *t, const char *dir, struct sr_error *e) {
        return creds_fs_scrub_at(t, -1, dir, e);
}

int creds_fs_scrub_at(struct task *t, int parent_fd, const char *dir, struct sr_error *e) {
        struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };
        _cleanup_close_ int dfd = -1;
        struct dirent *de;
        char parent[4096];
        uint64_t ours = 0, there = 0;
        DIR *d;
        int r = 0, fd2;

        /* Through the parent init opened before the payload ran: a payload
         * that renames a writable ancestor away (the mountpoint itself is
         * busy) and leaves an empty directory at the path cannot make the
         * scrub miss the real mount. */
        if (parent_fd >= 0)
                dfd = fs_openat2(parent_fd, fs_split_parent(dir, parent, sizeof parent),
                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                                 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        else
                dfd = fs_openat2(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                                 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -dfd, "scrub", "credentials directory %s: %s", dir, strerror(-dfd));
        if (!is_our_mount(dfd))
                return 0; /* staging never got as far as the mount */
        if (mount_setattr(dfd, "", AT_EMPTY_PATH, &rw, sizeof rw) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "scrub",
                               "cannot make the credentials mount writable to wipe it: %s", strerror(errno));
        if (fchmod(dfd, 0700) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "scrub", "%s: %s", dir, strerror(errno));
        fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!d) {
                if (fd2 >= 0)
                        close(fd2);
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "scrub", "%s: %s", dir, strerror(errno));
        }
        while ((de = readdir(d))) {
                int k;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                k = zero_file(dfd, de->d_name);
                if (k < 0 && r == 0)
                        r = sr_fail(e, SR_EXIT_LAUNCHER, -k, "scrub", "cannot overwrite credential %s: %s", de->d_name,
                                    strerror(-k));
                if (unlinkat(dfd, de->d_name, 0) < 0 && r == 0)
                        r = sr_fail(e, SR_EXIT_LAUNCHER, errno, "scrub", "cannot remove credential %s: %s", de->d_name,
                                    strerror(errno));
        }
        closedir(d);
        if (r < 0)
                return r;
        /* wiped; unmount by path only if the path still names this mount
         * (otherwise it goes with the namespace) */
        if (mnt_id(dfd, "", &ours) < 0 || mnt_id(AT_FDCWD, dir, &there) < 0 || ours != there)
                return 0;
        close(dfd);
        dfd = -1;
        if (umount2(dir, UMOUNT_NOFOLLOW) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "scrub", "cannot unmount the credentials at %s: %s", dir,
                               strerror(errno));
        return 0;
}
