/* seccomp BPF cache (root only, in root-only directories): entries keyed by the filter, verified before use, rebuilt
 * when bad. */
#include "launcher/seccomp.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "policy/trusted_file.h"

#define CACHE_MAGIC "SRBPF02\n"
#define MAX_INSNS 4096 /* BPF_MAXINSNS */

/* On-disk entry: header, then the instructions. `sum` covers everything else. */
struct cache_hdr {
        char magic[8];
        uint8_t key[32];
        uint32_t n_insns;
        uint32_t flags; /* for seccomp(2) */
        uint8_t sum[32];
};

static void hash_text(crypto_generichash_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hash_text(crypto_generichash_state *st, const char *fmt, ...) {
        char buf[256];
        va_list ap;
        int n;
        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n > 0)
                crypto_generichash_update(st, (const unsigned char *)buf,
                                          (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static int key_raw(const struct policy_seccomp *s, uint8_t out[32]) {
        const struct scmp_version *v = seccomp_version();
        crypto_generichash_state st;
        struct utsname u;
        if (sodium_init() < 0 || uname(&u) < 0)
                return -EIO;
        crypto_generichash_init(&st, NULL, 0, 32);
        /* Everything that changes the generated program: the format of this
         * key, libseccomp's version, the native architecture, the kernel (its
         * features set libseccomp's API level; seccomp_api_get() would probe
         * them and cost what the cache saves) and the filter, canonically. */
        hash_text(&st, "sealrun-seccomp/1 libseccomp %u.%u.%u native %u kernel %s %s\n", v->major, v->minor, v->micro,
                  seccomp_arch_native(), u.release, u.version);
        if (!s->set || s->builtin) {
                /* The stock profile's text: a cache hit never parses it. */
                const char *text;
                size_t len;
                pol_seccomp_builtin_text(&text, &len);
                hash_text(&st, "builtin %zu\n", len);
                crypto_generichash_update(&st, (const unsigned char *)text, len);
        } else {
                hash_text(&st, "default %u flags %u arches", s->default_action, s->flags);
                for (size_t i = 0; i < s->n_arches; i++)
                        hash_text(&st, " %u", s->arches[i]);
                for (size_t i = 0; i < s->n_rules; i++) {
                        const struct seccomp_rule *r = &s->rules[i];
                        hash_text(&st, "\nrule %d %u %zu", r->nr, r->action, r->n_args);
                        for (size_t k = 0; k < r->n_args; k++)
                                hash_text(&st, " %u:%d:%llu:%llu", r->args[k].index, r->args[k].op,
                                          (unsigned long long)r->args[k].value,
                                          (unsigned long long)r->args[k].value_two);
                }
        }
        crypto_generichash_final(&st, out, 32);
        return 0;
}

int seccomp_cache_key(const struct policy_seccomp *s, char ret[SECCOMP_KEY_HEX]) {
        uint8_t raw[32];
        int r = key_raw(s, raw);
        if (r < 0)
                return r;
        sodium_bin2hex(ret, SECCOMP_KEY_HEX, raw, sizeof raw);
        return 0;
}

static void entry_name(char *buf, size_t size, const char *key) {
        snprintf(buf, size, "%s.bpf", key);
}

static void entry_sum(const struct cache_hdr *h, const struct sock_filter *prog, size_t len, uint8_t out[32]) {
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, (const unsigned char *)h, offsetof(struct cache_hdr, sum));
        crypto_generichash_update(&st, (const unsigned char *)prog, len * sizeof *prog);
        crypto_generichash_final(&st, out, 32);
}

int seccomp_cache_lookup(int dirfd, const char *key, uid_t owner, struct seccomp_bpf *ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ struct sock_filter *prog = NULL;
        struct cache_hdr h;
        char name[SECCOMP_KEY_HEX + 8];
        uint8_t raw[32], sum[32];
        size_t rawlen, n;
        struct stat st;

        entry_name(name, sizeof name, key);
        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : errno == ELOOP ? -EPERM : -errno;
        /* Trusted only if nobody but the caller could have written it. */
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != owner || (st.st_mode & 07777) != 0600 || st.st_nlink != 1)
                return -EPERM;
        if (st.st_size < (off_t)sizeof h || (st.st_size - (off_t)sizeof h) % (off_t)sizeof *prog)
                return -EBADMSG;
        n = (size_t)(st.st_size - (off_t)sizeof h) / sizeof *prog;
        if (n == 0 || n > MAX_INSNS)
                return -EBADMSG;
        if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
                return -EBADMSG;
        if (sodium_hex2bin(raw, sizeof raw, key, strlen(key), NULL, &rawlen, NULL) < 0 || rawlen != sizeof raw)
                return -EINVAL;
        if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || memcmp(h.key, raw, sizeof raw) != 0 || h.n_insns != n)
                return -EBADMSG;
        prog = malloc(n * sizeof *prog);
        if (!prog)
                return -ENOMEM;
        if (pread(fd, prog, n * sizeof *prog, sizeof h) != (ssize_t)(n * sizeof *prog))
                return -EBADMSG;
        entry_sum(&h, prog, n, sum);
        if (sodium_memcmp(sum, h.sum, sizeof sum) != 0)
                return -EBADMSG;
        ret->prog = TAKE_PTR(prog);
        ret->len = n;
        ret->flags = h.flags;
        return 0;
}

