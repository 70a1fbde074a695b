/* The tenant id registry: a root-owned text file mapping each tenant to its own
 * host uid/gid block, so two tenants' payloads never share a host uid (the
 * stable cousin of systemd-nspawn's PrivateUsers=pick). Entries are only ever
 * added: a block once handed to a tenant is never handed to another, so files
 * a tenant left behind never become another tenant's. */
#include "launcher/idreg.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "launcher/fsutil.h"

static void entries_freep(struct idreg_entry **p) {
        free(*p);
}

static int parse_u32(const char *s, uint32_t *ret) {
        long v;
        int r = parse_long(s, 0, 0xfffffffeL, &v);
        if (r == 0)
                *ret = (uint32_t)v;
        return r;
}

int idreg_parse(const char *buf, size_t len, struct idreg_entry **ret, size_t *ret_n, size_t *ret_line) {
        _cleanup_(entries_freep) struct idreg_entry *v = NULL;
        size_t n = 0, cap = 0, line = 0;
        const char *p = buf, *end = buf + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
                char l[256], tenant[80], first[16], count[16], extra[2];
                line++;
                *ret_line = line;
                if (ll >= sizeof l || memchr(p, 0, ll))
                        return -EINVAL;
                memcpy(l, p, ll);
                l[ll] = 0;
                p += ll + (nl ? 1 : 0);
                if (!l[0] || l[0] == '#')
                        continue;
                if (sscanf(l, "%79s %15s %15s %1s", tenant, first, count, extra) != 3 || !slug_valid(tenant))
                        return -EINVAL;
                if (n == cap) {
                        struct idreg_entry *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *nv);
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                }
                memset(&v[n], 0, sizeof v[n]);
                snprintf(v[n].tenant, sizeof v[n].tenant, "%s", tenant);
                if (parse_u32(first, &v[n].first) < 0 || parse_u32(count, &v[n].count) < 0 || v[n].count == 0 ||
                    v[n].first > 0xfffffffeu - (v[n].count - 1))
                        return -EINVAL;
                for (size_t i = 0; i < n; i++)
                        if (strcmp(v[i].tenant, v[n].tenant) == 0 || (v[n].first <= v[i].first + (v[i].count - 1) &&
                                                                      v[i].first <= v[n].first + (v[n].count - 1)))
                                return -EINVAL;
                n++;
        }
        *ret_line = 0;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int idreg_pick(const struct idreg_entry *v, size_t n, uint32_t first, uint32_t last, uint32_t block, uint32_t *ret) {
        for (uint64_t b = first; b + block - 1 <= last; b += block) {
                bool used = false;
                for (size_t i = 0; i < n && !used; i++)
                        used = b <= (uint64_t)v[i].first + (v[i].count - 1) && v[i].first <= b + block - 1;
                if (!used) {
                        *ret = (uint32_t)b;
                        return 0;
                }
        }
        return -ENOSPC;
}

const char *idreg_path(void) {
        const char *p = secure_getenv(IDREG_ENV);
        return p && *p ? p : IDREG_DEFAULT_PATH;
}

/* Root-owned and writable by root alone: anyone else who could write the
 * file or rename within its directory could hand themselves a tenant's ids. */
static int trusted(int fd, bool dir) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
                return -EBADF;
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) || (!dir && st.st_nlink != 1))
                return -EPERM;
        return 0;
}

static int write_registry(int dfd, const char *base, const struct idreg_entry *v, size_t n) {
        char tmp[300];
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "# sealrun tenant id registry: TENANT FIRST COUNT (host uids and gids FIRST..FIRST+COUNT-1).\n"
                   "# Written by sealrun under a lock; a block is never handed to another tenant.\n");
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s %u %u\n", v[i].tenant, v[i].first, v[i].count);
        if (fclose(f) != 0)
                return -ENOMEM;
        snprintf(tmp, sizeof tmp, ".%s.new", base);
        /* a leftover of a crash; we hold the lock, so nobody else writes it */
        if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT)
                return -errno;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, text, len);
        if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
                r = -errno;
        if (r == 0 && renameat(dfd, tmp, dfd, base) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dfd, tmp, 0);
                return r;
        }
        return fsync(dfd) < 0 ? -errno : 0;
}

