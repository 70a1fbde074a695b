/* Strict JSON field access for parsers of outside input: every error names
 * the file, the JSON path and the problem; unknown keys are errors. */
#pragma once

#include <jansson.h>
#include "policy/util.h"

struct jx {
        const char *file; /* shown in messages ("agent.json") */
        struct sr_error *e;
        int exit_code; /* exit code for errors (125 for policy) */
        bool secret;   /* input holds secrets: never quote it in errors */
};

/* Fail with "FILE: PATH: message". */
int jx_fail(struct jx *x, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Build "path.key" / "path[i]" into buf (size >= 512). */
const char *jx_path(char *buf, size_t size, const char *path, const char *key);
const char *jx_index(char *buf, size_t size, const char *path, size_t i);

/* v must be an object whose keys are all in `allowed` (NULL-terminated). */
int jx_object(struct jx *x, json_t *v, const char *path, const char *const *allowed);
/* Typed getters: missing and !required → 0 with the output untouched. */
int jx_string(struct jx *x, json_t *obj, const char *path, const char *key, bool required, const char **ret);
int jx_bool(struct jx *x, json_t *obj, const char *path, const char *key, bool required, bool *ret);
int jx_int(struct jx *x, json_t *obj, const char *path, const char *key, bool required, long long min, long long max,
           long long *ret);
int jx_array(struct jx *x, json_t *obj, const char *path, const char *key, bool required, json_t **ret);
/* Parse a document from a buffer with limits: max depth and duplicate keys refused. */
int jx_load(struct jx *x, const char *buf, size_t len, json_t **ret);
/* Duplicate a string or fail with -ENOMEM. */
int jx_strdup(struct jx *x, const char *path, const char *s, char **ret);
