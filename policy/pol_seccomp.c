/* Policy section "seccomp": strict parsing of OCI runtime-spec seccomp objects into plain structs. */
#include "policy/pol_seccomp.h"
#include "policy/pol_seccomp_dialect.h"
#include "policy/trusted_file.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_ERRNO 1 /* EPERM, the OCI default for SCMP_ACT_ERRNO without errnoRet */

/* A value from the input, safe to quote in a one-line message (sr_quote). */
static const char *printable(const char *s, char *buf, size_t size) {
        return sr_quote(s, buf, size);
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
        { "SCMP_CMP_NE", SCMP_CMP_NE },
        { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE },
        { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE },
        { "SCMP_CMP_GT", SCMP_CMP_GT },
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

/* "action" plus the optional "errnoRet" (or Podman's "errno" name) beside
 * it → one libseccomp action. */
static int parse_action(struct jx *x, json_t *o, const char *path, const char *akey, const char *rkey, const char *nkey,
                        uint32_t *ret) {
        const char *name;
        char p[512], q[80];
        long long rv = DEFAULT_ERRNO;
        bool given = false;
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
        if ((r = pol_seccomp_errno(x, o, path, rkey, nkey, &rv, &given)) < 0)
                return r;
        if (given && !actions[i].takes_ret)
                return jx_fail(x, jx_path(p, sizeof p, path, json_object_get(o, rkey) ? rkey : nkey),
                               "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take %s",
                               json_object_get(o, rkey) ? rkey : nkey);
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
                return jx_fail(
                        x, jx_path(p, sizeof p, path, "op"),
                        "unknown comparison \"%s\" (expected SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ)",
                        printable(op, q, sizeof q));
        a->index = (unsigned)idx;
        a->op = ops[i].op;
        if (a->op != SCMP_CMP_MASKED_EQ && a->value_two)
                return jx_fail(x, jx_path(p, sizeof p, path, "valueTwo"), "only SCMP_CMP_MASKED_EQ takes valueTwo");
        /* (arg & mask) == datum can never hold when the datum has bits outside the mask. */
        if (a->op == SCMP_CMP_MASKED_EQ && (a->value_two & ~a->value))
                return jx_fail(x, jx_path(p, sizeof p, path, "valueTwo"),
                               "has bits outside the mask in \"value\" (0x%" PRIx64 "), so it can never match",
                               a->value);
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

/* What one document's rules share while they are read. */
struct parse_ctx {
        uint64_t caps;            /* the policy's kept capabilities */
        char denied_unknown[400]; /* names unknown to libseccomp in rules that deny */
        size_t n_denied_unknown;
        char first_path[512]; /* where the first of them is */
};

static bool action_allows(uint32_t action) {
        return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG;
}

static int note_skipped(struct jx *x, const char *path, const char *name, struct policy_seccomp *s) {
        char **grown;
        for (size_t i = 0; i < s->n_skipped; i++)
                if (strcmp(s->skipped[i], name) == 0)
                        return 0;
        grown = realloc(s->skipped, (s->n_skipped + 1) * sizeof *s->skipped);
        if (!grown)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: %s: out of memory", x->file, path);
        s->skipped = grown;
        return jx_strdup(x, path, name, &s->skipped[s->n_skipped++]);
}

static void note_denied_unknown(struct parse_ctx *c, const char *path, const char *name) {
        char q[80];
        size_t used = strlen(c->denied_unknown);
        if (c->n_denied_unknown++ == 0)
                snprintf(c->first_path, sizeof c->first_path, "%s", path);
        if (used + 70 < sizeof c->denied_unknown)
                snprintf(c->denied_unknown + used, sizeof c->denied_unknown - used, "%s%s", used ? ", " : "",
                         printable(name, q, sizeof q));
        else if (!strstr(c->denied_unknown, ", ..."))
                snprintf(c->denied_unknown + used, sizeof c->denied_unknown - used, ", ...");
}

/* "names": [...] (OCI) or Docker's older single "name": "...". */
static int rule_names(struct jx *x, json_t *o, const char *path, json_t **ret_arr, json_t **ret_one, char *np,
                      size_t nps) {
        json_t *one = json_object_get(o, "name");
        int r;
        if (one && json_object_get(o, "names"))
                return jx_fail(x, jx_path(np, nps, path, "name"), "give either \"name\" or \"names\", not both");
        if (one) {
                jx_path(np, nps, path, "name");
                if (!json_is_string(one) || strlen(json_string_value(one)) != json_string_length(one))
                        return jx_fail(x, np, "expected a syscall name");
                *ret_one = one;
                return 0;
        }
        if ((r = jx_array(x, o, path, "names", true, ret_arr)) < 0)
                return r;
        jx_path(np, nps, path, "names");
        if (json_array_size(*ret_arr) == 0)
                return jx_fail(x, np, "must list at least one syscall name");
        return 0;
}

static int parse_syscall(struct jx *x, json_t *o, const char *path, unsigned entry, struct parse_ctx *c,
                         struct policy_seccomp *s) {
        static const char *const keys[] = { "names", "name",    "action",   "errnoRet", "errno",
                                            "args",  "comment", "includes", "excludes", NULL };
        struct seccomp_rule proto = { .entry = entry };
        json_t *names = NULL, *one = NULL, *args = NULL;
        const char *comment;
        char np[512], ip[512], ap[512];
        bool applies;
        int r;
        if ((r = jx_object(x, o, path, keys)) < 0 || (r = rule_names(x, o, path, &names, &one, np, sizeof np)) < 0)
                return r;
        /* Docker writes "args": null for "no comparisons". */
        if (!json_is_null(json_object_get(o, "args")) && (r = jx_array(x, o, path, "args", false, &args)) < 0)
                return r;
        if ((r = jx_string(x, o, path, "comment", false, &comment)) < 0 ||
            (r = parse_action(x, o, path, "action", "errnoRet", "errno", &proto.action)) < 0 ||
            (r = pol_seccomp_rule_applies(x, o, path, c->caps, &applies)) < 0)
                return r;
        if (args && (r = parse_args(x, args, jx_path(ap, sizeof ap, path, "args"), proto.args, &proto.n_args)) < 0)
                return r;
        for (size_t i = 0; i < (one ? 1 : json_array_size(names)); i++) {
                json_t *n = one ? one : json_array_get(names, i);
                const char *name;
                struct seccomp_rule *rule;
                if (one)
                        snprintf(ip, sizeof ip, "%s", np);
                else
                        jx_index(ip, sizeof ip, np, i);
                if (!json_is_string(n) || strlen(json_string_value(n)) != json_string_length(n))
                        return jx_fail(x, ip, "expected a syscall name");
                if (!applies)
                        continue;
                name = json_string_value(n);
                /* Known on some architecture: a native number, or a negative
                 * pseudo number that libseccomp maps per architecture. */
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR) {
                        /* Leaving a name out of a rule that allows cannot
                         * widen the filter (runc and crun do the same); out
                         * of a rule that denies it could, so that refuses. */
                        if (action_allows(proto.action)) {
                                if ((r = note_skipped(x, ip, name, s)) < 0)
                                        return r;
                        } else {
                                note_denied_unknown(c, ip, name);
                        }
                        continue;
                }
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
        char ip[512], q[80];
        size_t n = json_array_size(arr);
        if (n > SECCOMP_MAX_ARCHES)
                return jx_fail(x, path, "too many architectures");
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(arr, i);
                uint32_t tok;
                jx_index(ip, sizeof ip, path, i);
                if (!json_is_string(v))
                        return jx_fail(x, ip, "expected an architecture name like \"SCMP_ARCH_X86_64\"");
                if (pol_seccomp_arch_token(json_string_value(v), &tok) < 0)
                        return jx_fail(x, ip, "unknown architecture \"%s\"",
                                       printable(json_string_value(v), q, sizeof q));
                for (size_t k = 0; k < s->n_arches; k++)
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
                        return jx_fail(x, ip,
                                       "unsupported flag \"%s\" (expected SECCOMP_FILTER_FLAG_LOG, "
                                       "_SPEC_ALLOW or _TSYNC)",
                                       printable(json_string_value(v), q, sizeof q));
                s->flags |= flags[k].flag;
        }
        return 0;
}

static const char *action_name(uint32_t a, char *buf, size_t size) {
        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                if (actions[i].takes_ret && (a & ~0xffffu) == actions[i].action) {
                        snprintf(buf, size, "%s %u", actions[i].name, a & 0xffffu);
                        return buf;
                }
                if (!actions[i].takes_ret && a == actions[i].action)
                        return actions[i].name;
        }
        return "?";
}

