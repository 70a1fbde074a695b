/* File system helpers for paths that come from outside (openat2, mkdir -p by fd). */
#include "launcher/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
        struct open_how how = { .flags = (uint64_t)flags, .mode = flags & O_CREAT ? mode : 0, .resolve = resolve };
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        return fd < 0 ? -errno : (int)fd;
}

int fs_mkdir_p_beneath(int dirfd, const char *path) {
        int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        char comp[256];
        const char *p = path;
        if (cur < 0)
                return -errno;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                int next;
                if (n == 0) {
                        p++;
                        continue;
                }
                if (n >= sizeof comp || (n == 2 && p[0] == '.' && p[1] == '.')) {
                        close(cur);
                        return -EINVAL;
                }
                memcpy(comp, p, n);
                comp[n] = 0;
                if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
                        int r = -errno;
                        close(cur);
                        return r;
                }
                next = fs_openat2(cur, comp, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0,
                                  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                close(cur);
                if (next < 0)
                        return next;
                cur = next;
                p += n;
        }
        return cur;
}

const char *fs_split_parent(const char *path, char *buf, size_t size) {
        const char *slash = strrchr(path, '/');
        size_t n;
        if (!slash) {
                snprintf(buf, size, ".");
                return path;
        }
        n = (size_t)(slash - path);
        if (n >= size)
                n = size - 1;
        memcpy(buf, path, n);
        buf[n] = 0;
        if (!n)
                snprintf(buf, size, ".");
        return slash + 1;
}
