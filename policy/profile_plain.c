/* Plaintext of a sealed profile: parsed in locked memory, validated, never quoted in errors. */
#include "policy/profile.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "policy/jsonx.h"
#include "policy/scope.h"

/* Like jx_object, but an unknown key is not named: in a plaintext profile a
 * mistyped structure could put a secret where a key name goes. */
static int plain_object(struct jx *x, json_t *v, const char *path, const char *const *allowed) {
        const char *k;
        json_t *val;
        if (!json_is_object(v))
                return jx_fail(x, path, "expected an object");
        json_object_foreach(v, k, val) {
                bool ok = false;
                for (size_t i = 0; allowed[i]; i++)
                        if (strcmp(allowed[i], k) == 0)
                                ok = true;
                if (!ok) {
                        char list[128] = "";
                        for (size_t i = 0; allowed[i]; i++)
                                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                                         allowed[i]);
                        return jx_fail(x, path, "unknown key (allowed: %s)", list);
                }
        }
        return 0;
}

static int parse_value(struct jx *x, struct secmem *m, json_t *o, const char *path, struct profile_cred *c) {
        json_t *v = json_object_get(o, "value"), *b = json_object_get(o, "value_base64");
        char p[512];
        if (!!v == !!b)
                return jx_fail(x, path, "exactly one of \"value\" and \"value_base64\" is required");
        if (v) {
                uint8_t *d;
                /* never jx_string: its messages are fine, but be explicit that
                 * nothing about the value's content is reported */
                if (!json_is_string(v))
                        return jx_fail(x, jx_path(p, sizeof p, path, "value"), "expected a string");
                c->value_len = json_string_length(v);
                if (memchr(json_string_value(v), 0, c->value_len))
                        return jx_fail(x, jx_path(p, sizeof p, path, "value"),
                                       "contains a NUL byte (use value_base64)");
                if (!(d = secmem_alloc(m, c->value_len + 1)))
                        return -ENOMEM;
                memcpy(d, json_string_value(v), c->value_len);
                d[c->value_len] = 0;
                c->value = d;
                return 0;
        }
        if (!json_is_string(b))
                return jx_fail(x, jx_path(p, sizeof p, path, "value_base64"), "expected a string");
        const char *s = json_string_value(b), *end = NULL;
        size_t n = json_string_length(b), cap = n / 4 * 3 + 3, len = 0;
        uint8_t *d = secmem_alloc(m, cap + 1);
        if (!d)
                return -ENOMEM;
        if (sodium_base642bin(d, cap, s, n, NULL, &len, &end, sodium_base64_VARIANT_ORIGINAL) < 0 || *end ||
            n % 4 != 0) {
                secmem_release(m, d);
                return jx_fail(x, jx_path(p, sizeof p, path, "value_base64"),
                               "not valid base64 (standard alphabet, padded)");
        }
        d[len] = 0;
        c->value = d;
        c->value_len = len;
        return 0;
}

static int parse_cred(struct jx *x, struct secmem *m, json_t *o, const char *path, struct profile_cred *c) {
        static const char *const keys[] = { "name", "value", "value_base64", "as", "scope", NULL };
        const char *name, *as = "file", *scope = NULL;
        char p[512];
        int r;
        if ((r = plain_object(x, o, path, keys)) < 0 || (r = jx_string(x, o, path, "name", true, &name)) < 0 ||
            (r = jx_string(x, o, path, "as", false, &as)) < 0 ||
            (r = jx_string(x, o, path, "scope", false, &scope)) < 0)
                return r;
        if (!cred_name_valid(name))
                return jx_fail(x, jx_path(p, sizeof p, path, "name"),
                               "must be 1-255 printable ASCII characters without '/' and not \".\" or \"..\"");
        if (strcmp(as, "file") == 0)
                c->as = CRED_FILE;
        else if (strcmp(as, "env") == 0)
                c->as = CRED_ENV;
        else if (strcmp(as, "both") == 0)
                c->as = CRED_BOTH;
        else
                return jx_fail(x, jx_path(p, sizeof p, path, "as"), "must be \"file\", \"env\" or \"both\"");
        if ((c->as & CRED_ENV) && !env_name_valid(name))
                return jx_fail(x, jx_path(p, sizeof p, path, "name"),
                               "\"%s\" is not an environment variable name, but \"as\" asks for env delivery", name);
        if (scope && !scope_valid(scope))
                return jx_fail(x, jx_path(p, sizeof p, path, "scope"),
                               "not a scope \"action:resource:identifier\" ('*' only as the whole identifier)");
        if ((r = parse_value(x, m, o, path, c)) < 0)
                return r;
        if ((c->as & CRED_ENV) && memchr(c->value, 0, c->value_len))
                return jx_fail(x, path, "an env credential's value cannot contain a NUL byte");
        if (!(c->name = secmem_strndup(m, name, strlen(name))) ||
            (scope && !(c->scope = secmem_strndup(m, scope, strlen(scope)))))
                return -ENOMEM;
        return 0;
}