/* How strict an action is, as the kernel ranks them when filters disagree. */
static int strictness(uint32_t a) {
        switch (a & ~0xffffu) {
        case SCMP_ACT_KILL_PROCESS: return 0;
        case SCMP_ACT_KILL_THREAD: return 1;
        case SCMP_ACT_TRAP: return 2;
        case SCMP_ACT_ERRNO(0): return 3;
        case SCMP_ACT_TRACE(0): return 4;
        case SCMP_ACT_LOG: return 5;
        default: return 6;
        }
}

static bool stricter(uint32_t a, uint32_t b) {
        return strictness(a) < strictness(b) || (strictness(a) == strictness(b) && a < b);
}

/* Two rules without "args" for one syscall (Podman's profile allows setns
 * in its main list and denies it unless CAP_SYS_ADMIN is kept): libseccomp
 * keeps whichever came first. The stricter one is kept instead, so the
 * outcome cannot depend on the order and never widens the profile. */
static void drop_weaker_unconditional(struct policy_seccomp *s) {
        size_t w = 0;
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct seccomp_rule *r = &s->rules[i];
                bool weaker = false;
                for (size_t k = 0; !r->n_args && k < s->n_rules && !weaker; k++) {
                        const struct seccomp_rule *o = &s->rules[k];
                        weaker = k != i && !o->n_args && o->nr == r->nr && stricter(o->action, r->action);
                }
                if (weaker) {
                        free(s->rules[i].name);
                        continue;
                }
                s->rules[w++] = s->rules[i];
        }
        s->n_rules = w;
}

