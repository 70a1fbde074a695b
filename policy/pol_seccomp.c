/* Policy section "seccomp": strict parsing of OCI runtime-spec seccomp objects into plain structs. */
#include "policy/pol_seccomp.h"
#include "policy/trusted_file.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_ERRNO 1 /* EPERM, the OCI default for SCMP_ACT_ERRNO without errnoRet */

/* A value from the input, safe to quote in a one-line message: at most 64
 * characters, anything outside printable ASCII shown as '?'. */
static const char *printable(const char *s, char *buf, size_t size) {
        size_t i = 0;
        for (; s[i] && i < size - 1 && i < 64; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        buf[i] = 0;
        return buf;
}

static const struct {
        const char *name;
        uint32_t action;
        bool takes_ret;
} actions[] = {
        { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
        { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
        { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
        { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
        { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
        { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
        { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
};

static const struct {
        const char *name;
        int op;
} ops[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct {
        const char *name;
        unsigned flag;
} flags[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
};

/* "action" plus the optional "errnoRet" beside it → one libseccomp action. */
static int parse_action(struct jx *x, json_t *o, const char *path, const char *akey, const char *rkey,
                        uint32_t *ret) {
        const char *name;
        char p[512], q[80];
        long long rv = DEFAULT_ERRNO;
        size_t i;
        int r = jx_string(x, o, path, akey, true, &name);
        if (r < 0)
                return r;
        if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
                return jx_fail(x, jx_path(p, sizeof p, path, akey),
                               "SCMP_ACT_NOTIFY is not supported (sealrun runs no seccomp listener)");
        for (i = 0; i < ELEMENTSOF(actions); i++)
                if (strcmp(actions[i].name, name) == 0)
                        break;
        if (i == ELEMENTSOF(actions))
                return jx_fail(x, jx_path(p, sizeof p, path, akey),
                               "unknown action \"%s\" (expected SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL_PROCESS, "
                               "SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG)",
                               printable(name, q, sizeof q));
        if (json_object_get(o, rkey) && !actions[i].takes_ret)
                return jx_fail(x, jx_path(p, sizeof p, path, rkey), "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take %s", rkey);
        if ((r = jx_int(x, o, path, rkey, false, 0, 4095, &rv)) < 0)
                return r;
        *ret = actions[i].takes_ret ? (actions[i].action | (uint32_t)rv) : actions[i].action;
        return 0;
}

/* OCI values are uint64; JSON integers above 2^63-1 do not survive most
 * parsers, so a string ("0xffffffffffffffff") is accepted as well. */
static int parse_u64(struct jx *x, json_t *o, const char *path, const char *key, bool required, uint64_t *ret) {
        char p[512], *end;
        json_t *v = json_object_get(o, key);
        jx_path(p, sizeof p, path, key);
        if (!v)
                return required ? jx_fail(x, p, "missing required key") : 0;
        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        return jx_fail(x, p, "must not be negative (write large values as a string, \"0x...\")");
                *ret = (uint64_t)json_integer_value(v);
                return 0;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                errno = 0;
                unsigned long long u = strtoull(s, &end, 0);
                if (!*s || *end || *s == '-' || *s == '+' || *s == ' ' || errno == ERANGE ||
                    strlen(s) != json_string_length(v))
                        return jx_fail(x, p, "expected an unsigned 64-bit number (decimal or 0x hex)");
                *ret = u;
                return 0;
        }
        return jx_fail(x, p, "expected an unsigned integer");
}

static int parse_arg(struct jx *x, json_t *o, const char *path, struct seccomp_arg *a) {
        static const char *const keys[] = { "index", "value", "valueTwo", "op", NULL };
        const char *op;
        char p[512], q[80];
        long long idx;
        size_t i;
        int r;
        if ((r = jx_object(x, o, path, keys)) < 0 ||
            (r = jx_int(x, o, path, "index", true, 0, SECCOMP_MAX_ARGS - 1, &idx)) < 0 ||
            (r = parse_u64(x, o, path, "value", true, &a->value)) < 0 ||
            (r = parse_u64(x, o, path, "valueTwo", false, &a->value_two)) < 0 ||
            (r = jx_string(x, o, path, "op", true, &op)) < 0)
                return r;
        for (i = 0; i < ELEMENTSOF(ops); i++)
                if (strcmp(ops[i].name, op) == 0)
                        break;
        if (i == ELEMENTSOF(ops))
                return jx_fail(x, jx_path(p, sizeof p, path, "op"),
                               "unknown comparison \"%s\" (expected SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ)",
                               printable(op, q, sizeof q));
        a->index = (unsigned)idx;
        a->op = ops[i].op;
        if (a->op != SCMP_CMP_MASKED_EQ && a->value_two)
                return jx_fail(x, jx_path(p, sizeof p, path, "valueTwo"), "only SCMP_CMP_MASKED_EQ takes valueTwo");
        /* (arg & mask) == datum can never hold when the datum has bits outside the mask. */
        if (a->op == SCMP_CMP_MASKED_EQ && (a->value_two & ~a->value))
                return jx_fail(x, jx_path(p, sizeof p, path, "valueTwo"),
                               "has bits outside the mask in \"value\" (0x%" PRIx64 "), so it can never match", a->value);
        return 0;
}

static int parse_args(struct jx *x, json_t *arr, const char *path, struct seccomp_arg *ret, size_t *ret_n) {
        char ip[512], kp[512];
        size_t n = json_array_size(arr);
        unsigned seen = 0;
        if (n > SECCOMP_MAX_ARGS)
                return jx_fail(x, path, "at most %d comparisons (one per argument)", SECCOMP_MAX_ARGS);
        for (size_t i = 0; i < n; i++) {
                int r = parse_arg(x, json_array_get(arr, i), jx_index(ip, sizeof ip, path, i), &ret[i]);
                if (r < 0)
                        return r;
                /* libseccomp cannot AND two comparisons of one argument, and
                 * runc silently ORs them instead: refuse the ambiguity. */
                if (seen & (1u << ret[i].index))
                        return jx_fail(x, jx_path(kp, sizeof kp, ip, "index"),
                                       "argument %u is compared twice in one entry (split it into separate entries)",
                                       ret[i].index);
                seen |= 1u << ret[i].index;
        }
        *ret_n = n;
        return 0;
}

static int parse_syscall(struct jx *x, json_t *o, const char *path, struct policy_seccomp *s) {
        static const char *const keys[] = { "names", "action", "errnoRet", "args", "comment", NULL };
        struct seccomp_rule proto = { 0 };
        json_t *names, *args = NULL;
        const char *comment;
        char np[512], ip[512], ap[512], q[80];
        int r;
        if ((r = jx_object(x, o, path, keys)) < 0 ||
            (r = jx_array(x, o, path, "names", true, &names)) < 0 ||
            (r = jx_array(x, o, path, "args", false, &args)) < 0 ||
            (r = jx_string(x, o, path, "comment", false, &comment)) < 0 ||
            (r = parse_action(x, o, path, "action", "errnoRet", &proto.action)) < 0)
                return r;
        jx_path(np, sizeof np, path, "names");
        if (json_array_size(names) == 0)
                return jx_fail(x, np, "must list at least one syscall name");
        if (args && (r = parse_args(x, args, jx_path(ap, sizeof ap, path, "args"), proto.args, &proto.n_args)) < 0)
                return r;
        for (size_t i = 0; i < json_array_size(names); i++) {
                json_t *n = json_array_get(names, i);
                const char *name;
                struct seccomp_rule *rule;
                jx_index(ip, sizeof ip, np, i);
                if (!json_is_string(n) || strlen(json_string_value(n)) != json_string_length(n))
                        return jx_fail(x, ip, "expected a syscall name");
                name = json_string_value(n);
                /* Known on some architecture: a native number, or a negative
                 * pseudo number that libseccomp maps per architecture. */
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR)
                        return jx_fail(x, ip, "unknown syscall \"%s\" (libseccomp %u.%u.%u does not know it)", printable(name, q, sizeof q),
                                       seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
                if (s->n_rules >= SECCOMP_MAX_RULES)
                        return jx_fail(x, ip, "too many rules (more than %d after expanding names)", SECCOMP_MAX_RULES);
                rule = &s->rules[s->n_rules];
                *rule = proto;
                rule->nr = nr;
                if ((r = jx_strdup(x, ip, name, &rule->name)) < 0)
                        return r;
                s->n_rules++;
        }
        return 0;
}

static int parse_arches(struct jx *x, json_t *arr, const char *path, struct policy_seccomp *s) {
        char ip[512], low[32], q[80];
        size_t n = json_array_size(arr);
        if (n > SECCOMP_MAX_ARCHES)
                return jx_fail(x, path, "too many architectures");
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(arr, i);
                const char *a;
                size_t k;
                uint32_t tok;
                jx_index(ip, sizeof ip, path, i);
                if (!json_is_string(v))
                        return jx_fail(x, ip, "expected an architecture name like \"SCMP_ARCH_X86_64\"");
                a = json_string_value(v);
                if (strncmp(a, "SCMP_ARCH_", 10) != 0 || strlen(a + 10) >= sizeof low || !a[10])
                        return jx_fail(x, ip, "unknown architecture \"%s\"", printable(a, q, sizeof q));
                for (k = 0; a[10 + k]; k++)
                        low[k] = (char)((a[10 + k] >= 'A' && a[10 + k] <= 'Z') ? a[10 + k] + 32 : a[10 + k]);
                low[k] = 0;
                tok = seccomp_arch_resolve_name(low);
                if (tok == 0)
                        return jx_fail(x, ip, "unknown architecture \"%s\"", printable(a, q, sizeof q));
                for (k = 0; k < s->n_arches; k++)
                        if (s->arches[k] == tok)
                                return jx_fail(x, ip, "architecture listed twice");
                s->arches[s->n_arches++] = tok;
        }
        return 0;
}

static int parse_flags(struct jx *x, json_t *arr, const char *path, struct policy_seccomp *s) {
        char ip[512], q[80];
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *v = json_array_get(arr, i);
                size_t k;
                jx_index(ip, sizeof ip, path, i);
                if (!json_is_string(v))
                        return jx_fail(x, ip, "expected a flag name");
                for (k = 0; k < ELEMENTSOF(flags); k++)
                        if (strcmp(flags[k].name, json_string_value(v)) == 0)
                                break;
                if (k == ELEMENTSOF(flags))
                        return jx_fail(x, ip, "unsupported flag \"%s\" (expected SECCOMP_FILTER_FLAG_LOG, "
                                       "_SPEC_ALLOW or _TSYNC)", printable(json_string_value(v), q, sizeof q));
                s->flags |= flags[k].flag;
        }
        return 0;
}

/* One OCI seccomp object ("linux.seccomp" of an OCI config.json). */
static int parse_oci(struct jx *x, json_t *v, const char *path, struct policy_seccomp *s) {
        static const char *const keys[] = {
                "defaultAction", "defaultErrnoRet", "architectures", "flags", "syscalls",
                "listenerPath", "listenerMetadata", NULL,
        };
        json_t *arches = NULL, *fl = NULL, *sys = NULL;
        char kp[512], ip[512];
        size_t total = 0;
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0)
                return r;
        if (json_object_get(v, "listenerPath") || json_object_get(v, "listenerMetadata"))
                return jx_fail(x, jx_path(kp, sizeof kp, path, json_object_get(v, "listenerPath") ? "listenerPath" : "listenerMetadata"),
                               "seccomp listeners are not supported");
        if ((r = parse_action(x, v, path, "defaultAction", "defaultErrnoRet", &s->default_action)) < 0 ||
            (r = jx_array(x, v, path, "architectures", false, &arches)) < 0 ||
            (r = jx_array(x, v, path, "flags", false, &fl)) < 0 ||
            (r = jx_array(x, v, path, "syscalls", false, &sys)) < 0)
                return r;
        if (arches && (r = parse_arches(x, arches, jx_path(kp, sizeof kp, path, "architectures"), s)) < 0)
                return r;
        if (fl && (r = parse_flags(x, fl, jx_path(kp, sizeof kp, path, "flags"), s)) < 0)
                return r;
        for (size_t i = 0; sys && i < json_array_size(sys); i++) {
                json_t *names = json_object_get(json_array_get(sys, i), "names");
                total += json_is_array(names) ? json_array_size(names) : 0;
        }
        if (total > SECCOMP_MAX_RULES)
                return jx_fail(x, jx_path(kp, sizeof kp, path, "syscalls"), "too many rules (%zu > %d after expanding names)",
                               total, SECCOMP_MAX_RULES);
        s->rules = calloc(total ? total : 1, sizeof *s->rules);
        if (!s->rules)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: %s: out of memory", x->file, path);
        jx_path(kp, sizeof kp, path, "syscalls");
        for (size_t i = 0; sys && i < json_array_size(sys); i++)
                if ((r = parse_syscall(x, json_array_get(sys, i), jx_index(ip, sizeof ip, kp, i), s)) < 0)
                        return r;
        return 0;
}

int pol_seccomp_parse_buffer(const char *name, const char *buf, size_t len, struct policy_seccomp *ret,
                             struct sr_error *e) {
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_LAUNCHER };
        json_t *root = NULL;
        int r = jx_load(&x, buf, len, &root);
        if (r == 0)
                r = parse_oci(&x, root, "$", ret);
        json_decref(root);
        if (r == 0)
                ret->set = true;
        return r;
}

extern const char sr_seccomp_default_json[];
extern const unsigned sr_seccomp_default_json_len;

void pol_seccomp_builtin_text(const char **ret, size_t *ret_len) {
        *ret = sr_seccomp_default_json;
        *ret_len = sr_seccomp_default_json_len;
}

int pol_seccomp_builtin(struct policy_seccomp *ret, struct sr_error *e) {
        int r = pol_seccomp_parse_buffer("seccomp-default.json (built in)", sr_seccomp_default_json,
                                         sr_seccomp_default_json_len, ret, e);
        if (r < 0)
                return r;
        ret->source = strdup("default");
        return ret->source ? 0 : -ENOMEM;
}

/* {"profile": "/etc/sealrun/seccomp.json"}: the policy is operator-written
 * (root-owned), so its path is trusted; the file must be a regular file and,
 * as root, pass the same owner and mode check as the policy. */
static int load_profile(struct jx *x, const char *kpath, const char *file, struct policy_seccomp *s) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len;
        char q[80];
        int r;
        if (file[0] != '/')
                return jx_fail(x, kpath, "expected \"default\" or an absolute path to an OCI seccomp profile");
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return jx_fail(x, kpath, "cannot open %s: %s", printable(file, q, sizeof q), strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return jx_fail(x, kpath, "%s is not a regular file", printable(file, q, sizeof q));
        /* As root, like the policy itself (policy_load). */
        if (sr_host_root() && (r = trusted_file_check(fd, printable(file, q, sizeof q), "seccomp profile",
                                                      "policy-permissions", 0, x->e)) < 0)
                return r;
        r = read_fd_all(fd, SECCOMP_PROFILE_MAX_BYTES, &buf, &len);
        if (r < 0)
                return jx_fail(x, kpath, "cannot read %s: %s", printable(file, q, sizeof q), strerror(-r));
        r = pol_seccomp_parse_buffer(file, buf, len, s, x->e);
        if (r < 0)
                return r;
        return jx_strdup(x, kpath, file, &s->source);
}

int pol_seccomp_parse(struct jx *x, json_t *v, const char *path, struct policy_seccomp *ret) {
        char kp[512];
        int r;
        if (json_is_object(v) && json_object_get(v, "profile")) {
                static const char *const keys[] = { "profile", NULL };
                const char *prof;
                if ((r = jx_object(x, v, path, keys)) < 0 ||
                    (r = jx_string(x, v, path, "profile", true, &prof)) < 0)
                        return r;
                jx_path(kp, sizeof kp, path, "profile");
                if (strcmp(prof, "default") == 0) {
                        /* Tested by the unit tests, parsed by the launcher on a cache miss. */
                        ret->set = ret->builtin = true;
                        return jx_strdup(x, kp, "default", &ret->source);
                }
                return load_profile(x, kp, prof, ret);
        }
        if ((r = parse_oci(x, v, path, ret)) < 0)
                return r;
        ret->set = true;
        return jx_strdup(x, path, "inline", &ret->source);
}

void pol_seccomp_free(struct policy_seccomp *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_rules; i++)
                free(s->rules[i].name);
        free(s->rules);
        free(s->source);
        memset(s, 0, sizeof *s);
}
