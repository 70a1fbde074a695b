/* Policy document: load, validate and free (core fields and the mount plan). */
#include "policy/policy.h"
#include "policy/trusted_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool policy_path_valid(const char *p) {
        size_t n;
        if (!p || p[0] != '/')
                return false;
        n = strlen(p);
        if (n > 4095 || (n > 1 && p[n - 1] == '/'))
                return false;
        for (const char *c = p; *c; c++) {
                if (*c == '/' && c[1] == '/')
                        return false;
                if (*c == '/' && c[1] == '.' && (c[2] == '/' || c[2] == 0))
                        return false;
                if (*c == '/' && c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == 0))
                        return false;
                if ((unsigned char)*c < 0x20)
                        return false;
        }
        return true;
}

bool policy_path_under(const char *path, const char *base) {
        size_t n = strlen(base);
        if (strcmp(base, "/") == 0)
                return true;
        return strncmp(path, base, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static void mount_entry_free(struct mount_entry *m) {
        free(m->src);
        free(m->dst);
        free(m->content);
}

void policy_free(struct policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_mounts; i++)
                mount_entry_free(&p->mounts[i]);
        free(p->mounts);
        for (size_t i = 0; i < p->n_env_pass; i++)
                free(p->env_pass[i]);
        free(p->env_pass);
        for (size_t i = 0; i < p->n_env_set; i++) {
                free(p->env_set[i].name);
                free(p->env_set[i].value);
        }
        free(p->env_set);
        pol_credentials_free(&p->credentials);
        pol_audit_free(&p->audit);
        pol_seccomp_free(&p->seccomp);
        pol_landlock_free(&p->landlock);
        pol_caps_free(&p->caps);
        pol_limits_free(&p->limits);
        pol_network_free(&p->network);
        pol_ids_free(&p->tenant_ids);
        free(p->file);
        free(p->tenant);
        free(p->hostname);
        free(p->chdir);
        free(p->workdir.path);
        for (size_t i = 0; i < p->workdir.n_sources; i++)
                free(p->workdir.sources[i]);
        free(p);
}

static const struct {
        const char *name;
        enum mount_type type;
} mount_types[] = {
        { "ro-bind", MNT_RO_BIND }, { "bind", MNT_BIND }, { "tmpfs", MNT_TMPFS },     { "proc", MNT_PROC },
        { "dev", MNT_DEV },         { "dir", MNT_DIR },   { "symlink", MNT_SYMLINK }, { "file", MNT_FILE },
};

static int parse_mode(struct jx *x, json_t *o, const char *path, unsigned *ret) {
        const char *s;
        char p[512], *end;
        unsigned long v;
        int r = jx_string(x, o, path, "mode", false, &s);
        if (r < 0 || !json_object_get(o, "mode"))
                return r;
        v = strtoul(s, &end, 8);
        if (!*s || *end || v > 07777)
                return jx_fail(x, jx_path(p, sizeof p, path, "mode"), "expected an octal mode string like \"0755\"");
        /* 0 stands for "default" in struct mount_entry: an explicit "0000"
         * must not turn into 0644/0755 */
        if (v == 0)
                return jx_fail(x, jx_path(p, sizeof p, path, "mode"),
                               "mode 0 is not supported (omit \"mode\" for the default)");
        if (v & (S_ISUID | S_ISGID))
                return jx_fail(x, jx_path(p, sizeof p, path, "mode"), "setuid/setgid bits are not allowed");
        *ret = (unsigned)v;
        return 0;
}

static int parse_mount(struct jx *x, json_t *o, const char *path, struct mount_entry *m) {
        static const char *const keys[] = { "type",     "src",    "dst",   "content",  "mode", "size",
                                            "optional", "target", "idmap", "landlock", NULL };
        const char *type, *src = NULL, *dst, *content = NULL, *target = NULL, *idmap = NULL;
        char p[512];
        long long size = 0;
        bool landlock = true;
        int r;
        size_t i;

        if ((r = jx_object(x, o, path, keys)) < 0 || (r = jx_string(x, o, path, "type", true, &type)) < 0 ||
            (r = jx_string(x, o, path, "dst", true, &dst)) < 0 || (r = jx_string(x, o, path, "src", false, &src)) < 0 ||
            (r = jx_string(x, o, path, "content", false, &content)) < 0 ||
            (r = jx_string(x, o, path, "target", false, &target)) < 0 ||
            (r = jx_string(x, o, path, "idmap", false, &idmap)) < 0 ||
            (r = jx_bool(x, o, path, "optional", false, &m->optional)) < 0 ||
            (r = jx_bool(x, o, path, "landlock", false, &landlock)) < 0 ||
            (r = jx_int(x, o, path, "size", false, 4096, 1LL << 40, &size)) < 0 ||
            (r = parse_mode(x, o, path, &m->mode)) < 0)
                return r;
        for (i = 0; i < ELEMENTSOF(mount_types); i++)
                if (strcmp(mount_types[i].name, type) == 0)
                        break;
        if (i == ELEMENTSOF(mount_types))
                return jx_fail(
                        x, jx_path(p, sizeof p, path, "type"),
                        "unknown mount type \"%s\" (expected ro-bind, bind, tmpfs, proc, dev, dir, symlink or file)",
                        type);
        m->type = mount_types[i].type;
        if (!policy_path_valid(dst))
                return jx_fail(x, jx_path(p, sizeof p, path, "dst"),
                               "must be an absolute normalised path (no \"..\", \"//\" or trailing \"/\")");
        if (strcmp(dst, "/") == 0)
                return jx_fail(x, jx_path(p, sizeof p, path, "dst"), "cannot mount over the sandbox root");
        m->size = (unsigned long long)size;

        bool is_bind = m->type == MNT_RO_BIND || m->type == MNT_BIND;
        if (is_bind && !src)
                return jx_fail(x, jx_path(p, sizeof p, path, "src"), "missing required key for a %s entry", type);
        if (!is_bind && src)
                return jx_fail(x, jx_path(p, sizeof p, path, "src"), "only bind entries take a source");
        if (is_bind && !policy_path_valid(src))
                return jx_fail(x, jx_path(p, sizeof p, path, "src"), "must be an absolute normalised path");
        if (m->type == MNT_SYMLINK && !target)
                return jx_fail(x, jx_path(p, sizeof p, path, "target"), "missing required key for a symlink entry");
        if (m->type != MNT_SYMLINK && target)
                return jx_fail(x, jx_path(p, sizeof p, path, "target"), "only symlink entries take a target");
        if (m->type == MNT_SYMLINK && (!*target || strlen(target) > 4095))
                return jx_fail(x, jx_path(p, sizeof p, path, "target"), "must be a non-empty path");
        if (m->type != MNT_FILE && content)
                return jx_fail(x, jx_path(p, sizeof p, path, "content"), "only file entries take content");
        if (m->type == MNT_FILE && !content)
                return jx_fail(x, jx_path(p, sizeof p, path, "content"), "missing required key for a file entry");
        if (size && m->type != MNT_TMPFS)
                return jx_fail(x, jx_path(p, sizeof p, path, "size"), "only tmpfs entries take a size");
        if (m->mode && !(m->type == MNT_TMPFS || m->type == MNT_DIR || m->type == MNT_FILE))
                return jx_fail(x, jx_path(p, sizeof p, path, "mode"), "only tmpfs, dir and file entries take a mode");
        if (m->optional && !is_bind)
                return jx_fail(x, jx_path(p, sizeof p, path, "optional"), "only bind entries can be optional");
        if (idmap && !is_bind)
                return jx_fail(x, jx_path(p, sizeof p, path, "idmap"), "only bind entries can be idmapped");
        if (idmap && strcmp(idmap, "required") != 0 && strcmp(idmap, "optional") != 0)
                return jx_fail(x, jx_path(p, sizeof p, path, "idmap"), "expected \"required\" or \"optional\"");
        if (!landlock && !is_bind && m->type != MNT_TMPFS)
                return jx_fail(x, jx_path(p, sizeof p, path, "landlock"),
                               "only bind, ro-bind and tmpfs entries imply Landlock access (nothing to opt out of)");
        m->no_landlock = !landlock;
        m->idmap = !idmap ? IDMAP_NONE : strcmp(idmap, "required") == 0 ? IDMAP_REQUIRED : IDMAP_OPTIONAL;

        if ((r = jx_strdup(x, path, dst, &m->dst)) < 0)
                return r;
        if ((src || target) && (r = jx_strdup(x, path, src ? src : target, &m->src)) < 0)
                return r;
        if (content) {
                if ((r = jx_strdup(x, path, content, &m->content)) < 0)
                        return r;
                m->content_len = strlen(content);
        }
        return 0;
}

static int parse_mounts(struct jx *x, json_t *arr, const char *path, struct policy *p) {
        char ip[512];
        size_t n = json_array_size(arr);
        if (n > 256)
                return jx_fail(x, path, "too many entries (%zu > 256)", n);
        p->mounts = calloc(n ? n : 1, sizeof *p->mounts);
        if (!p->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = parse_mount(x, json_array_get(arr, i), jx_index(ip, sizeof ip, path, i), &p->mounts[i]);
                p->n_mounts = i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_namespaces(struct jx *x, json_t *v, const char *path, struct policy *p) {
        static const char *const keys[] = { "user", "mount", "pid", "net", "ipc", "uts", "cgroup", NULL };
        static const char *const fixed[] = { "mount", "pid" };
        char kp[512];
        bool b;
        int r = jx_object(x, v, path, keys);
        json_t *user;
        if (r < 0)
                return r;
        /* "user": "optional" lets a root launch inside a container that
         * cannot create user namespaces go on without one (reported in
         * not_enforced); anything but true or that exact word is an error. */
        user = json_object_get(v, "user");
        if (user && json_is_string(user) && json_string_length(user) == 8 &&
            strcmp(json_string_value(user), "optional") == 0)
                p->userns_optional = true;
        else if (user && json_is_false(user))
                return jx_fail(x, jx_path(kp, sizeof kp, path, "user"),
                               "the user namespace cannot be turned off (\"optional\" lets root go on without it where "
                               "it cannot be had)");
        else if (user && !json_is_true(user))
                return jx_fail(x, jx_path(kp, sizeof kp, path, "user"), "expected true or \"optional\"");
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                b = true;
                if ((r = jx_bool(x, v, path, fixed[i], false, &b)) < 0)
                        return r;
                if (!b)
                        return jx_fail(x, jx_path(kp, sizeof kp, path, fixed[i]),
                                       "the %s namespace cannot be turned off (the sandbox is built on it)", fixed[i]);
        }
        if ((r = jx_bool(x, v, path, "net", false, &p->ns_net)) < 0 ||
            (r = jx_bool(x, v, path, "ipc", false, &p->ns_ipc)) < 0 ||
            (r = jx_bool(x, v, path, "uts", false, &p->ns_uts)) < 0 ||
            (r = jx_bool(x, v, path, "cgroup", false, &p->ns_cgroup)) < 0)
                return r;
        return 0;
}

static int parse_env(struct jx *x, json_t *v, const char *path, struct policy *p) {
        static const char *const keys[] = { "pass", "set", NULL };
        char kp[512], ip[512];
        json_t *pass = NULL, *set;
        int r = jx_object(x, v, path, keys);
        if (r < 0 || (r = jx_array(x, v, path, "pass", false, &pass)) < 0)
                return r;
        if (pass) {
                const char *pp = jx_path(kp, sizeof kp, path, "pass");
                size_t n = json_array_size(pass);
                p->env_pass = calloc(n ? n : 1, sizeof *p->env_pass);
                if (!p->env_pass)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        json_t *e = json_array_get(pass, i);
                        if (!json_is_string(e) || !env_name_valid(json_string_value(e)))
                                return jx_fail(x, jx_index(ip, sizeof ip, pp, i),
                                               "expected an environment variable name");
                        if ((r = jx_strdup(x, pp, json_string_value(e), &p->env_pass[i])) < 0)
                                return r;
                        p->n_env_pass = i + 1;
                }
        }
        set = json_object_get(v, "set");
        if (set) {
                const char *sp = jx_path(kp, sizeof kp, path, "set"), *k;
                json_t *val;
                if (!json_is_object(set))
                        return jx_fail(x, sp, "expected an object of NAME: value");
                p->env_set = calloc(json_object_size(set) + 1, sizeof *p->env_set);
                if (!p->env_set)
                        return -ENOMEM;
                json_object_foreach(set, k, val) {
                        if (!env_name_valid(k))
                                return jx_fail(x, jx_path(ip, sizeof ip, sp, k),
                                               "not a valid environment variable name");
                        if (!json_is_string(val) || strlen(json_string_value(val)) != json_string_length(val))
                                return jx_fail(x, jx_path(ip, sizeof ip, sp, k), "expected a string");
                        struct env_set *es = &p->env_set[p->n_env_set++];
                        if ((r = jx_strdup(x, sp, k, &es->name)) < 0 ||
                            (r = jx_strdup(x, sp, json_string_value(val), &es->value)) < 0)
                                return r;
                }
        }
        return 0;
}

/* "workdir": {"path": "/work", "sources": ["/srv/work"]} */
static int parse_workdir(struct jx *x, json_t *v, const char *path, struct policy *p) {
        static const char *const keys[] = { "path", "sources", NULL };
        struct policy_workdir *w = &p->workdir;
        char kp[512], ip[512];
        const char *wp;
        json_t *src = NULL;
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0 || (r = jx_string(x, v, path, "path", true, &wp)) < 0 ||
            (r = jx_array(x, v, path, "sources", false, &src)) < 0)
                return r;
        if (!policy_path_valid(wp) || strcmp(wp, "/") == 0)
                return jx_fail(x, jx_path(kp, sizeof kp, path, "path"),
                               "must be an absolute normalised path inside the sandbox, not \"/\"");
        if ((r = jx_strdup(x, path, wp, &w->path)) < 0)
                return r;
        jx_path(kp, sizeof kp, path, "sources");
        if (src && json_array_size(src) > POLICY_MAX_WORKDIR_SOURCES)
                return jx_fail(x, kp, "too many entries (more than %d)", POLICY_MAX_WORKDIR_SOURCES);
        for (size_t i = 0; src && i < json_array_size(src); i++) {
                json_t *e = json_array_get(src, i);
                jx_index(ip, sizeof ip, kp, i);
                if (!json_is_string(e) || !policy_path_valid(json_string_value(e)))
                        return jx_fail(x, ip, "expected an absolute normalised host path");
                if ((r = jx_strdup(x, ip, json_string_value(e), &w->sources[i])) < 0)
                        return r;
                w->n_sources = i + 1;
        }
        return 0;
}

