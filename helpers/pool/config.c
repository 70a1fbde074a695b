/* sealrun-pool: the pool config file (strict JSON, absolute paths, safe owner and mode). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers/pool/pool.h"
#include "policy/jsonx.h"
#include "policy/policy.h"
#include "policy/trusted_file.h"

static int abs_path(struct jx *x, json_t *o, const char *key, bool required, char **ret) {
        char p[512];
        const char *s = NULL;
        int r = jx_string(x, o, "$", key, required, &s);
        if (r < 0 || !s)
                return r;
        jx_path(p, sizeof p, "$", key);
        if (s[0] != '/' || strlen(s) >= 4096)
                return jx_fail(x, p, "must be an absolute path");
        return jx_strdup(x, p, s, ret);
}

int pool_config_parse(const char *name, const char *buf, size_t len, struct pool_config *ret, struct sr_error *e) {
        static const char *const keys[] = { "version",      "tenant",    "policy",    "trust",         "revoked",
                                            "profiles_dir", "key_file",  "spool",     "sealrun",       "audit_socket",
                                            "audit",        "max_tasks", "timeout_s", "stop_grace_ms", "work_root",
                                            "work_path",    "prebuilt",  NULL };
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_LAUNCHER };
        struct pool_config c = { .audit = POOL_AUDIT_REQUIRED, .max_tasks = 2, .stop_grace_ms = 10000 };
        json_t *root = NULL, *trust = NULL;
        const char *s = NULL;
        long long v;
        char p[512];
        int r;

        if ((r = jx_load(&x, buf, len, &root)) < 0)
                return r;
        if ((r = jx_object(&x, root, "$", keys)) < 0 || (r = jx_int(&x, root, "$", "version", true, 1, 1, &v)) < 0)
                goto out;
        if ((r = jx_string(&x, root, "$", "tenant", true, &s)) < 0)
                goto out;
        if (!slug_valid(s)) {
                r = jx_fail(&x, "$.tenant", "not a tenant slug (^[a-z0-9][a-z0-9_-]{1,62}$)");
                goto out;
        }
        if ((r = jx_strdup(&x, "$.tenant", s, &c.tenant)) < 0 ||
            (r = abs_path(&x, root, "policy", true, &c.policy)) < 0 ||
            (r = abs_path(&x, root, "revoked", false, &c.revoked)) < 0 ||
            (r = abs_path(&x, root, "profiles_dir", false, &c.profiles_dir)) < 0 ||
            (r = abs_path(&x, root, "key_file", false, &c.key_file)) < 0 ||
            (r = abs_path(&x, root, "spool", false, &c.spool)) < 0 ||
            (r = abs_path(&x, root, "sealrun", false, &c.sealrun)) < 0 ||
            (r = abs_path(&x, root, "audit_socket", false, &c.audit_socket)) < 0 ||
            (r = abs_path(&x, root, "work_root", false, &c.work_root)) < 0 ||
            (r = abs_path(&x, root, "work_path", false, &c.work_path)) < 0)
                goto out;
        if (c.work_path && (!policy_path_valid(c.work_path) || strcmp(c.work_path, "/") == 0)) {
                r = jx_fail(&x, "$.work_path", "must be an absolute normalised path inside the sandbox, not \"/\"");
                goto out;
        }
        if (!c.work_path && !(c.work_path = strdup(POOL_WORK_PATH_DEFAULT))) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
                goto out;
        }
        if (c.audit_socket && strlen(c.audit_socket) >= 108) {
                r = jx_fail(&x, "$.audit_socket", "longer than an AF_UNIX socket path can be (107 bytes)");
                goto out;
        }
        if ((r = jx_array(&x, root, "$", "trust", false, &trust)) < 0)
                goto out;
        if (trust) {
                size_t i;
                json_t *t;
                c.trust = calloc(json_array_size(trust) + 1, sizeof *c.trust);
                if (!c.trust) {
                        r = sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
                        goto out;
                }
                json_array_foreach(trust, i, t) {
                        jx_index(p, sizeof p, "$.trust", i);
                        if (!json_is_string(t) || json_string_value(t)[0] != '/') {
                                r = jx_fail(&x, p, "must be an absolute path to an issuer public key");
                                goto out;
                        }
                        if ((r = jx_strdup(&x, p, json_string_value(t), &c.trust[c.n_trust])) < 0)
                                goto out;
                        c.n_trust++;
                }
        }
        s = NULL;
        if ((r = jx_string(&x, root, "$", "audit", false, &s)) < 0)
                goto out;
        if (s) {
                if (strcmp(s, "required") == 0)
                        c.audit = POOL_AUDIT_REQUIRED;
                else if (strcmp(s, "best-effort") == 0)
                        c.audit = POOL_AUDIT_BEST_EFFORT;
                else if (strcmp(s, "off") == 0)
                        c.audit = POOL_AUDIT_OFF;
                else {
                        r = jx_fail(&x, "$.audit", "must be \"required\", \"best-effort\" or \"off\"");
                        goto out;
                }
        }
        v = c.max_tasks;
        if ((r = jx_int(&x, root, "$", "max_tasks", false, 1, POOL_TASKS_MAX, &v)) < 0)
                goto out;
        c.max_tasks = (long)v;
        v = 0;
        if ((r = jx_int(&x, root, "$", "timeout_s", false, 0, 7 * 24 * 3600, &v)) < 0)
                goto out;
        c.timeout_s = (long)v;
        v = 0;
        if ((r = jx_int(&x, root, "$", "prebuilt", false, 0, POOL_TASKS_MAX, &v)) < 0)
                goto out;
        c.prebuilt = (long)v;
        v = c.stop_grace_ms;
        if ((r = jx_int(&x, root, "$", "stop_grace_ms", false, 0, 600000, &v)) < 0)
                goto out;
        c.stop_grace_ms = (long)v;
        if ((r = jx_strdup(&x, "$", name, &c.file)) < 0)
                goto out;
        *ret = c;
        memset(&c, 0, sizeof c);
out:
        pool_config_free(&c);
        json_decref(root);
        return r;
}

/* The config decides which policy and trust anchors the pool's tasks get:
 * only root (or the pool's own uid, for a pool run by hand) may be able to
 * change it. */
int pool_config_load(const char *path, struct pool_config *ret, struct sr_error *e) {
        static const struct trusted_read how = { .what = "the pool config",
                                                 .reason = "config",
                                                 .perm_reason = "config-permissions",
                                                 .open_flags = O_NOFOLLOW | O_NONBLOCK,
                                                 .max = 1 << 20 };
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = trusted_file_read(path, &how, &buf, &len, e);
        return r < 0 ? r : pool_config_parse(path, buf, len, ret, e);
}

void pool_config_free(struct pool_config *c) {
        for (size_t i = 0; c->trust && i < c->n_trust; i++)
                free(c->trust[i]);
        free(c->trust);
        free(c->file);
        free(c->tenant);
        free(c->policy);
        free(c->revoked);
        free(c->profiles_dir);
        free(c->key_file);
        free(c->spool);
        free(c->sealrun);
        free(c->audit_socket);
        free(c->work_root);
        free(c->work_path);
        memset(c, 0, sizeof *c);
}
