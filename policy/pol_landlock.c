/* Policy section "landlock": strict parsing of filesystem, port and scope rules. */
#include "policy/pol_landlock.h"

#include <string.h>
#include "policy/policy.h"

static int parse_access(struct jx *x, json_t *o, const char *path, unsigned *ret) {
        static const struct {
                const char *name;
                unsigned bit;
        } names[] = { { "read", LL_READ }, { "write", LL_WRITE }, { "execute", LL_EXECUTE } };
        char ap[512], ip[512];
        json_t *arr;
        int r = jx_array(x, o, path, "access", true, &arr);
        if (r < 0)
                return r;
        jx_path(ap, sizeof ap, path, "access");
        if (json_array_size(arr) == 0)
                return jx_fail(x, ap, "must list at least one of \"read\", \"write\", \"execute\"");
        *ret = 0;
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *v = json_array_get(arr, i);
                size_t k;
                jx_index(ip, sizeof ip, ap, i);
                for (k = 0; json_is_string(v) && k < ELEMENTSOF(names); k++)
                        if (strcmp(names[k].name, json_string_value(v)) == 0)
                                break;
                if (!json_is_string(v) || k == ELEMENTSOF(names))
                        return jx_fail(x, ip, "unknown access (expected \"read\", \"write\" or \"execute\")");
                if (*ret & names[k].bit)
                        return jx_fail(x, ip, "listed twice");
                *ret |= names[k].bit;
        }
        return 0;
}

static int parse_fs(struct jx *x, json_t *arr, const char *path, struct policy_landlock *l) {
        static const char *const keys[] = { "path", "access", "optional", NULL };
        char ip[512], pp[512];
        size_t n = json_array_size(arr);
        if (n > LANDLOCK_MAX_FS)
                return jx_fail(x, path, "too many rules (%zu > %d)", n, LANDLOCK_MAX_FS);
        l->fs_rules = calloc(n ? n : 1, sizeof *l->fs_rules);
        if (!l->fs_rules)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(arr, i);
                struct landlock_fs_rule *rule = &l->fs_rules[i];
                const char *p;
                int r;
                jx_index(ip, sizeof ip, path, i);
                if ((r = jx_object(x, o, ip, keys)) < 0 || (r = jx_string(x, o, ip, "path", true, &p)) < 0 ||
                    (r = parse_access(x, o, ip, &rule->access)) < 0 ||
                    (r = jx_bool(x, o, ip, "optional", false, &rule->optional)) < 0)
                        return r;
                if (!policy_path_valid(p))
                        return jx_fail(x, jx_path(pp, sizeof pp, ip, "path"),
                                       "must be an absolute normalised path inside the sandbox (no \"..\", \"//\" or "
                                       "trailing \"/\")");
                if ((r = jx_strdup(x, ip, p, &rule->path)) < 0)
                        return r;
                l->n_fs_rules = i + 1;
        }
        return 0;
}

static int parse_ports(struct jx *x, json_t *o, const char *path, const char *key, uint16_t *ports, size_t *n) {
        char kp[512], ip[512];
        json_t *arr = NULL;
        int r = jx_array(x, o, path, key, false, &arr);
        if (r < 0 || !arr)
                return r;
        jx_path(kp, sizeof kp, path, key);
        if (json_array_size(arr) > LANDLOCK_MAX_PORTS)
                return jx_fail(x, kp, "too many ports (more than %d)", LANDLOCK_MAX_PORTS);
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *v = json_array_get(arr, i);
                jx_index(ip, sizeof ip, kp, i);
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
                        return jx_fail(x, ip, "expected a TCP port number 0..65535");
                ports[(*n)++] = (uint16_t)json_integer_value(v);
        }
        return 0;
}

static int parse_net(struct jx *x, json_t *o, const char *path, struct policy_landlock *l) {
        static const char *const keys[] = { "bind", "connect", "optional", NULL };
        int r;
        if ((r = jx_object(x, o, path, keys)) < 0 ||
            (r = parse_ports(x, o, path, "bind", l->bind_ports, &l->n_bind_ports)) < 0 ||
            (r = parse_ports(x, o, path, "connect", l->connect_ports, &l->n_connect_ports)) < 0 ||
            (r = jx_bool(x, o, path, "optional", false, &l->net_optional)) < 0)
                return r;
        l->net = true;
        return 0;
}

static int parse_scope(struct jx *x, json_t *o, const char *path, struct policy_landlock *l) {
        static const char *const keys[] = { "abstract-unix", "signal", "optional", NULL };
        bool au = false, sig = false;
        int r;
        if ((r = jx_object(x, o, path, keys)) < 0 || (r = jx_bool(x, o, path, "abstract-unix", false, &au)) < 0 ||
            (r = jx_bool(x, o, path, "signal", false, &sig)) < 0 ||
            (r = jx_bool(x, o, path, "optional", false, &l->scope_optional)) < 0)
                return r;
        l->scopes = (au ? LL_SCOPE_ABSTRACT_UNIX : 0) | (sig ? LL_SCOPE_SIGNAL : 0);
        return 0;
}

int pol_landlock_parse(struct jx *x, json_t *v, const char *path, struct policy_landlock *ret) {
        static const char *const keys[] = { "fs", "fs_rights_optional", "net", "scope", "optional", NULL };
        char kp[512];
        json_t *fs = NULL, *o;
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0 || (r = jx_bool(x, v, path, "optional", false, &ret->optional)) < 0 ||
            (r = jx_bool(x, v, path, "fs_rights_optional", false, &ret->fs_rights_optional)) < 0 ||
            (r = jx_array(x, v, path, "fs", false, &fs)) < 0)
                return r;
        if (fs) {
                if ((r = parse_fs(x, fs, jx_path(kp, sizeof kp, path, "fs"), ret)) < 0)
                        return r == -ENOMEM ? jx_fail(x, kp, "out of memory") : r;
                ret->fs = true;
        }
        if ((o = json_object_get(v, "net")) && (r = parse_net(x, o, jx_path(kp, sizeof kp, path, "net"), ret)) < 0)
                return r;
        if ((o = json_object_get(v, "scope")) &&
            (r = parse_scope(x, o, jx_path(kp, sizeof kp, path, "scope"), ret)) < 0)
                return r;
        if (!ret->fs && !ret->net && !ret->scopes)
                return jx_fail(x, path,
                               "restricts nothing (give \"fs\", \"net\" or \"scope\", or leave the section out)");
        ret->set = true;
        return 0;
}

void pol_landlock_free(struct policy_landlock *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_fs_rules; i++)
                free(l->fs_rules[i].path);
        free(l->fs_rules);
        l->fs_rules = NULL;
        l->n_fs_rules = 0;
}