int idreg_lookup(const char *path, const char *tenant, uint32_t first, uint32_t last, uint32_t *ret_base,
                 struct sr_error *e) {
        char dir[4096];
        const char *base;
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *buf = NULL;
        _cleanup_(entries_freep) struct idreg_entry *v = NULL;
        size_t len = 0, n = 0, line = 0;
        uint32_t b;
        int r;

        if (path[0] != '/' || strlen(path) >= sizeof dir)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "tenant-ids",
                               "%s: the tenant id registry must be an absolute path", path);
        base = fs_split_parent(path, dir, sizeof dir);
        if (!*base)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "tenant-ids", "%s: the tenant id registry must name a file",
                               path);
        if (!dir[0] || strcmp(dir, ".") == 0)
                snprintf(dir, sizeof dir, "/");
        /* The default's directory is ours to create; an override's must exist. */
        if (strcmp(path, IDREG_DEFAULT_PATH) == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "tenant-ids", "%s: cannot create %s: %s", path, dir,
                               strerror(errno));
        dfd = fs_openat2(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                         RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (dfd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -dfd, "tenant-ids", "%s: cannot open its directory: %s", path,
                               strerror(-dfd));
        if ((r = trusted(dfd, true)) < 0)
                return sr_fail(e, SR_EXIT_REFUSED, -r, "tenant-ids",
                               "%s: its directory %s must be owned by root and not group/other-writable", path, dir);
        if (flock(dfd, LOCK_EX) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "tenant-ids", "%s: cannot lock %s: %s", path, dir,
                               strerror(errno));
        fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT)
                return sr_fail(e, errno == ELOOP ? SR_EXIT_REFUSED : SR_EXIT_LAUNCHER, errno, "tenant-ids",
                               "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) {
                if ((r = trusted(fd, false)) < 0)
                        return sr_fail(
                                e, SR_EXIT_REFUSED, -r, "tenant-ids",
                                "%s: must be a regular file owned by root, not group/other-writable, with one link",
                                path);
                r = read_fd_all(fd, IDREG_MAX_BYTES, &buf, &len);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "tenant-ids", "%s: cannot read: %s", path,
                                       strerror(-r));
                r = idreg_parse(buf, len, &v, &n, &line);
                if (r == -ENOMEM)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
                if (r < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, EINVAL, "tenant-ids",
                                       "%s: line %zu: expected \"TENANT FIRST COUNT\" with a valid slug, no duplicate "
                                       "tenant and no overlapping block",
                                       path, line);
        }
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].tenant, tenant) == 0) {
                        if (v[i].count < POL_IDS_BLOCK)
                                return sr_fail(e, SR_EXIT_REFUSED, ERANGE, "tenant-ids",
                                               "%s: tenant %s: block of %u ids, %u needed", path, tenant, v[i].count,
                                               POL_IDS_BLOCK);
                        *ret_base = v[i].first;
                        return 0;
                }
        if (idreg_pick(v, n, first, last, POL_IDS_BLOCK, &b) < 0)
                return sr_fail(e, SR_EXIT_REFUSED, ENOSPC, "tenant-ids-full",
                               "%s: no free block of %u ids left in %u..%u for tenant %s", path, POL_IDS_BLOCK, first,
                               last, tenant);
        {
                struct idreg_entry *nv = realloc(v, (n + 1) * sizeof *nv);
                if (!nv)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
                v = nv;
                memset(&v[n], 0, sizeof v[n]);
                snprintf(v[n].tenant, sizeof v[n].tenant, "%s", tenant);
                v[n].first = b;
                v[n].count = POL_IDS_BLOCK;
        }
        if ((r = write_registry(dfd, base, v, n + 1)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "tenant-ids", "%s: cannot record tenant %s: %s", path, tenant,
                               strerror(-r));
        *ret_base = b;
        return 0; /* the lock goes with dfd */
}
