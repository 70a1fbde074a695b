/* Policy section "limits": wall-clock timeout and rlimits (cgroup limits join later). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include "policy/jsonx.h"

enum { RL_NOFILE, RL_NPROC, RL_FSIZE, RL_STACK, RL_AS, RL_COUNT };

struct policy_limits {
        long long timeout_s;        /* 0 = none */
        long long kill_grace_ms;    /* SIGTERM → SIGKILL grace */
        bool rlimit_set[RL_COUNT];
        unsigned long long rlimit[RL_COUNT];
};
int pol_limits_parse(struct jx *x, json_t *v, const char *path, struct policy_limits *ret);
void pol_limits_free(struct policy_limits *l);
/* RLIMIT_* resource for an RL_* index, and its policy name. */
int pol_limits_resource(int idx);
const char *pol_limits_name(int idx);
