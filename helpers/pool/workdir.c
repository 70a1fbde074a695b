/* sealrun-pool: a request's work dir, resolved beneath the configured work root and copied into done/<task>.work. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "helpers/pool/pool.h"

#define WORK_DEPTH_MAX 64

static int openat2_fd(int dirfd, const char *path, int flags, uint64_t resolve) {
        struct open_how how = { .flags = (uint64_t)flags, .resolve = resolve };
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        return fd < 0 ? -errno : (int)fd;
}

/* Is the directory `fd` (or one of its ancestors) the one with dev/ino `st`? */
static bool dir_below(int fd, const struct stat *st) {
        int cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        struct stat s, up;
        bool found = false;
        for (int i = 0; cur >= 0 && i < 4096; i++) {
                if (fstat(cur, &s) < 0)
                        break;
                if (s.st_dev == st->st_dev && s.st_ino == st->st_ino) {
                        found = true;
                        break;
                }
                int parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (parent < 0 || fstat(parent, &up) < 0 || (up.st_dev == s.st_dev && up.st_ino == s.st_ino)) {
                        if (parent >= 0)
                                close(parent);
                        break; /* reached "/" */
                }
                close(cur);
                cur = parent;
        }
        if (cur >= 0)
                close(cur);
        return found;
}

/* The work root must not hold what a task must never see: the spool (other
 * tasks' requests and output), the key's directory, the profiles and the
 * config's directory; nor lie inside the spool (done/ holds every task's
 * output). Checked by inode, walking up "..", so no spelling of the paths
 * matters. protect[0] is the spool. */
int workdir_open_root(struct pool *p, const char *const *protect, size_t n_protect, struct sr_error *e) {
        const struct pool_config *c = &p->cfg;
        struct stat rst;
        int fd = openat2_fd(AT_FDCWD, c->work_root, O_PATH | O_DIRECTORY | O_CLOEXEC,
                            RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -fd, "config", "%s: $.work_root: %s: %s", c->file, c->work_root,
                               fd == -ELOOP ? "a path with a symlink (give the real path)" : strerror(-fd));
        if (fstat(fd, &rst) < 0) {
                close(fd);
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "config", "%s: $.work_root: %s", c->file, strerror(errno));
        }
        for (size_t i = 0; i < n_protect; i++) {
                struct stat pst;
                int pfd;
                if (!protect[i])
                        continue;
                pfd = open(protect[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (pfd < 0)
                        continue;
                bool inside = dir_below(pfd, &rst), holds = i == 0 && fstat(pfd, &pst) == 0 && dir_below(fd, &pst);
                close(pfd);
                if (inside || holds) {
                        close(fd);
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "config",
                                       "%s: $.work_root: %s %s %s, which a task must never see", c->file, c->work_root,
                                       inside ? "contains" : "is inside", protect[i]);
                }
        }
        p->work_root_fd = fd;
        p->work_root_dev = rst.st_dev;
        return 0;
}

static int copy_file(int sfd, int dfd, const char *name, const struct stat *st, uint64_t *budget) {
        _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        _cleanup_close_ int out = -1;
        struct stat ist;
        if (in < 0)
                return -errno;
        /* the entry may have been swapped since fstatat: trust the open file only */
        if (fstat(in, &ist) < 0 || !S_ISREG(ist.st_mode) || ist.st_dev != st->st_dev)
                return -EINVAL;
        if ((uint64_t)ist.st_size > *budget)
                return -EFBIG;
        out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, ist.st_mode & 0777);
        if (out < 0)
                return -errno;
        for (;;) {
                /* never more than the budget plus one byte: a file growing while it is copied stops at once */
                size_t want = *budget < (1U << 30) ? (size_t)*budget + 1 : 1U << 30;
                ssize_t n = copy_file_range(in, NULL, out, NULL, want, 0);
                if (n == 0)
                        break;
                if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
                        char buf[65536];
                        n = read(in, buf, want < sizeof buf ? want : sizeof buf);
                        if (n > 0 && write_all(out, buf, (size_t)n) < 0)
                                return -errno;
                }
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                if ((uint64_t)n > *budget)
                        return -EFBIG;
                *budget -= (uint64_t)n;
        }
        return 0;
}

struct copy_state {
        dev_t dev;
        uint64_t bytes_left;
        long files_left;
        char where[512]; /* the entry that failed, relative to the work dir */
};

