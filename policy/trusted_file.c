/* The one check for a file sealrun trusts: owner root or the caller, not writable by anyone else. */
#include "policy/trusted_file.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

int trusted_file_check(int fd, const char *name, const char *what, const char *reason, unsigned flags,
                       struct sr_error *e) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, reason, "%s: cannot stat %s: %s", name, what,
                               strerror(errno));
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, reason, "%s: %s is owned by uid %u, not by you or root", name,
                               what, (unsigned)st.st_uid);
        /* An unlinked file (memfd, O_TMPFILE; a memfd is 0777) is reachable
         * only through this fd, so its mode bits grant nothing to anyone. */
        if (flags & TRUSTED_FILE_SECRET) {
                if (st.st_nlink > 0 && (st.st_mode & 077))
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, reason,
                                       "%s: %s is accessible by group or others (mode %04o): chmod 0600 it", name, what,
                                       (unsigned)(st.st_mode & 07777));
                return 0;
        }
        if (st.st_mode & 022)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, reason, "%s: %s is writable by group or others (mode %04o)",
                               name, what, (unsigned)(st.st_mode & 07777));
        return 0;
}

int trusted_file_read(const char *path, const struct trusted_read *how, char **ret_buf, size_t *ret_len,
                      struct sr_error *e) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | how->open_flags);
        struct stat st;
        int r;
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, how->reason, "%s: cannot open %s: %s%s", path, how->what,
                               strerror(errno),
                               errno == ELOOP && (how->open_flags & O_NOFOLLOW) ? " (symlinks are not followed)" : "");
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, how->reason, "%s: %s is not a regular file", path,
                               how->what);
        if (how->perm_reason && (r = trusted_file_check(fd, path, how->what, how->perm_reason, how->flags, e)) < 0) {
                if (how->perm_exit_code && e->exit_code == SR_EXIT_REFUSED)
                        e->exit_code = how->perm_exit_code;
                return r;
        }
        if ((size_t)st.st_size > how->max)
                return sr_fail(e, SR_EXIT_LAUNCHER, EFBIG, how->reason, "%s: %s is larger than %zu bytes", path,
                               how->what, how->max);
        if ((r = read_fd_all(fd, how->max, ret_buf, ret_len)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, how->reason, "%s: cannot read %s: %s", path, how->what,
                               strerror(-r));
        return 0;
}

int private_dir_open(int dirfd, const char *name, const struct private_dir *how, int *ret_fd, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        struct stat st = { 0 };
        if (how->create_mode && mkdirat(dirfd, name, how->create_mode) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                if (ret_st)
                        (void)fstatat(dirfd, name, ret_st, AT_SYMLINK_NOFOLLOW);
                return r;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (ret_st)
                *ret_st = st;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (st.st_uid != how->owner && !(how->root_too && st.st_uid == 0))
                return -EPERM;
        if ((st.st_mode & how->forbidden) && !(how->sticky_ok && (st.st_mode & S_ISVTX)))
                return -EPERM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
