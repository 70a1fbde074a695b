/* Policy section "limits": timeout, rlimits, cgroup limits (memory, swap, pids, cpu), concurrency. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "policy/jsonx.h"

enum { RL_NOFILE, RL_NPROC, RL_FSIZE, RL_STACK, RL_AS, RL_COUNT };

/* Limits enforced through the task cgroup. */
enum { LIM_MEMORY, LIM_SWAP, LIM_PIDS, LIM_CPU, LIM_COUNT };

#define LIM_UNLIMITED UINT64_MAX

struct policy_limits {
        long long timeout_s;     /* 0 = none */
        long long timeout_ms;    /* timeout_s in ms, or a shorter --timeout; 0 = none */
        long long kill_grace_ms; /* SIGTERM → SIGKILL grace */
        bool rlimit_set[RL_COUNT];
        unsigned long long rlimit[RL_COUNT];

        /* cgroup limits; "set" = the policy asked for it. */
        bool set[LIM_COUNT];
        bool optional[LIM_COUNT]; /* listed in "optional": skipped (and reported) where unavailable */
        uint64_t memory;          /* bytes */
        uint64_t swap;            /* bytes, LIM_UNLIMITED = "max"; 0 also when unset (the default) */
        uint64_t pids;
        uint32_t cpu_milli;       /* thousandths of one core: 0.5 → 500 */
        long long max_concurrent; /* tasks of one tenant at once; 0 = no cap */
};
int pol_limits_parse(struct jx *x, json_t *v, const char *path, struct policy_limits *ret);
void pol_limits_free(struct policy_limits *l);
/* RLIMIT_* resource for an RL_* index, and its policy name. */
int pol_limits_resource(int idx);
const char *pol_limits_name(int idx);
/* Policy path of a LIM_* limit ("limits.memory"): used in messages and status.not_enforced. */
const char *pol_limits_cg_name(int idx);
/* Parse a size: decimal bytes with an optional K, M, G or T suffix (powers of 1024). */
int pol_limits_parse_size(const char *s, uint64_t *ret);