static int parse_doc(struct jx *x, struct secmem *m, json_t *root, struct profile_plain *p) {
        static const char *const keys[] = { "tenant", "credentials", NULL };
        const char *tenant;
        json_t *creds;
        char ip[512];
        size_t n;
        int r;
        if ((r = plain_object(x, root, "$", keys)) < 0 || (r = jx_string(x, root, "$", "tenant", true, &tenant)) < 0 ||
            (r = jx_array(x, root, "$", "credentials", true, &creds)) < 0)
                return r;
        if (!slug_valid(tenant))
                return jx_fail(x, "$.tenant", "not a valid tenant slug");
        n = json_array_size(creds);
        if (n > PROFILE_MAX_CREDS)
                return jx_fail(x, "$.credentials", "too many credentials (%zu > %d)", n, PROFILE_MAX_CREDS);
        if (!(p->tenant = secmem_strndup(m, tenant, strlen(tenant))) ||
            !(p->creds = secmem_alloc(m, (n ? n : 1) * sizeof *p->creds)))
                return -ENOMEM;
        memset(p->creds, 0, (n ? n : 1) * sizeof *p->creds);
        for (size_t i = 0; i < n; i++) {
                jx_index(ip, sizeof ip, "$.credentials", i);
                if ((r = parse_cred(x, m, json_array_get(creds, i), ip, &p->creds[i])) < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(p->creds[j].name, p->creds[i].name) == 0)
                                return jx_fail(x, ip, "duplicate credential name \"%s\"", p->creds[i].name);
                p->n_creds = i + 1;
        }
        return 0;
}

/* jx_load, minus its stack copy of the error: jansson's error text quotes
 * the input near the error, and this input is secret. The depth limit is
 * jx_load's, applied by parsing a copy of the structure only. */
static int plain_load(struct jx *x, const uint8_t *buf, size_t len, json_t **ret) {
        json_error_t je;
        json_t *v;
        int depth = 0, max_depth = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                uint8_t c = buf[i];
                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                } else if (c == '"')
                        in_str = true;
                else if (c == '{' || c == '[') {
                        if (++depth > max_depth)
                                max_depth = depth;
                } else if (c == '}' || c == ']')
                        depth--;
        }
        if (max_depth > 32)
                return jx_fail(x, "$", "document nested deeper than 32 levels");
        v = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
                char p[64];
                snprintf(p, sizeof p, "line %d column %d", je.line, je.column);
                sodium_memzero(&je, sizeof je);
                return jx_fail(x, p, "invalid JSON");
        }
        sodium_memzero(&je, sizeof je);
        *ret = v;
        return 0;
}

int profile_plain_parse(const char *name, struct secmem *m, const uint8_t *buf, size_t len, int exit_code,
                        struct profile_plain *ret, struct sr_error *e) {
        struct jx x = { .file = name, .e = e, .exit_code = exit_code, .secret = true };
        struct profile_plain p = { .arena = m };
        json_t *root = NULL;
        int r;

        secmem_json_push(m);
        r = plain_load(&x, buf, len, &root);
        if (r == 0)
                r = parse_doc(&x, m, root, &p);
        json_decref(root);
        secmem_json_pop();
        if (r == -ENOMEM)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem",
                               "%s: cannot allocate locked memory for the plaintext (RLIMIT_MEMLOCK?)", name);
        if (r < 0) {
                if (e)
                        snprintf(e->reason, sizeof e->reason, "bad-plaintext");
                return r;
        }
        *ret = p;
        return 0;
}
