/* Policy sources (stock names, files, stdin, /dev/fd/N) and "extends": a policy stated as a difference from another. */
#include "policy/policy.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>

/* A chain deeper than this is a mistake, not a design: stock policy, site
 * policy, pool policy, task variant is already four. */
#define EXTENDS_MAX_DEPTH 8

bool policy_stock_name_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
                        return false;
        return true;
}

int policy_stock_path(const char *name, char *buf, size_t size) {
        /* Prefer the installed stock policies; fall back to the build tree
         * next to the binary (`make demo`, the tests, a fresh clone). */
        char exe[PATH_MAX], *slash;
        ssize_t n;
        if (!policy_stock_name_valid(name))
                return -EINVAL;
        snprintf(buf, size, "%s/policy/%s.json", SEALRUN_DATADIR, name);
        if (access(buf, F_OK) == 0)
                return 0;
        n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
                exe[n] = 0;
                if ((slash = strrchr(exe, '/'))) {
                        *slash = 0;
                        snprintf(buf, size, "%s/policy/%s.json", exe, name);
                        if (access(buf, F_OK) == 0)
                                return 0;
                        snprintf(buf, size, "%s/../policy/stock/%s.json", exe, name);
                        if (access(buf, F_OK) == 0)
                                return 0;
                }
        }
        snprintf(buf, size, "%s/policy/%s.json", SEALRUN_DATADIR, name);
        return -ENOENT;
}

const char *policy_default_path(void) {
        static char path[PATH_MAX];
        (void)policy_stock_path("default", path, sizeof path);
        return path;
}

/* "/dev/fd/N", "/proc/self/fd/N", "-" and "/dev/stdin": an fd handed over by
 * the caller, read once (process substitution gives "/dev/fd/63"). */
int policy_source_fd(const char *arg) {
        const char *num = NULL;
        long v;
        if (strcmp(arg, "-") == 0 || strcmp(arg, "/dev/stdin") == 0)
                return 0;
        if (strncmp(arg, "/dev/fd/", 8) == 0)
                num = arg + 8;
        else if (strncmp(arg, "/proc/self/fd/", 14) == 0)
                num = arg + 14;
        if (!num || parse_long(num, 0, INT_MAX, &v) < 0)
                return -1;
        return (int)v;
}

struct layer {
        char name[PATH_MAX]; /* shown in messages */
        dev_t dev;
        ino_t ino;
        bool file; /* dev/ino identify it (cycles) */
};

struct chain {
        struct layer v[EXTENDS_MAX_DEPTH + 1];
        size_t n;
};

/* Read one layer and parse its JSON (no merging yet). */
static int read_layer(const char *arg, bool from_cli, struct layer *l, json_t **ret, struct sr_error *e) {
        _cleanup_free_ char *buf = NULL;
        struct jx x = { .e = e, .exit_code = SR_EXIT_LAUNCHER };
        struct stat st;
        size_t len;
        int fd = from_cli ? policy_source_fd(arg) : -1, r;

        if (fd >= 0) {
                snprintf(l->name, sizeof l->name, "%s", fd == 0 ? "/dev/stdin" : arg);
                r = policy_read_fd(fd, l->name, false, &buf, &len, &st, e);
        } else {
                if (policy_stock_name_valid(arg) && !strchr(arg, '/')) {
                        if (policy_stock_path(arg, l->name, sizeof l->name) < 0)
                                return sr_fail(e, SR_EXIT_LAUNCHER, ENOENT, "policy",
                                               "%s: no stock policy of that name (looked for %s%s%s)", arg, l->name,
                                               from_cli ? "; a file in the current directory is ./" : "",
                                               from_cli ? arg : "");
                } else
                        snprintf(l->name, sizeof l->name, "%s", arg);
                r = policy_read_file(l->name, &buf, &len, &st, e);
        }
        if (r < 0)
                return r;
        l->file = S_ISREG(st.st_mode);
        l->dev = st.st_dev;
        l->ino = st.st_ino;
        x.file = l->name;
        return jx_load(&x, buf, len, ret);
}

