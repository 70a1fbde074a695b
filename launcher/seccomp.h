/* seccomp: compile the policy filter to BPF in the supervisor (cached), load it last in the child. */
#pragma once
#include <linux/filter.h>
#include "launcher/task.h"

#define SECCOMP_KEY_HEX 65 /* 64 hex digits + NUL */

/* Supervisor, before clone: the policy's filter (or the built-in default)
 * as BPF, from the cache when a valid entry exists. */
int seccomp_prepare(struct task *t, struct sr_error *e);
/* Payload, last step before execve: seccomp(2) with the prepared BPF. */
int seccomp_apply(struct task *t, struct sr_error *e);
/* Sandbox init, while it still has the host ids: vm.memfd_noexec=2 for the
 * sandbox's pid namespace (Linux 6.3+), root callers only. */
int seccomp_memfd_noexec(struct task *t, struct sr_error *e);
/* Named apart from libseccomp's seccomp_release(). */
void seccomp_task_release(struct task *t);

/* The pieces, for tests and the benchmark. */
enum seccomp_origin {
        SECCOMP_CACHE_HIT,     /* valid cache entry, libseccomp not called */
        SECCOMP_CACHE_MISS,    /* compiled, stored */
        SECCOMP_CACHE_REBUILT, /* bad entry (corrupt, wrong owner or mode) replaced */
        SECCOMP_CACHE_OFF,     /* compiled, no cache directory */
        SECCOMP_EMBEDDED,      /* the stock profile, compiled at build time (seccomp_embed.c) */
};

/* A compiled filter and the seccomp(2) flags it is loaded with. */
struct seccomp_bpf {
        struct sock_filter *prog;
        size_t len;
        unsigned flags;
};

/* The stock profile compiled at build time, one entry per build (generated
 * by launcher/gen/seccomp-embed; weak: absent in a build without it). */
struct seccomp_embedded {
        uint32_t arch;                /* libseccomp's native arch token */
        unsigned major, minor, micro; /* the libseccomp that compiled it */
        size_t json_len;              /* length of the stock profile's text it came from */
        unsigned flags;               /* for seccomp(2) */
        size_t len;
        const struct sock_filter *prog;
};
extern const struct seccomp_embedded seccomp_stock_embedded[] __attribute__((weak));
extern const size_t seccomp_stock_embedded_n __attribute__((weak));
/* The entry made for this libseccomp, architecture and stock text, or NULL. */
const struct seccomp_embedded *seccomp_embedded_find(void);
/* s is the stock profile and an embedded program fits this host. */
bool seccomp_uses_embedded(const struct policy_seccomp *s);
/* A heap copy of the embedded stock program; -ENOENT if s is not the stock
 * profile or none fits, -ENOMEM. */
int seccomp_embedded_get(const struct policy_seccomp *s, struct seccomp_bpf *ret);

/* s unset or builtin: the built-in profile. */
int seccomp_compile(const struct policy_seccomp *s, struct seccomp_bpf *ret, struct sr_error *e);
/* Hex BLAKE2b-256 over the filter (canonical form, or the built-in text),
 * libseccomp's version, the native architecture and the kernel. */
int seccomp_cache_key(const struct policy_seccomp *s, char ret[SECCOMP_KEY_HEX]);
/* 0 hit; -ENOENT miss; -EBADMSG corrupt; -EPERM wrong owner, mode or file type. */
int seccomp_cache_lookup(int dirfd, const char *key, uid_t owner, struct seccomp_bpf *ret);
int seccomp_cache_store(int dirfd, const char *key, const struct seccomp_bpf *bpf);
/* Cache (dirfd >= 0) or compile; *ret_origin says which. */
int seccomp_get(const struct policy_seccomp *s, int dirfd, uid_t owner, struct seccomp_bpf *ret,
                enum seccomp_origin *ret_origin, struct sr_error *e);
/* The cache directory for this task, root only: $SEALRUN_CACHE_DIR ("off"
 * disables) or /var/cache/sealrun, then "seccomp/" below it, every level
 * root-owned and writable by nobody else (created 0700). -1 when there is
 * none: an unprivileged caller (its payloads could write any file it owns),
 * a level that fails the check, or a cache reachable read-write from the
 * sandbox. */
int seccomp_cache_dir_open(const struct task *t);
