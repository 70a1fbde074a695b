/* seccomp: compile the policy filter to BPF in the supervisor (cached), load it last in the child. */
#pragma once
#include <linux/filter.h>
#include "launcher/task.h"

#define SECCOMP_KEY_HEX 65         /* 64 hex digits + NUL */

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
        SECCOMP_CACHE_HIT,         /* valid cache entry, libseccomp not called */
        SECCOMP_CACHE_MISS,        /* compiled, stored */
        SECCOMP_CACHE_REBUILT,     /* bad entry (corrupt, wrong owner or mode) replaced */
        SECCOMP_CACHE_OFF,         /* compiled, no cache directory */
};

/* A compiled filter and the seccomp(2) flags it is loaded with. */
struct seccomp_bpf {
        struct sock_filter *prog;
        size_t len;
        unsigned flags;
};

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
