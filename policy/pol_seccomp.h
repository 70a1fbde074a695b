/* Policy section "seccomp": an OCI runtime-spec style syscall filter, parsed into plain structs. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "policy/jsonx.h"

#define SECCOMP_MAX_RULES 4096 /* after expanding names[] */
#define SECCOMP_MAX_ARGS 6     /* one comparison per syscall argument */
#define SECCOMP_MAX_ARCHES 16
#define SECCOMP_PROFILE_MAX_BYTES (1u << 20)

/* One comparison: (arg[index] OP value), or for SCMP_CMP_MASKED_EQ
 * ((arg[index] & value) == value_two), as in the OCI runtime spec. */
struct seccomp_arg {
        unsigned index;
        uint64_t value;
        uint64_t value_two;
        int op; /* enum scmp_compare */
};

struct seccomp_rule {
        char *name;      /* syscall name as written */
        int nr;          /* libseccomp's number (negative: pseudo, not native) */
        uint32_t action; /* libseccomp action, errno folded in */
        struct seccomp_arg args[SECCOMP_MAX_ARGS];
        size_t n_args;
        unsigned entry; /* index in "syscalls" (messages) */
};

struct policy_seccomp {
        bool set;                            /* the section was given (else the built-in default applies) */
        bool builtin;                        /* {"profile": "default"}: parsed only if it must be compiled */
        char *source;                        /* "inline", "default" or the profile's path (messages) */
        uint32_t default_action;             /* libseccomp action */
        unsigned flags;                      /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
        uint32_t arches[SECCOMP_MAX_ARCHES]; /* SCMP_ARCH_* besides the native one */
        size_t n_arches;
        struct seccomp_rule *rules;
        size_t n_rules;
        /* Names libseccomp does not know, left out of rules that allow
         * (leaving them out cannot widen the filter), each listed once. */
        char **skipped;
        size_t n_skipped;
};

/* The section value: {"profile": "default"}, {"profile": "/abs/path.json"}
 * (an OCI seccomp object in its own file) or an inline OCI seccomp object,
 * in the OCI, Docker or Podman dialect. `caps` (bit N = capability N kept by
 * the policy) decides the Docker/Podman "includes"/"excludes" caps filters. */
int pol_seccomp_parse(struct jx *x, json_t *v, const char *path, uint64_t caps, struct policy_seccomp *ret);
/* Parse a seccomp document from a buffer; `name` is used in messages. */
int pol_seccomp_parse_buffer(const char *name, const char *buf, size_t len, uint64_t caps, struct policy_seccomp *ret,
                             struct sr_error *e);
/* The built-in stock profile (policy/stock/seccomp-default.json, compiled in):
 * parsed, and as text (what the cache key covers, so a cache hit parses nothing). */
int pol_seccomp_builtin(struct policy_seccomp *ret, struct sr_error *e);
void pol_seccomp_builtin_text(const char **ret, size_t *ret_len);
void pol_seccomp_free(struct policy_seccomp *s);