/* A mount that opts out of its implied Landlock access ("landlock": false)
 * must still be reachable through an explicit rule: a bind nobody can
 * open is a mistake, said at launch rather than as EACCES in the task. */
static int check_landlock_optouts(struct jx *x, const struct policy *p) {
        char ip[512], mp[512];
        if (!p->landlock.fs)
                return 0;
        for (size_t i = 0; i < p->n_mounts; i++) {
                const struct mount_entry *m = &p->mounts[i];
                bool covered = false;
                if (!m->no_landlock)
                        continue;
                for (size_t k = 0; k < p->landlock.n_fs_rules && !covered; k++)
                        covered = policy_path_under(m->dst, p->landlock.fs_rules[k].path);
                if (!covered)
                        return jx_fail(x, jx_path(mp, sizeof mp, jx_index(ip, sizeof ip, "$.mounts", i), "landlock"),
                                       "false, and no $.landlock.fs rule grants anything at %s: the mount would be "
                                       "denied to the task (add a rule for it, or drop \"landlock\": false)",
                                       m->dst);
        }
        return 0;
}

typedef int (*section_fn)(struct jx *, json_t *, const char *, struct policy *);
#define SECTION(fn, member) \
        static int sec_##fn(struct jx *x, json_t *v, const char *path, struct policy *p) { \
                return fn(x, v, path, &p->member); \
        }