static int copy_tree(int sfd, int dfd, const char *rel, int depth, struct copy_state *cs) {
        int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        int r = 0;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        if (depth > WORK_DEPTH_MAX) {
                closedir(d);
                snprintf(cs->where, sizeof cs->where, "%s", rel);
                return -ELOOP;
        }
        while (r == 0 && (de = readdir(d))) {
                struct stat st;
                char sub[512];
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
                if (--cs->files_left < 0) {
                        r = -E2BIG;
                } else if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                } else if (st.st_dev != cs->dev) {
                        r = -EXDEV; /* a mount point inside the work dir */
                } else if (S_ISDIR(st.st_mode)) {
                        int s2 = -1, d2 = -1;
                        if (mkdirat(dfd, de->d_name, 0700) < 0 ||
                            (s2 = openat(sfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
                            (d2 = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                                r = -errno;
                        else if ((r = copy_tree(s2, d2, sub, depth + 1, cs)) == 0)
                                (void)fchmod(d2, (st.st_mode & 0777) | 0700); /* the pool can always clean it up */
                        if (s2 >= 0)
                                close(s2);
                        if (d2 >= 0)
                                close(d2);
                        if (r < 0 && cs->where[0])
                                continue; /* a deeper entry is named already */
                } else if (S_ISREG(st.st_mode)) {
                        r = copy_file(sfd, dfd, de->d_name, &st, &cs->bytes_left);
                } else if (S_ISLNK(st.st_mode)) {
                        /* copied as it is, never followed by the pool: it resolves inside the sandbox */
                        char target[4096];
                        ssize_t n = readlinkat(sfd, de->d_name, target, sizeof target - 1);
                        if (n < 0)
                                r = -errno;
                        else {
                                target[n] = 0;
                                if (symlinkat(target, dfd, de->d_name) < 0)
                                        r = -errno;
                        }
                } else {
                        r = -EINVAL; /* device, FIFO or socket: not a work file */
                }
                if (r < 0 && !cs->where[0])
                        snprintf(cs->where, sizeof cs->where, "%s", sub);
        }
        closedir(d);
        return r;
}

/* Remove a tree by fd (a failed copy), never following a symlink. */
static void remove_tree(int parent, const char *name) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                unlinkat(parent, name, 0);
                return;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        if (de->d_type == DT_DIR)
                                remove_tree(dirfd(d), de->d_name);
                        else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR)
                                remove_tree(dirfd(d), de->d_name);
                }
        closedir(d);
        unlinkat(parent, name, AT_REMOVEDIR);
}

static const char *why(int r) {
        switch (r) {
        case -ELOOP: return "a symlink on the way (or nested too deep)";
        case -EXDEV: return "crosses a mount point";
        case -ENOENT: return "does not exist";
        case -ENOTDIR: return "is not a directory";
        case -EACCES: return "not readable by the pool's user";
        case -EINVAL: return "not a regular file, directory or symlink";
        case -EFBIG: return "more bytes than a work dir may have";
        case -E2BIG: return "more entries than a work dir may have";
        default: return strerror(-r);
        }
}

int workdir_prepare(struct pool *p, const char *name, const struct pool_request *rq, char **ret_path,
                    struct sr_error *e) {
        struct copy_state cs = { .bytes_left = POOL_WORK_MAX_BYTES, .files_left = POOL_WORK_MAX_FILES };
        _cleanup_close_ int src = -1, dst = -1;
        char dname[160];
        struct stat st;
        int r;
        if (p->work_root_fd < 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "workdir-denied",
                               "%s: $.workdir: this pool has no work_root configured", name);
        /* Beneath the root, no symlink anywhere (not even a planted one to the
         * key or the spool), no mount crossed, no "..": the kernel checks each
         * component of this open; nothing is looked up by path afterwards. */
        src = openat2_fd(p->work_root_fd, rq->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
        if (src < 0)
                return sr_fail(e, SR_EXIT_REFUSED, -src, "workdir-denied", "%s: $.workdir: \"%s\" under %s: %s", name,
                               rq->workdir, p->cfg.work_root, why(src));
        if (fstat(src, &st) < 0 || st.st_dev != p->work_root_dev)
                return sr_fail(e, SR_EXIT_REFUSED, EXDEV, "workdir-denied", "%s: $.workdir: \"%s\": %s", name,
                               rq->workdir, why(-EXDEV));
        snprintf(dname, sizeof dname, "%s.work", rq->task);
        if (mkdirat(p->done_fd, dname, 0700) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "workdir", "done/%s: cannot create: %s", dname,
                               strerror(errno));
        dst = openat(p->done_fd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cs.dev = st.st_dev;
        r = dst < 0 ? -errno : copy_tree(src, dst, "", 0, &cs);
        if (r < 0) {
                remove_tree(p->done_fd, dname);
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "workdir", "%s: $.workdir: \"%s\": %s%s%s", name, rq->workdir,
                               cs.where, cs.where[0] ? ": " : "", why(r));
        }
        (void)fchmod(dst, (st.st_mode & 0777) | 0700);
        if (asprintf(ret_path, "%s/%s", p->done_path, dname) < 0)
                return -ENOMEM;
        return 0;
}
