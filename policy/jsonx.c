/* Strict JSON field access with path-naming errors. */
#include "policy/jsonx.h"

#include <stdio.h>
#include <string.h>

#define JX_MAX_DEPTH 32

int jx_fail(struct jx *x, const char *path, const char *fmt, ...) {
        char m[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        /* Keys, values and jansson's own text quote the input: sr_fail
         * escapes it, so the message is one printable line, always. */
        return sr_fail(x->e, x->exit_code ? x->exit_code : SR_EXIT_LAUNCHER, EINVAL, "bad-input", "%s: %s: %s",
                       x->file ? x->file : "(input)", path, m);
}

const char *jx_path(char *buf, size_t size, const char *path, const char *key) {
        snprintf(buf, size, "%s.%s", path, key);
        return buf;
}

const char *jx_index(char *buf, size_t size, const char *path, size_t i) {
        snprintf(buf, size, "%s[%zu]", path, i);
        return buf;
}

static const char *jx_type(json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER: return "an integer";
        case JSON_REAL: return "a number";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        default: return "null";
        }
}

int jx_object(struct jx *x, json_t *v, const char *path, const char *const *allowed) {
        const char *k;
        json_t *val;
        if (!json_is_object(v))
                return jx_fail(x, path, "expected an object, got %s", v ? jx_type(v) : "nothing");
        json_object_foreach(v, k, val) {
                bool ok = false;
                for (size_t i = 0; allowed && allowed[i]; i++)
                        if (strcmp(allowed[i], k) == 0)
                                ok = true;
                if (!ok) {
                        char p[512];
                        return jx_fail(x, jx_path(p, sizeof p, path, k), "unknown key");
                }
        }
        return 0;
}

static json_t *jx_get(struct jx *x, json_t *obj, const char *path, const char *key, bool required, int *r) {
        json_t *v = json_object_get(obj, key);
        *r = 0;
        if (!v && required) {
                char p[512];
                *r = jx_fail(x, jx_path(p, sizeof p, path, key), "missing required key");
        }
        return v;
}

int jx_string(struct jx *x, json_t *obj, const char *path, const char *key, bool required, const char **ret) {
        int r;
        char p[512];
        json_t *v = jx_get(x, obj, path, key, required, &r);
        if (!v)
                return r;
        if (!json_is_string(v))
                return jx_fail(x, jx_path(p, sizeof p, path, key), "expected a string, got %s", jx_type(v));
        if (strlen(json_string_value(v)) != json_string_length(v))
                return jx_fail(x, jx_path(p, sizeof p, path, key), "string contains a NUL byte");
        *ret = json_string_value(v);
        return 0;
}

int jx_bool(struct jx *x, json_t *obj, const char *path, const char *key, bool required, bool *ret) {
        int r;
        char p[512];
        json_t *v = jx_get(x, obj, path, key, required, &r);
        if (!v)
                return r;
        if (!json_is_boolean(v))
                return jx_fail(x, jx_path(p, sizeof p, path, key), "expected a boolean, got %s", jx_type(v));
        *ret = json_is_true(v);
        return 0;
}

int jx_int(struct jx *x, json_t *obj, const char *path, const char *key, bool required, long long min, long long max,
           long long *ret) {
        int r;
        char p[512];
        json_t *v = jx_get(x, obj, path, key, required, &r);
        if (!v)
                return r;
        if (!json_is_integer(v))
                return jx_fail(x, jx_path(p, sizeof p, path, key), "expected an integer, got %s", jx_type(v));
        if (json_integer_value(v) < min || json_integer_value(v) > max)
                return jx_fail(x, jx_path(p, sizeof p, path, key), "must be between %lld and %lld", min, max);
        *ret = json_integer_value(v);
        return 0;
}

int jx_array(struct jx *x, json_t *obj, const char *path, const char *key, bool required, json_t **ret) {
        int r;
        char p[512];
        json_t *v = jx_get(x, obj, path, key, required, &r);
        if (!v)
                return r;
        if (!json_is_array(v))
                return jx_fail(x, jx_path(p, sizeof p, path, key), "expected an array, got %s", jx_type(v));
        *ret = v;
        return 0;
}

/* jansson recurses while parsing (its own limit is 2048 levels); refuse deep
 * documents first with a cheap scan so a hostile file cannot exhaust the stack. */
static int jx_depth_ok(const char *buf, size_t len) {
        int depth = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                char c = buf[i];
                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                        continue;
                }
                if (c == '"')
                        in_str = true;
                else if (c == '{' || c == '[') {
                        if (++depth > JX_MAX_DEPTH)
                                return 0;
                } else if (c == '}' || c == ']')
                        depth--;
        }
        return 1;
}

int jx_load(struct jx *x, const char *buf, size_t len, json_t **ret) {
        json_error_t je;
        json_t *v;
        if (!jx_depth_ok(buf, len))
                return jx_fail(x, "$", "document nested deeper than %d levels", JX_MAX_DEPTH);
        v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
                char p[64];
                snprintf(p, sizeof p, "line %d column %d", je.line, je.column);
                /* jansson's text can quote input ("near 'abc'"): never for secrets */
                if (x->secret)
                        return jx_fail(x, p, "invalid JSON");
                return jx_fail(x, p, "invalid JSON: %s", je.text);
        }
        *ret = v;
        return 0;
}

int jx_strdup(struct jx *x, const char *path, const char *s, char **ret) {
        char *d = strdup(s);
        if (!d)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: %s: out of memory", x->file, path);
        *ret = d;
        return 0;
}