int seccomp_cache_store(int dirfd, const char *key, const struct seccomp_bpf *bpf) {
        _cleanup_close_ int fd = -1;
        struct cache_hdr h = { 0 };
        char name[SECCOMP_KEY_HEX + 8], tmp[SECCOMP_KEY_HEX + 48];
        size_t rawlen;
        int r = 0;

        if (sodium_hex2bin(h.key, sizeof h.key, key, strlen(key), NULL, &rawlen, NULL) < 0 || rawlen != sizeof h.key)
                return -EINVAL;
        memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
        h.n_insns = (uint32_t)bpf->len;
        h.flags = bpf->flags;
        entry_sum(&h, bpf->prog, bpf->len, h.sum);
        entry_name(name, sizeof name, key);
        /* Write beside, then rename: readers see an old entry or a whole new one. */
        snprintf(tmp, sizeof tmp, ".%s.%d.%08x", name, (int)getpid(), randombytes_random());
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0600) < 0 || (r = write_all(fd, &h, sizeof h)) < 0 ||
            (r = write_all(fd, bpf->prog, bpf->len * sizeof *bpf->prog)) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
                r = r < 0 ? r : -errno;
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        return 0;
}

/* Root-owned and writable by nobody else; a sticky directory (/tmp) passes as
 * a parent only: its entries can be renamed by their owner alone, and the
 * next level is checked to be root's. */
static int dir_rootonly(int fd, bool last) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
                return -EPERM;
        if ((st.st_mode & 022) && (last || !(st.st_mode & S_ISVTX)))
                return -EPERM;
        return 0;
}

/* Open an absolute path from / component by component, never following a
 * symlink, creating missing levels 0700; every level must be root's and not
 * writable by others (private_dir_open; / by dir_rootonly), so no one but
 * root can have put a file below it. */
static int open_dir_rootonly(const char *path) {
        _cleanup_close_ int cur = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char comp[256];
        const char *p = path;
        int r;
        if (cur < 0)
                return -errno;
        if ((r = dir_rootonly(cur, false)) < 0)
                return r;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                int next;
                if (n == 0 || (n == 1 && p[0] == '.')) {
                        p += n ? n : 1;
                        continue;
                }
                if (n >= sizeof comp || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                memcpy(comp, p, n);
                comp[n] = 0;
                p += n;
                /* root's, not writable by others (a sticky /tmp passes as a parent) */
                r = private_dir_open(cur, comp,
                                     &(struct private_dir){ .create_mode = 0700,
                                                            .owner = 0,
                                                            .forbidden = 022,
                                                            .sticky_ok = p[strspn(p, "/")] != 0 },
                                     &next, NULL);
                if (r < 0)
                        return r;
                close(cur);
                cur = next;
        }
        return TAKE_FD(cur);
}

static bool path_within(const char *inner, const char *outer) {
        size_t n = strlen(outer);
        if (strcmp(outer, "/") == 0)
                return true;
        return strncmp(inner, outer, n) == 0 && (inner[n] == '/' || inner[n] == 0);
}

/* Defence in depth (root's payloads run as another host uid and cannot
 * write a root-only directory anyway): no cache for a launch whose
 * read-write bind holds the cache directory or lies below it. */
static bool cache_exposed(const struct task *t, int fd) {
        char proc[64], dir[4096];
        ssize_t n;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        n = readlink(proc, dir, sizeof dir - 1);
        if (n <= 0)
                return true;
        dir[n] = 0;
        for (size_t i = 0; i < t->n_plan; i++) {
                const struct mount_entry *me = &t->plan[i];
                _cleanup_free_ char *src = NULL;
                if (me->type != MNT_BIND)
                        continue;
                src = realpath(me->src, NULL);
                if (!src && me->optional && errno == ENOENT)
                        continue; /* not mounted at all */
                if (!src || path_within(dir, src) || path_within(src, dir))
                        return true;
        }
        return false;
}

int seccomp_cache_dir_open(const struct task *t) {
        const char *env = getenv("SEALRUN_CACHE_DIR");
        _cleanup_close_ int dir = -1;
        char path[4096];
        int n;
        /* A filter is trusted from disk only where no payload can ever write.
         * An unprivileged caller's payloads run as the caller's uid (and may
         * bind any of its directories read-write), so every file it owns is
         * within their reach, whatever its mode, checksum or name: it
         * compiles per launch. Root's cache lives in root-only directories. */
        if (geteuid() != 0 || (env && strcmp(env, "off") == 0))
                return -1;
        if (env && env[0] != '/')
                return -1;
        n = snprintf(path, sizeof path, "%s/seccomp", env ? env : "/var/cache/sealrun");
        if (n < 0 || (size_t)n >= sizeof path)
                return -1;
        dir = open_dir_rootonly(path);
        if (dir < 0 || cache_exposed(t, dir))
                return -1;
        return TAKE_FD(dir);
}
