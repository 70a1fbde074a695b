/* Files on the host: walk a tree scanning every name and the contents of what changed during the run; scan one file. */
#include "helpers/leaktest/leaktest.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define READ_CHUNK (1u << 20)
#define FILE_MAX (512ull << 20)
#define MAX_DEPTH 40
#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

/* Kernel views and remote/user filesystems: nothing there is a file a leak
 * could have left, and reading some of them has side effects or may hang. */
static bool skip_fs(int dfd) {
        struct statfs sf;
        if (fstatfs(dfd, &sf) < 0)
                return true;
        switch ((unsigned long)sf.f_type) {
        case PROC_SUPER_MAGIC:
        case SYSFS_MAGIC:
        case CGROUP_SUPER_MAGIC:
        case CGROUP2_SUPER_MAGIC:
        case DEBUGFS_MAGIC:
        case TRACEFS_MAGIC:
        case SECURITYFS_MAGIC:
        case BPF_FS_MAGIC:
        case DEVPTS_SUPER_MAGIC:
        case NSFS_MAGIC:
        case FUSE_SUPER_MAGIC: return true;
        default: return false;
        }
}

static int scan_fd_stream(struct sink *k, int fd, uint64_t *bytes) {
        struct scan_stream ss;
        uint8_t *buf = malloc(READ_CHUNK);
        int r = 0;
        if (!buf || scan_stream_init(&ss, &k->lt->scanner, sink_hit, k) < 0) {
                free(buf);
                return -ENOMEM;
        }
        for (;;) {
                ssize_t n = read(fd, buf, READ_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                scan_stream_feed(&ss, buf, (size_t)n);
                if (bytes)
                        *bytes += (uint64_t)n;
        }
        scan_stream_finish(&ss);
        scan_stream_free(&ss);
        sodium_memzero(buf, READ_CHUNK);
        free(buf);
        return r;
}

int files_scan_one(struct sink *k, const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        struct stat sb;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
                close(fd);
                return -EINVAL;
        }
        int r = scan_fd_stream(k, fd, NULL);
        close(fd);
        return r;
}

static void walk_dir(struct sink *k, int dfd, char *path, size_t plen, size_t cap, time_t since, int depth,
                     struct walk_stats *st) {
        DIR *d;
        struct dirent *de;

        if (depth > MAX_DEPTH || skip_fs(dfd)) {
                close(dfd);
                return;
        }
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                st->unreadable++;
                return;
        }
        st->dirs++;
        while ((de = readdir(d))) {
                struct stat sb;
                size_t nl = strlen(de->d_name);
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (plen + 1 + nl + 1 > cap)
                        continue;
                path[plen] = '/';
                memcpy(path + plen + 1, de->d_name, nl + 1);
                st->names++;
                /* the name itself: a canary (or its hex) as a file name */
                struct sink nk = *k;
                snprintf(nk.base.what, sizeof nk.base.what, "file name");
                snprintf(nk.base.file, sizeof nk.base.file, "%s", path);
                sink_scan(&nk, de->d_name, nl);
                k->forbidden += nk.forbidden;
                if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
                        st->unreadable++;
                        continue;
                }
                if (S_ISDIR(sb.st_mode)) {
                        int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0)
                                st->unreadable++;
                        else
                                walk_dir(k, cfd, path, plen + 1 + nl, cap, since, depth + 1, st);
                } else if (S_ISREG(sb.st_mode) && (sb.st_ctime >= since || sb.st_mtime >= since)) {
                        if ((uint64_t)sb.st_size > FILE_MAX) {
                                st->skipped_big++;
                                continue;
                        }
                        int ffd =
                                openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
                        if (ffd < 0) {
                                st->unreadable++;
                                continue;
                        }
                        struct sink fk = *k;
                        snprintf(fk.base.what, sizeof fk.base.what, "file");
                        snprintf(fk.base.file, sizeof fk.base.file, "%s", path);
                        if (scan_fd_stream(&fk, ffd, &st->bytes) < 0)
                                st->unreadable++;
                        else
                                st->scanned++;
                        k->forbidden += fk.forbidden;
                        close(ffd);
                }
        }
        path[plen] = '\0';
        closedir(d);
}

int files_walk(struct sink *k, const char *root, time_t since, struct walk_stats *st) {
        char path[4096];
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        snprintf(path, sizeof path, "%s", strcmp(root, "/") == 0 ? "" : root);
        walk_dir(k, fd, path, strlen(path), sizeof path, since, 0, st);
        return 0;
}
