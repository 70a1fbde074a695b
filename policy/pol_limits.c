/* Policy section "limits": wall-clock timeout and rlimits. */
#include <string.h>
#include <sys/resource.h>
#include "policy/pol_limits.h"

static const struct {
        const char *name;
        int resource;
} rl_table[RL_COUNT] = {
        [RL_NOFILE] = { "nofile", RLIMIT_NOFILE },
        [RL_NPROC] = { "nproc", RLIMIT_NPROC },
        [RL_FSIZE] = { "fsize", RLIMIT_FSIZE },
        [RL_STACK] = { "stack", RLIMIT_STACK },
        [RL_AS] = { "as", RLIMIT_AS },
};

int pol_limits_resource(int idx) {
        return rl_table[idx].resource;
}

const char *pol_limits_name(int idx) {
        return rl_table[idx].name;
}

static int parse_rlimits(struct jx *x, json_t *v, const char *path, struct policy_limits *ret) {
        static const char *const keys[] = { "nofile", "nproc", "fsize", "stack", "as", "core", NULL };
        char p[512];
        long long core = 0;
        int r = jx_object(x, v, path, keys);
        if (r < 0)
                return r;
        /* RLIMIT_CORE is always 0: a core of the decrypting process would
         * hold plaintext. Accept only 0 so a policy cannot ask otherwise. */
        r = jx_int(x, v, path, "core", false, 0, 0, &core);
        if (r < 0)
                return jx_fail(x, jx_path(p, sizeof p, path, "core"), "core dumps are always disabled (only 0 is accepted)");
        for (int i = 0; i < RL_COUNT; i++) {
                long long val;
                if (!json_object_get(v, rl_table[i].name))
                        continue;
                r = jx_int(x, v, path, rl_table[i].name, true, 0, (long long)1 << 50, &val);
                if (r < 0)
                        return r;
                ret->rlimit_set[i] = true;
                ret->rlimit[i] = (unsigned long long)val;
        }
        return 0;
}

int pol_limits_parse(struct jx *x, json_t *v, const char *path, struct policy_limits *ret) {
        static const char *const keys[] = { "timeout_s", "kill_grace_ms", "rlimits", NULL };
        char p[512];
        json_t *rl;
        int r = jx_object(x, v, path, keys);
        if (r < 0)
                return r;
        r = jx_int(x, v, path, "timeout_s", false, 0, 7 * 24 * 3600, &ret->timeout_s);
        if (r < 0)
                return r;
        r = jx_int(x, v, path, "kill_grace_ms", false, 0, 60000, &ret->kill_grace_ms);
        if (r < 0)
                return r;
        rl = json_object_get(v, "rlimits");
        if (rl)
                return parse_rlimits(x, rl, jx_path(p, sizeof p, path, "rlimits"), ret);
        return 0;
}

void pol_limits_free(struct policy_limits *l) {
        (void)l;
}