/* Resolve arg and everything it extends into one document. */
static int resolve(const char *arg, bool from_cli, struct chain *c, json_t **ret, struct sr_error *e) {
        struct layer *l = &c->v[c->n];
        json_t *root = NULL, *ext, *base = NULL;
        char parent[PATH_MAX];
        const char *target;
        int r;

        if ((r = read_layer(arg, from_cli, l, &root, e)) < 0)
                return r;
        /* a cycle: this file is already in the chain (checked before
         * following it, so a cycle is named as one, not as "too deep") */
        for (size_t i = 0; i < c->n; i++)
                if (l->file && c->v[i].file && c->v[i].dev == l->dev && c->v[i].ino == l->ino) {
                        json_decref(root);
                        return sr_fail(e, SR_EXIT_LAUNCHER, ELOOP, "policy",
                                       "%s: $.extends: \"%s\" leads back to %s (a cycle)", c->v[c->n - 1].name, arg,
                                       c->v[i].name);
                }
        c->n++;
        ext = json_is_object(root) ? json_object_get(root, "extends") : NULL;
        if (!ext) {
                *ret = root;
                return 0;
        }
        snprintf(parent, sizeof parent, "%s", l->name);
        if (!json_is_string(ext) || strlen(json_string_value(ext)) != json_string_length(ext)) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "policy", "%s: $.extends: expected a string", parent);
                goto out;
        }
        target = json_string_value(ext);
        if (!policy_stock_name_valid(target) && !policy_path_valid(target)) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "policy",
                            "%s: $.extends: \"%.200s\" is neither a stock policy name (default, agent) nor an absolute "
                            "path",
                            parent, target);
                goto out;
        }
        if (c->n > EXTENDS_MAX_DEPTH) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, ELOOP, "policy", "%s: $.extends: chain deeper than %d policies",
                            parent, EXTENDS_MAX_DEPTH);
                goto out;
        }
        r = resolve(target, false, c, &base, e);
        if (r < 0) {
                /* name the file and the field that led to the unreadable one */
                if (strncmp(e->msg, parent, strlen(parent)) != 0 && !strstr(e->msg, "$.extends"))
                        sr_error_prefix(e, "%s: $.extends: ", parent);
                goto out;
        }
        if (!json_is_object(base)) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "policy", "%s: $.extends: \"%s\" is not a JSON object", parent,
                            target);
                goto out;
        }
        json_object_del(root, "extends");
        if ((r = policy_merge(base, root)) < 0) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, -r, "nomem", "%s: out of memory", parent);
                goto out;
        }
        *ret = TAKE_PTR(base);
        r = 0;
out:
        json_decref(base);
        json_decref(root);
        return r;
}

static int resolve_top(const char *arg, json_t **ret, char *name, size_t size, struct sr_error *e) {
        struct chain c = { .n = 0 };
        int r = resolve(arg ? arg : "default", true, &c, ret, e);
        if (r == 0)
                snprintf(name, size, "%s", c.v[0].name);
        return r;
}

int policy_load(const char *arg, struct policy **ret, struct sr_error *e) {
        char name[PATH_MAX];
        json_t *root = NULL;
        int r = resolve_top(arg, &root, name, sizeof name, e);
        if (r < 0)
                return r;
        r = policy_from_json(name, root, ret, e);
        json_decref(root);
        return r;
}

int policy_print(const char *arg, FILE *f, struct sr_error *e) {
        char name[PATH_MAX];
        struct policy *p = NULL;
        json_t *root = NULL;
        int r = resolve_top(arg, &root, name, sizeof name, e);
        if (r < 0)
                return r;
        /* never print as a policy what sealrun would refuse to run */
        if ((r = policy_from_json(name, root, &p, e)) == 0) {
                policy_free(p);
                if (json_dumpf(root, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF || fflush(f) == EOF)
                        r = sr_fail(e, SR_EXIT_LAUNCHER, EIO, "output", "cannot write the policy: %s", strerror(errno));
        }
        json_decref(root);
        return r;
}

static int merge_mounts(json_t *base, json_t *over) {
        size_t i;
        json_t *m;
        json_array_foreach(over, i, m) {
                json_t *dst = json_is_object(m) ? json_object_get(m, "dst") : NULL;
                bool replaced = false;
                for (size_t k = 0; json_is_string(dst) && k < json_array_size(base); k++) {
                        json_t *bd = json_object_get(json_array_get(base, k), "dst");
                        if (json_is_string(bd) && json_equal(bd, dst)) {
                                if (json_array_set(base, k, m) < 0)
                                        return -ENOMEM;
                                replaced = true;
                                break;
                        }
                }
                if (!replaced && json_array_append(base, m) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int merge(json_t *base, json_t *over, bool top) {
        const char *k;
        json_t *v;
        json_object_foreach(over, k, v) {
                json_t *b = json_object_get(base, k);
                int r;
                if (json_is_null(v))
                        json_object_del(base, k);
                else if (json_is_object(v) && json_is_object(b)) {
                        if ((r = merge(b, v, false)) < 0)
                                return r;
                } else if (top && strcmp(k, "mounts") == 0 && json_is_array(v) && json_is_array(b)) {
                        if ((r = merge_mounts(b, v)) < 0)
                                return r;
                } else if (json_object_set(base, k, v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int policy_merge(json_t *base, json_t *over) {
        if (!json_is_object(base) || !json_is_object(over))
                return -EINVAL;
        return merge(base, over, true);
}
