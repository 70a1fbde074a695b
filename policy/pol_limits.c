/* Policy section "limits": timeout, rlimits, cgroup limits (memory, swap, pids, cpu), concurrency. */
#include <ctype.h>
#include <math.h>
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

/* Key in the "limits" object, and the name reported in status.not_enforced. */
static const struct {
        const char *key;
        const char *path;
} cg_table[LIM_COUNT] = {
        [LIM_MEMORY] = { "memory", "limits.memory" },
        [LIM_SWAP] = { "swap", "limits.swap" },
        [LIM_PIDS] = { "pids", "limits.pids" },
        [LIM_CPU] = { "cpu", "limits.cpu" },
};

#define MEMORY_MIN (1ULL << 20) /* below 1 MiB not even execve succeeds */
#define SIZE_MAX_BYTES (1ULL << 50)
#define PIDS_MAX 4194304ULL /* PID_MAX_LIMIT on 64-bit */
#define CPU_MILLI_MIN 10    /* cpu.max quota >= 1 ms per 100 ms period */
#define CPU_MILLI_MAX 1024000

int pol_limits_resource(int idx) {
        return rl_table[idx].resource;
}

const char *pol_limits_name(int idx) {
        return rl_table[idx].name;
}

const char *pol_limits_cg_name(int idx) {
        return cg_table[idx].path;
}