SECTION(pol_credentials_parse, credentials)
SECTION(pol_audit_parse, audit)
/* After "capabilities" (see the table): Docker/Podman rules filter on them. */
static int sec_pol_seccomp_parse(struct jx *x, json_t *v, const char *path, struct policy *p) {
        return pol_seccomp_parse(x, v, path, p->caps.keep, &p->seccomp);
}
SECTION(pol_landlock_parse, landlock)
SECTION(pol_caps_parse, caps)
SECTION(pol_limits_parse, limits)
SECTION(pol_network_parse, network)
SECTION(pol_ids_parse, tenant_ids)

static const struct {
        const char *key;
        section_fn fn;
} sections[] = {
        { "namespaces", parse_namespaces },
        { "env", parse_env },
        { "credentials", sec_pol_credentials_parse },
        { "audit", sec_pol_audit_parse },
        { "capabilities", sec_pol_caps_parse },
        { "seccomp", sec_pol_seccomp_parse },
        { "landlock", sec_pol_landlock_parse },
        { "limits", sec_pol_limits_parse },
        { "network", sec_pol_network_parse },
        { "tenant_ids", sec_pol_ids_parse },
        { "workdir", parse_workdir },
};

static int parse_doc(struct jx *x, json_t *root, struct policy *p) {
        static const char *const keys[] = {
                "version", "tenant",        "namespaces",        "hostname",
                "uid",     "gid",           "host_uid",          "host_gid",
                "mounts",  "root_readonly", "allow_extra_binds", "allow_tty",
                "chdir",   "env",           "credentials",       "audit",
                "seccomp", "landlock",      "capabilities",      "limits",
                "network", "tenant_ids",    "description",       "workdir",
                NULL,
        };
        const char *tenant = NULL, *hostname = "sandbox", *chdir_ = NULL, *desc;
        long long version, uid = 1000, gid = 1000, huid = 65534, hgid = 65534;
        json_t *mounts = NULL;
        int r;

        if ((r = jx_object(x, root, "$", keys)) < 0 ||
            (r = jx_int(x, root, "$", "version", true, 1, 1000, &version)) < 0)
                return r;
        if (version != POLICY_VERSION)
                return jx_fail(x, "$.version", "unsupported policy version %lld (this sealrun reads version %d)",
                               version, POLICY_VERSION);
        p->version = (int)version;
        if ((r = jx_string(x, root, "$", "description", false, &desc)) < 0 ||
            (r = jx_string(x, root, "$", "tenant", false, &tenant)) < 0 ||
            (r = jx_string(x, root, "$", "hostname", false, &hostname)) < 0 ||
            (r = jx_string(x, root, "$", "chdir", false, &chdir_)) < 0 ||
            (r = jx_int(x, root, "$", "uid", false, 0, 65533, &uid)) < 0 ||
            (r = jx_int(x, root, "$", "gid", false, 0, 65533, &gid)) < 0 ||
            (r = jx_int(x, root, "$", "host_uid", false, 1, 0xfffffffeLL, &huid)) < 0 ||
            (r = jx_int(x, root, "$", "host_gid", false, 1, 0xfffffffeLL, &hgid)) < 0 ||
            (r = jx_bool(x, root, "$", "root_readonly", false, &p->root_readonly)) < 0 ||
            (r = jx_bool(x, root, "$", "allow_extra_binds", false, &p->allow_extra_binds)) < 0 ||
            (r = jx_bool(x, root, "$", "allow_tty", false, &p->allow_tty)) < 0 ||
            (r = jx_array(x, root, "$", "mounts", true, &mounts)) < 0)
                return r;
        if (tenant && !slug_valid(tenant))
                return jx_fail(x, "$.tenant", "not a valid tenant slug (^[a-z0-9][a-z0-9_-]{1,62}$)");
        if (!*hostname || strlen(hostname) > 64 || strchr(hostname, '/'))
                return jx_fail(x, "$.hostname", "must be 1 to 64 characters without '/'");
        if (chdir_ && !policy_path_valid(chdir_))
                return jx_fail(x, "$.chdir", "must be an absolute normalised path");
        p->uid = (uid_t)uid;
        p->gid = (gid_t)gid;
        p->host_uid = (uid_t)huid;
        p->host_gid = (gid_t)hgid;
        if ((tenant && (r = jx_strdup(x, "$.tenant", tenant, &p->tenant)) < 0) ||
            (r = jx_strdup(x, "$.hostname", hostname, &p->hostname)) < 0 ||
            (chdir_ && (r = jx_strdup(x, "$.chdir", chdir_, &p->chdir)) < 0))
                return r;
        if ((r = parse_mounts(x, mounts, "$.mounts", p)) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                json_t *v = json_object_get(root, sections[i].key);
                char sp[512];
                if (!v)
                        continue;
                if ((r = sections[i].fn(x, v, jx_path(sp, sizeof sp, "$", sections[i].key), p)) < 0)
                        return r;
        }
        if ((r = check_landlock_optouts(x, p)) < 0)
                return r;
        /* Keep network isolation in one place: a shared network namespace is
         * asked for with network.mode "host", and namespaces.net must agree. */
        if (!p->ns_net && p->network.mode != NET_HOST)
                return jx_fail(x, "$.namespaces.net", "false requires \"network\": {\"mode\": \"host\"}");
        if (p->ns_net && p->network.mode == NET_HOST)
                return jx_fail(x, "$.network.mode", "\"host\" requires \"namespaces\": {\"net\": false}");
        /* Untenanted root tasks run as host_uid: it must never be an id a
         * tenant's block could hold. */
        {
                uint32_t first, last;
                pol_ids_range(&p->tenant_ids, &first, &last);
                if (p->host_uid >= first && p->host_uid <= last)
                        return jx_fail(x, "$.host_uid", "inside the tenant id range %u..%u", first, last);
                if (p->host_gid >= first && p->host_gid <= last)
                        return jx_fail(x, "$.host_gid", "inside the tenant id range %u..%u", first, last);
        }
        return 0;
}