/* libseccomp lets a syscall's rule without "args" win over every rule of
 * that syscall with conditions (whatever their order): a profile that
 * allows ioctl outright and denies TIOCSTI beside it would not deny
 * TIOCSTI, silently. An unconditional rule that repeats the default action
 * is left out by the compiler (so it overrides nothing), and equal actions
 * cannot disagree. */
static int check_overrides(struct jx *x, const char *sys_path, const struct policy_seccomp *s) {
        char ip[512], a1[48], a2[48];
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct seccomp_rule *u = &s->rules[i];
                if (u->n_args || u->action == s->default_action)
                        continue;
                for (size_t k = 0; k < s->n_rules; k++) {
                        const struct seccomp_rule *o = &s->rules[k];
                        if (k == i || o->nr != u->nr || o->action == u->action || !o->n_args)
                                continue;
                        return jx_fail(
                                x, jx_index(ip, sizeof ip, sys_path, o->entry),
                                "%s gets %s here, but syscalls[%u] gives it %s without conditions, and libseccomp "
                                "would apply only that one (write the allowed cases as conditions)",
                                o->name, action_name(o->action, a1, sizeof a1), u->entry,
                                action_name(u->action, a2, sizeof a2));
                }
        }
        return 0;
}

/* One OCI seccomp object ("linux.seccomp" of an OCI config.json), or a
 * Docker/Podman profile (archMap, includes/excludes, errno names). */
