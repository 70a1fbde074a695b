/* Policy section "credentials": parse and validate into struct policy_credentials. */
#include "policy/pol_credentials.h"

#include <string.h>

#include "policy/policy.h"
#include "policy/profile.h"
#include "policy/scope.h"

static int string_list(struct jx *x, json_t *v, const char *path, const char *key, size_t max,
                       bool (*valid)(const char *), const char *what, char ***ret, size_t *ret_n) {
        char kp[512], ip[512];
        json_t *arr = NULL;
        size_t n;
        int r = jx_array(x, v, path, key, false, &arr);
        if (r < 0 || !arr)
                return r;
        jx_path(kp, sizeof kp, path, key);
        n = json_array_size(arr);
        if (n > max)
                return jx_fail(x, kp, "too many entries (%zu > %zu)", n, max);
        *ret = calloc(n ? n : 1, sizeof **ret);
        if (!*ret)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *s = json_array_get(arr, i);
                jx_index(ip, sizeof ip, kp, i);
                if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s) ||
                    !valid(json_string_value(s)))
                        return jx_fail(x, ip, "expected %s", what);
                if ((r = jx_strdup(x, ip, json_string_value(s), &(*ret)[i])) < 0)
                        return r;
                *ret_n = i + 1;
        }
        return 0;
}

static bool abs_path_valid(const char *s) {
        return policy_path_valid(s) && strcmp(s, "/") != 0;
}

int pol_credentials_parse(struct jx *x, json_t *v, const char *path, struct policy_credentials *ret) {
        static const char *const keys[] = { "trusted_issuers",
                                            "revoked",
                                            "revocation_list",
                                            "scope_ceiling",
                                            "max_profile_bytes",
                                            "allow_env",
                                            "dir",
                                            NULL };
        const char *revoked = NULL, *dir = NULL;
        long long max = 0;
        char kp[512];
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0 ||
            (r = string_list(x, v, path, "trusted_issuers", 64, abs_path_valid,
                             "an absolute path of an issuer public key", &ret->trusted_issuers,
                             &ret->n_trusted_issuers)) < 0 ||
            (r = string_list(x, v, path, "scope_ceiling", 256, scope_valid,
                             "a scope \"action:resource:identifier\" ('*' only as the whole identifier)",
                             &ret->scope_ceiling, &ret->n_scope_ceiling)) < 0 ||
            (r = jx_string(x, v, path, "revoked", false, &revoked)) < 0 ||
            (r = jx_string(x, v, path, "dir", false, &dir)) < 0 ||
            (r = jx_int(x, v, path, "max_profile_bytes", false, 1024, PROFILE_MAX_BYTES, &max)) < 0 ||
            (r = jx_bool(x, v, path, "allow_env", false, &ret->allow_env)) < 0)
                return r;
        /* one name for the revocation list everywhere (--revoked, pool.json
         * "revoked"); the old key is refused, not ignored: ignoring it would
         * silently un-revoke every profile it lists */
        if (json_object_get(v, "revocation_list"))
                return jx_fail(x, jx_path(kp, sizeof kp, path, "revocation_list"),
                               "renamed: use \"revoked\" (the same path)");
        if (revoked && !abs_path_valid(revoked))
                return jx_fail(x, jx_path(kp, sizeof kp, path, "revoked"), "must be an absolute normalised path");
        if (dir && (!abs_path_valid(dir) || strcmp(dir, "/proc") == 0 || strncmp(dir, "/proc/", 6) == 0 ||
                    strcmp(dir, "/dev") == 0 || strncmp(dir, "/dev/", 5) == 0))
                return jx_fail(x, jx_path(kp, sizeof kp, path, "dir"),
                               "must be an absolute normalised path inside the sandbox, not \"/\", /proc or /dev");
        ret->max_profile_bytes = (size_t)max;
        if (revoked && (r = jx_strdup(x, path, revoked, &ret->revocation_list)) < 0)
                return r;
        if (dir && (r = jx_strdup(x, path, dir, &ret->dir)) < 0)
                return r;
        return 0;
}

void pol_credentials_free(struct policy_credentials *c) {
        for (size_t i = 0; i < c->n_trusted_issuers; i++)
                free(c->trusted_issuers[i]);
        free(c->trusted_issuers);
        for (size_t i = 0; i < c->n_scope_ceiling; i++)
                free(c->scope_ceiling[i]);
        free(c->scope_ceiling);
        free(c->revocation_list);
        free(c->dir);
        memset(c, 0, sizeof *c);
}

const char *pol_credentials_dir(const struct policy_credentials *c) {
        return c->dir ? c->dir : CREDS_DEFAULT_DIR;
}

size_t pol_credentials_max_bytes(const struct policy_credentials *c) {
        return c->max_profile_bytes ? c->max_profile_bytes : PROFILE_MAX_BYTES;
}
