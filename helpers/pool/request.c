/* sealrun-pool: one task request {task, tenant, profile, scopes[], command[]}, parsed strictly. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "helpers/pool/pool.h"
#include "policy/jsonx.h"

bool pool_profile_name_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n < 1 || n > 128 || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.'))
                        return false;
        return true;
}

bool pool_spool_name_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        char stem[129];
        if (n < 6 || n - 5 >= sizeof stem || s[0] == '.' || strcmp(s + n - 5, ".json") != 0)
                return false;
        memcpy(stem, s, n - 5);
        stem[n - 5] = 0;
        return task_id_valid(stem);
}

/* A relative path of plain components: no "", ".", ".." or leading '/'.
 * The lexical check gives a clear message; openat2 below is the guard. */
bool pool_workdir_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        const char *p = s;
        if (n < 1 || n > POOL_WORKDIR_MAX || s[0] == '/')
                return false;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < len; i++)
                        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                                return false;
                p += len;
                if (*p == '/' && !*++p)
                        return false; /* trailing slash */
        }
        return true;
}

/* A list of strings; each must pass `valid` (NULL = any string without NUL). */
static int string_list(struct jx *x, json_t *arr, const char *path, size_t max, bool (*valid)(const char *),
                       const char *what, char ***ret, size_t *ret_n) {
        size_t i, n = json_array_size(arr);
        char p[512], **v;
        json_t *s;
        if (n > max)
                return jx_fail(x, path, "more than %zu entries", max);
        v = calloc(n + 1, sizeof *v);
        if (!v)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", x->file);
        *ret = v;
        json_array_foreach(arr, i, s) {
                jx_index(p, sizeof p, path, i);
                if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
                        return jx_fail(x, p, "expected a string without NUL bytes");
                if (valid && !valid(json_string_value(s)))
                        return jx_fail(x, p, "%s", what);
                int r = jx_strdup(x, p, json_string_value(s), &v[i]);
                if (r < 0)
                        return r;
                *ret_n = i + 1;
        }
        return 0;
}

static bool scope_ok(const char *s) {
        size_t n = strlen(s);
        if (n < 1 || n > 255)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isgraph((unsigned char)s[i]))
                        return false;
        return true;
}

static int parse(struct jx *x, json_t *root, const char *pool_tenant, struct pool_request *rq) {
        static const char *const keys[] = { "task", "tenant", "profile", "scopes", "command", "workdir", NULL };
        const char *s = NULL;
        json_t *arr = NULL;
        int r;

        if (!json_is_object(root))
                return jx_fail(x, "$", "expected one JSON object per request");
        /* The tenant first: a request for another tenant is refused as such
         * whatever else is wrong with it (a pool never runs another tenant's
         * work, and the operator must see the attempt in the audit log). */
        if ((r = jx_string(x, root, "$", "tenant", true, &s)) < 0)
                return r;
        if (strcmp(s, pool_tenant) != 0) {
                if (jx_string(x, root, "$", "task", false, &s) == 0 && s && task_id_valid(s))
                        (void)jx_strdup(x, "$.task", s, &rq->task);
                json_t *t = json_object_get(root, "tenant");
                return sr_fail(x->e, SR_EXIT_REFUSED, EPERM, "cross-tenant",
                               "%s: $.tenant: request for tenant \"%s\" refused: this pool serves tenant \"%s\" only",
                               x->file, slug_valid(json_string_value(t)) ? json_string_value(t) : "(not a slug)",
                               pool_tenant);
        }
        if ((r = jx_strdup(x, "$.tenant", s, &rq->tenant)) < 0)
                return r;
        s = NULL;
        if ((r = jx_string(x, root, "$", "task", true, &s)) < 0)
                return r;
        if (!task_id_valid(s))
                return jx_fail(x, "$.task", "not a task id ([A-Za-z0-9_.:-], 1-128 characters)");
        if ((r = jx_strdup(x, "$.task", s, &rq->task)) < 0 || (r = jx_object(x, root, "$", keys)) < 0)
                return r;
        s = NULL;
        if (json_is_null(json_object_get(root, "profile")))
                ; /* explicit null: no profile */
        else if ((r = jx_string(x, root, "$", "profile", false, &s)) < 0)
                return r;
        if (s) {
                if (!pool_profile_name_valid(s))
                        return jx_fail(x, "$.profile",
                                       "must be a file name in the pool's profiles directory "
                                       "([A-Za-z0-9_.-], not starting with '.')");
                if ((r = jx_strdup(x, "$.profile", s, &rq->profile)) < 0)
                        return r;
        }
        if ((r = jx_array(x, root, "$", "scopes", false, &arr)) < 0)
                return r;
        if (arr && (r = string_list(x, arr, "$.scopes", POOL_SCOPES_MAX, scope_ok, "not a scope (printable, no spaces)",
                                    &rq->scopes, &rq->n_scopes)) < 0)
                return r;
        if (rq->n_scopes && !rq->profile)
                return jx_fail(x, "$.scopes", "scopes select credentials: they need a profile");
        arr = NULL;
        if ((r = jx_array(x, root, "$", "command", true, &arr)) < 0)
                return r;
        if (json_array_size(arr) == 0)
                return jx_fail(x, "$.command", "must name a command");
        if ((r = string_list(x, arr, "$.command", POOL_ARGV_MAX, NULL, NULL, &rq->argv, &rq->argc)) < 0)
                return r;
        if (rq->argv[0][0] == 0)
                return jx_fail(x, "$.command[0]", "empty command name");
        s = NULL;
        if ((r = jx_string(x, root, "$", "workdir", false, &s)) < 0)
                return r;
        if (s) {
                if (!pool_workdir_valid(s))
                        return jx_fail(x, "$.workdir",
                                       "must be a relative path beneath the pool's work root (no \"..\", \".\", "
                                       "empty or absolute components)");
                if ((r = jx_strdup(x, "$.workdir", s, &rq->workdir)) < 0)
                        return r;
        }
        return 0;
}

int pool_request_parse(const char *name, const char *buf, size_t len, const char *pool_tenant, struct pool_request *ret,
                       struct sr_error *e) {
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_LAUNCHER };
        struct pool_request rq = { 0 };
        json_t *root = NULL;
        int r;
        if (len > POOL_REQUEST_MAX)
                r = sr_fail(e, SR_EXIT_LAUNCHER, EFBIG, "bad-request", "%s: larger than %d bytes", name,
                            POOL_REQUEST_MAX);
        else if ((r = jx_load(&x, buf, len, &root)) >= 0)
                r = parse(&x, root, pool_tenant, &rq);
        json_decref(root);
        if (r < 0 && e->exit_code != SR_EXIT_REFUSED)
                snprintf(e->reason, sizeof e->reason, "bad-request");
        if (r < 0) {
                char *task = TAKE_PTR(rq.task);
                pool_request_free(&rq);
                rq.task = task;
        }
        *ret = rq;
        return r;
}

void pool_request_free(struct pool_request *r) {
        for (size_t i = 0; r->scopes && i < r->n_scopes; i++)
                free(r->scopes[i]);
        for (size_t i = 0; r->argv && i < r->argc; i++)
                free(r->argv[i]);
        free(r->scopes);
        free(r->argv);
        free(r->task);
        free(r->tenant);
        free(r->profile);
        free(r->workdir);
        memset(r, 0, sizeof *r);
}