static int parse_oci(struct jx *x, json_t *v, const char *path, uint64_t caps, struct policy_seccomp *s) {
        static const char *const keys[] = {
                "defaultAction", "defaultErrnoRet", "defaultErrno", "architectures",    "archMap",
                "flags",         "syscalls",        "listenerPath", "listenerMetadata", NULL,
        };
        struct parse_ctx c = { .caps = caps };
        json_t *arches = NULL, *amap = NULL, *fl = NULL, *sys = NULL;
        char kp[512], ip[512];
        size_t total = 0;
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0)
                return r;
        if (json_object_get(v, "listenerPath") || json_object_get(v, "listenerMetadata"))
                return jx_fail(x,
                               jx_path(kp, sizeof kp, path,
                                       json_object_get(v, "listenerPath") ? "listenerPath" : "listenerMetadata"),
                               "seccomp listeners are not supported");
        if ((r = parse_action(x, v, path, "defaultAction", "defaultErrnoRet", "defaultErrno", &s->default_action)) <
                    0 ||
            (r = jx_array(x, v, path, "architectures", false, &arches)) < 0 ||
            (r = jx_array(x, v, path, "archMap", false, &amap)) < 0 ||
            (r = jx_array(x, v, path, "flags", false, &fl)) < 0 ||
            (r = jx_array(x, v, path, "syscalls", false, &sys)) < 0)
                return r;
        /* Docker refuses both too: which one would win is not obvious. */
        if (arches && json_array_size(arches) && amap && json_array_size(amap))
                return jx_fail(x, jx_path(kp, sizeof kp, path, "archMap"),
                               "give either \"architectures\" or \"archMap\", not both");
        if (arches && (r = parse_arches(x, arches, jx_path(kp, sizeof kp, path, "architectures"), s)) < 0)
                return r;
        if (amap && (r = pol_seccomp_archmap(x, amap, jx_path(kp, sizeof kp, path, "archMap"), s->arches, &s->n_arches,
                                             SECCOMP_MAX_ARCHES)) < 0)
                return r;
        if (fl && (r = parse_flags(x, fl, jx_path(kp, sizeof kp, path, "flags"), s)) < 0)
                return r;
        for (size_t i = 0; sys && i < json_array_size(sys); i++) {
                json_t *e = json_array_get(sys, i), *names = json_object_get(e, "names");
                total += json_is_array(names) ? json_array_size(names) : json_object_get(e, "name") ? 1 : 0;
        }
        if (total > SECCOMP_MAX_RULES)
                return jx_fail(x, jx_path(kp, sizeof kp, path, "syscalls"),
                               "too many rules (%zu > %d after expanding names)", total, SECCOMP_MAX_RULES);
        s->rules = calloc(total ? total : 1, sizeof *s->rules);
        if (!s->rules)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: %s: out of memory", x->file, path);
        jx_path(kp, sizeof kp, path, "syscalls");
        for (size_t i = 0; sys && i < json_array_size(sys); i++)
                if ((r = parse_syscall(x, json_array_get(sys, i), jx_index(ip, sizeof ip, kp, i), (unsigned)i, &c, s)) <
                    0)
                        return r;
        /* Every such name in one message: fixing them one run at a time is
         * what makes a borrowed profile unusable. */
        drop_weaker_unconditional(s);
        if (!c.n_denied_unknown && (r = check_overrides(x, kp, s)) < 0)
                return r;
        if (c.n_denied_unknown)
                return jx_fail(
                        x, c.first_path,
                        "%zu syscall name%s libseccomp %u.%u.%u does not know, in rules that deny (skipping them "
                        "could let them through): %s",
                        c.n_denied_unknown, c.n_denied_unknown == 1 ? "" : "s", seccomp_version()->major,
                        seccomp_version()->minor, seccomp_version()->micro, c.denied_unknown);
        return 0;
}

int pol_seccomp_parse_buffer(const char *name, const char *buf, size_t len, uint64_t caps, struct policy_seccomp *ret,
                             struct sr_error *e) {
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_LAUNCHER };
        json_t *root = NULL;
        int r = jx_load(&x, buf, len, &root);
        if (r == 0)
                r = parse_oci(&x, root, "$", caps, ret);
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
        /* The stock profile has no capability filters: caps do not matter. */
        int r = pol_seccomp_parse_buffer("seccomp-default.json (built in)", sr_seccomp_default_json,
                                         sr_seccomp_default_json_len, 0, ret, e);
        if (r < 0)
                return r;
        ret->source = strdup("default");
        return ret->source ? 0 : -ENOMEM;
}

/* {"profile": "/etc/sealrun/seccomp.json"}: the policy is operator-written
 * (root-owned), so its path is trusted; the file must be a regular file and,
 * as root, pass the same owner and mode check as the policy. */
static int load_profile(struct jx *x, const char *kpath, const char *file, uint64_t caps, struct policy_seccomp *s) {
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
        r = pol_seccomp_parse_buffer(file, buf, len, caps, s, x->e);
        if (r < 0)
                return r;
        return jx_strdup(x, kpath, file, &s->source);
}

int pol_seccomp_parse(struct jx *x, json_t *v, const char *path, uint64_t caps, struct policy_seccomp *ret) {
        char kp[512];
        int r;
        if (json_is_object(v) && json_object_get(v, "profile")) {
                static const char *const keys[] = { "profile", NULL };
                const char *prof;
                if ((r = jx_object(x, v, path, keys)) < 0 || (r = jx_string(x, v, path, "profile", true, &prof)) < 0)
                        return r;
                jx_path(kp, sizeof kp, path, "profile");
                if (strcmp(prof, "default") == 0) {
                        /* Tested by the unit tests, parsed by the launcher on a cache miss. */
                        ret->set = ret->builtin = true;
                        return jx_strdup(x, kp, "default", &ret->source);
                }
                return load_profile(x, kp, prof, caps, ret);
        }
        if ((r = parse_oci(x, v, path, caps, ret)) < 0)
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
        for (size_t i = 0; i < s->n_skipped; i++)
                free(s->skipped[i]);
        free(s->skipped);
        free(s->source);
        memset(s, 0, sizeof *s);
}