static void policy_defaults(struct policy *p) {
        p->ns_net = p->ns_ipc = p->ns_uts = p->ns_cgroup = true;
        p->root_readonly = true;
        p->limits.kill_grace_ms = 2000;
}

int policy_from_json(const char *name, json_t *root, struct policy **ret, struct sr_error *e) {
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_LAUNCHER };
        struct policy *p = calloc(1, sizeof *p);
        int r;
        if (!p)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
        policy_defaults(p);
        p->file = strdup(name);
        r = parse_doc(&x, root, p);
        if (r == 0 && !p->file)
                r = sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
        if (r < 0) {
                if (r == -ENOMEM && e && !e->msg[0])
                        sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
                policy_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int policy_parse(const char *name, const char *buf, size_t len, struct policy **ret, struct sr_error *e) {
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_LAUNCHER };
        json_t *root = NULL;
        int r = jx_load(&x, buf, len, &root);
        if (r < 0) {
                if (r == -ENOMEM && e && !e->msg[0])
                        sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
                return r;
        }
        r = policy_from_json(name, root, ret, e);
        json_decref(root);
        return r;
}

/* Every policy's bytes enter through here, from a path or from an fd the
 * caller handed over: the check of who may have written them (owner, mode)
 * belongs here, once, for both. A pipe or socket (--policy -, /dev/fd/N)
 * carries bytes from a process the caller started itself: there is no file
 * whose owner could tell more than the caller's own choice of input. */