int pol_limits_parse_size(const char *s, uint64_t *ret) {
        uint64_t v = 0, mul = 1;
        const char *c = s;
        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        for (; isdigit((unsigned char)*c); c++) {
                uint64_t d = (uint64_t)(*c - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        switch (*c) {
        case 0: break;
        case 'K':
        case 'k':
                mul = 1ULL << 10;
                c++;
                break;
        case 'M':
        case 'm':
                mul = 1ULL << 20;
                c++;
                break;
        case 'G':
        case 'g':
                mul = 1ULL << 30;
                c++;
                break;
        case 'T':
        case 't':
                mul = 1ULL << 40;
                c++;
                break;
        default: return -EINVAL;
        }
        if (*c)
                return -EINVAL;
        if (v > UINT64_MAX / mul)
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

/* A size is a JSON integer (bytes) or a string "512M"; swap also takes "max". */
static int parse_size(struct jx *x, json_t *o, const char *path, const char *key, uint64_t min, bool allow_max,
                      uint64_t *ret) {
        json_t *v = json_object_get(o, key);
        char p[512];
        uint64_t n;
        jx_path(p, sizeof p, path, key);
        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        return jx_fail(x, p, "must not be negative");
                n = (uint64_t)json_integer_value(v);
        } else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                if (allow_max && strcmp(s, "max") == 0) {
                        *ret = LIM_UNLIMITED;
                        return 0;
                }
                if (strlen(s) != json_string_length(v) || pol_limits_parse_size(s, &n) < 0)
                        return jx_fail(x, p,
                                       "expected bytes as an integer or a string like \"512M\" (suffix K, M, G or T)%s",
                                       allow_max ? ", or \"max\"" : "");
        } else
                return jx_fail(x, p, "expected bytes as an integer or a string like \"512M\"");
        if (n < min || n > SIZE_MAX_BYTES)
                return jx_fail(x, p, "must be between %llu and %llu bytes", (unsigned long long)min, SIZE_MAX_BYTES);
        *ret = n;
        return 0;
}

static int parse_cpu(struct jx *x, json_t *o, const char *path, uint32_t *ret) {
        json_t *v = json_object_get(o, "cpu");
        char p[512];
        double d;
        jx_path(p, sizeof p, path, "cpu");
        if (!json_is_number(v))
                return jx_fail(x, p, "expected a number of cores like 0.5 or 2");
        d = json_number_value(v);
        if (!isfinite(d) || d * 1000 < CPU_MILLI_MIN || d * 1000 > CPU_MILLI_MAX)
                return jx_fail(x, p, "must be between %.2f and %d cores", CPU_MILLI_MIN / 1000.0, CPU_MILLI_MAX / 1000);
        *ret = (uint32_t)(d * 1000 + 0.5); /* no libm: d > 0 here */
        return 0;
}

static int parse_optional(struct jx *x, json_t *v, const char *path, struct policy_limits *ret) {
        char p[512], ip[512];
        const char *pp = jx_path(p, sizeof p, path, "optional");
        size_t i;
        json_t *e;
        if (!json_is_array(v))
                return jx_fail(x, pp, "expected an array of limit names (memory, swap, pids, cpu)");
        json_array_foreach(v, i, e) {
                int k;
                for (k = 0; k < LIM_COUNT; k++)
                        if (json_is_string(e) && strcmp(json_string_value(e), cg_table[k].key) == 0)
                                break;
                if (k == LIM_COUNT)
                        return jx_fail(x, jx_index(ip, sizeof ip, pp, i), "expected one of memory, swap, pids, cpu");
                if (ret->optional[k])
                        return jx_fail(x, jx_index(ip, sizeof ip, pp, i), "\"%s\" listed twice", cg_table[k].key);
                ret->optional[k] = true;
        }
        return 0;
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
                return jx_fail(x, jx_path(p, sizeof p, path, "core"),
                               "core dumps are always disabled (only 0 is accepted)");
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

static int parse_cgroup_limits(struct jx *x, json_t *v, const char *path, struct policy_limits *ret) {
        long long pids;
        char p[512];
        int r;
        if (json_object_get(v, "memory")) {
                if ((r = parse_size(x, v, path, "memory", MEMORY_MIN, false, &ret->memory)) < 0)
                        return r;
                ret->set[LIM_MEMORY] = true;
        }
        if (json_object_get(v, "swap")) {
                if ((r = parse_size(x, v, path, "swap", 0, true, &ret->swap)) < 0)
                        return r;
                ret->set[LIM_SWAP] = true;
        }
        if (json_object_get(v, "pids")) {
                if ((r = jx_int(x, v, path, "pids", true, 1, PIDS_MAX, &pids)) < 0)
                        return r;
                ret->pids = (uint64_t)pids;
                ret->set[LIM_PIDS] = true;
        }
        if (json_object_get(v, "cpu")) {
                if ((r = parse_cpu(x, v, path, &ret->cpu_milli)) < 0)
                        return r;
                ret->set[LIM_CPU] = true;
        }
        if (json_object_get(v, "optional") && (r = parse_optional(x, json_object_get(v, "optional"), path, ret)) < 0)
                return r;
        for (int k = 0; k < LIM_COUNT; k++)
                if (ret->optional[k] && !ret->set[k] && k != LIM_SWAP)
                        return jx_fail(x, jx_path(p, sizeof p, path, "optional"), "\"%s\" is listed but not set",
                                       cg_table[k].key);
        return jx_int(x, v, path, "max_concurrent", false, 0, 100000, &ret->max_concurrent);
}

int pol_limits_parse(struct jx *x, json_t *v, const char *path, struct policy_limits *ret) {
        static const char *const keys[] = { "timeout_s", "kill_grace_ms", "rlimits",  "memory",         "swap",
                                            "pids",      "cpu",           "optional", "max_concurrent", NULL };
        char p[512];
        json_t *rl;
        int r = jx_object(x, v, path, keys);
        if (r < 0)
                return r;
        r = jx_int(x, v, path, "timeout_s", false, 0, 7 * 24 * 3600, &ret->timeout_s);
        if (r < 0)
                return r;
        ret->timeout_ms = ret->timeout_s * 1000;
        r = jx_int(x, v, path, "kill_grace_ms", false, 0, 60000, &ret->kill_grace_ms);
        if (r < 0)
                return r;
        r = parse_cgroup_limits(x, v, path, ret);
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