int policy_read_fd(int fd, const char *name, bool path_source, char **ret_buf, size_t *ret_len, struct stat *ret_st,
                   struct sr_error *e) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len;
        int r;

        if (fstat(fd, &st) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "policy", "%s: cannot read policy: %s", name,
                               strerror(errno));
        if (path_source ? !S_ISREG(st.st_mode) : !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "policy", "%s: policy is not a regular file%s", name,
                               path_source ? "" : ", pipe or socket");
        /* As root the policy decides what root opens and binds: nobody but root
         * may have written it. (Unprivileged, it cannot grant more than the
         * caller holds.) A symlink is followed; the file it reaches is checked,
         * and so is a regular file handed over as /dev/fd/N. */
        if (S_ISREG(st.st_mode) && sr_host_root() &&
            (r = trusted_file_check(fd, name, "policy", "policy-permissions", 0, e)) < 0)
                return r;
        r = read_fd_all(fd, POLICY_MAX_BYTES, &buf, &len);
        if (r == -EFBIG)
                return sr_fail(e, SR_EXIT_LAUNCHER, EFBIG, "policy", "%s: policy larger than %u bytes", name,
                               POLICY_MAX_BYTES);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "policy", "%s: cannot read policy: %s", name, strerror(-r));
        *ret_buf = TAKE_PTR(buf);
        *ret_len = len;
        if (ret_st)
                *ret_st = st;
        return 0;
}

int policy_read_file(const char *path, char **ret_buf, size_t *ret_len, struct stat *ret_st, struct sr_error *e) {
        _cleanup_close_ int fd = -1;

        /* O_NONBLOCK: a FIFO (or a device) must be refused below, not block open() */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "policy", "%s: cannot open policy: %s", path,
                               strerror(errno));
        return policy_read_fd(fd, path, true, ret_buf, ret_len, ret_st, e);
}
