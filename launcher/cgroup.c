/* Cgroups: find our own cgroup (v2, delegated v2, v1), pick a mode, plan the limits, and the supervisor hooks. */
#include "launcher/cgroup_impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const ctrl_names[CTRL_COUNT] = {
        [CTRL_MEMORY] = "memory",   [CTRL_PIDS] = "pids",       [CTRL_CPU] = "cpu",
        [CTRL_CPUACCT] = "cpuacct", [CTRL_FREEZER] = "freezer",
};

const int cg_lim_ctrl[LIM_COUNT] = {
        [LIM_MEMORY] = CTRL_MEMORY,
        [LIM_SWAP] = CTRL_MEMORY,
        [LIM_PIDS] = CTRL_PIDS,
        [LIM_CPU] = CTRL_CPU,
};

/* ---- layout: /proc/self/cgroup + /proc/self/mountinfo ---- */

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape(char *s) {
        char *w = s;
        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = 0;
}

bool cg_has_word(const char *list, const char *word, char sep) {
        size_t n = strlen(word);
        for (const char *p = list; p && *p; p++) {
                if ((p == list || p[-1] == sep || p[-1] == '\n') && strncmp(p, word, n) == 0 &&
                    (p[n] == sep || p[n] == '\n' || p[n] == 0))
                        return true;
        }
        return false;
}

static bool list_has(const char *list, const char *word) {
        return cg_has_word(list, word, ',');
}

/* Directory of `cgpath` in a hierarchy mounted at `mnt` whose mount shows `root`. */
static char *join(const char *mnt, const char *root, const char *cgpath) {
        size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
        char *out;
        if (strncmp(cgpath, root, rl) != 0 || (cgpath[rl] != '/' && cgpath[rl] != 0))
                return NULL; /* our cgroup is not visible through this mount */
        cgpath += rl;
        if (strstr(cgpath, "/..") || strchr(cgpath, '\n'))
                return NULL; /* outside our cgroup namespace */
        if (asprintf(&out, "%s%s", mnt, strcmp(cgpath, "/") == 0 ? "" : cgpath) < 0)
                return NULL;
        return out;
}

struct mnt {
        char root[4096], point[4096], type[32], super[512];
};

static bool mnt_parse(char *line, struct mnt *m) {
        char *f[6], *dash, *save = NULL;
        int i = 0;
        dash = strstr(line, " - ");
        if (!dash)
                return false;
        *dash = 0;
        for (char *tok = strtok_r(line, " ", &save); tok && i < 6; tok = strtok_r(NULL, " ", &save))
                f[i++] = tok;
        if (i < 5)
                return false;
        if (sscanf(dash + 3, "%31s %*s %511s", m->type, m->super) != 2)
                return false;
        snprintf(m->root, sizeof m->root, "%s", f[3]);
        snprintf(m->point, sizeof m->point, "%s", f[4]);
        unescape(m->root);
        unescape(m->point);
        return true;
}

int cg_layout_parse(const char *self_cgroup, const char *mountinfo, struct cg_layout *ret) {
        _cleanup_free_ char *self = strdup(self_cgroup), *mi = strdup(mountinfo);
        char *v2path = NULL, *v1path[CTRL_COUNT] = { 0 }, *save = NULL;
        memset(ret, 0, sizeof *ret);
        if (!self || !mi)
                return -ENOMEM;
        /* "ID:controllers:path"; v2 is "0::path" */
        for (char *l = strtok_r(self, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = 0;
                if (strcmp(l, "0:") == 0 && c1 == l + 1)
                        v2path = c2 + 1;
                else
                        for (int k = 0; k < CTRL_COUNT; k++)
                                if (list_has(c1 + 1, ctrl_names[k]))
                                        v1path[k] = c2 + 1;
        }
        save = NULL;
        for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                struct mnt m;
                if (!mnt_parse(l, &m))
                        continue;
                if (strcmp(m.type, "cgroup2") == 0 && v2path && !ret->v2)
                        ret->v2 = join(m.point, m.root, v2path);
                else if (strcmp(m.type, "cgroup") == 0)
                        for (int k = 0; k < CTRL_COUNT; k++)
                                if (v1path[k] && !ret->v1[k] && list_has(m.super, ctrl_names[k]))
                                        ret->v1[k] = join(m.point, m.root, v1path[k]);
        }
        return 0;
}

void cg_layout_free(struct cg_layout *l) {
        free(l->v2);
        for (int k = 0; k < CTRL_COUNT; k++)
                free(l->v1[k]);
        memset(l, 0, sizeof *l);
}

static int layout_detect(struct cg_layout *ret) {
        _cleanup_free_ char *self = NULL, *mi = NULL;
        _cleanup_close_ int f1 = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int f2 = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        int r;
        if (f1 < 0 || f2 < 0)
                return -errno;
        if ((r = read_fd_all(f1, 1 << 20, &self, NULL)) < 0 || (r = read_fd_all(f2, 8 << 20, &mi, NULL)) < 0)
                return r;
        return cg_layout_parse(self, mi, ret);
}

/* ---- names and small formats ---- */

int cg_task_name(const struct task *t, char *buf, size_t size) {
        /* a pre-built sandbox's cgroup is made before any task: named by pid */
        const char *id = t->cfg.task ? t->cfg.task : t->prepared ? NULL : t->status.task;
        int n;
        if (id && task_id_valid(id))
                n = snprintf(buf, size, "task-%s", id);
        else
                n = snprintf(buf, size, "task-pid%d", (int)getpid());
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void cg_cpu_max(uint32_t cpu_milli, char *buf, size_t size) {
        /* period 100 ms: quota = fraction × period (1 core = 100000 µs) */
        snprintf(buf, size, "%llu 100000", (unsigned long long)cpu_milli * 100ULL);
}

/* ---- plan: which limits are enforced, skipped or refused ---- */

void cg_note_not_enforced(struct status *s, const char *name) {
        for (size_t i = 0; i < s->n_not_enforced; i++)
                if (strcmp(s->not_enforced[i], name) == 0)
                        return;
        if (s->n_not_enforced < ELEMENTSOF(s->not_enforced))
                s->not_enforced[s->n_not_enforced++] = name;
}

static int plan_limits(struct task *t, struct cgroup_ctx *c, const char *where, struct sr_error *e) {
        const struct policy_limits *l = &t->pol->limits;
        char missing[160] = "";
        int ctrl_missing = -1;
        for (int k = 0; k < LIM_COUNT; k++) {
                bool avail = c->mode != CG_NONE && c->have[cg_lim_ctrl[k]];
                if (!l->set[k] && k != LIM_SWAP)
                        continue;
                if (avail) {
                        c->enforce[k] = true;
                        continue;
                }
                if (l->set[k] && !l->optional[k]) {
                        size_t n = strlen(missing);
                        snprintf(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", pol_limits_cg_name(k));
                        ctrl_missing = cg_lim_ctrl[k];
                        continue;
                }
                /* Optional, or the implicit swap 0: skipped, and said so when it matters. */
                if (l->set[k] || (k == LIM_SWAP && cg_host_has_swap()))
                        cg_note_not_enforced(&t->status, pol_limits_cg_name(k));
        }
        if (!missing[0])
                return 0;
        if (c->mode == CG_NONE)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "no-cgroup",
                               "%s: %s: uid %u has no writable cgroup (no cgroup v2 subtree delegated, v1 hierarchies "
                               "not writable); "
                               "run sealrun inside a delegated cgroup, e.g. `systemd-run --user --scope -p "
                               "Delegate=yes sealrun ...`, "
                               "or list the limit in limits.optional",
                               t->pol->file, missing, (unsigned)geteuid());
        return sr_fail(
                e, SR_EXIT_REFUSED, EPERM, "cgroup-controller",
                "%s: %s: the %s controller is not available in cgroup %s (not delegated or not enabled by its parent); "
                "run sealrun in a cgroup delegated with that controller (`systemd-run --user --scope -p "
                "Delegate=yes`), "
                "or list the limit in limits.optional",
                t->pol->file, missing, ctrl_names[ctrl_missing], where);
}

/* ---- hooks ---- */

static void ctx_free(struct cgroup_ctx *c) {
        struct cg_dir *dirs[CTRL_COUNT + 1] = { &c->v2 };
        for (int k = 0; k < CTRL_COUNT; k++)
                dirs[k + 1] = &c->v1[k];
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (dirs[i]->base_fd >= 0)
                        close(dirs[i]->base_fd);
                if (dirs[i]->task_fd >= 0)
                        close(dirs[i]->task_fd);
                free(dirs[i]->path);
        }
        free(c);
}

static struct cgroup_ctx *ctx_new(void) {
        struct cgroup_ctx *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->v2.base_fd = c->v2.task_fd = -1;
        for (int k = 0; k < CTRL_COUNT; k++)
                c->v1[k].base_fd = c->v1[k].task_fd = -1;
        return c;
}

static const char *mode_name(enum cg_mode m) {
        return m == CG_V2 ? "v2" : m == CG_V1 ? "v1" : "none";
}

static void discard(struct task *t) {
        struct status scratch;
        struct cgroup_ctx *c = t->cgroup;
        if (!c)
                return;
        status_init(&scratch);
        if (c->mode == CG_V2)
                cg2_release(c, &scratch);
        else if (c->mode == CG_V1)
                cg1_release(c, &scratch);
        ctx_free(c);
        t->cgroup = NULL;
}

static int prepare(struct task *t, const struct cg_layout *l, struct sr_error *e) {
        struct cgroup_ctx *c = ctx_new();
        bool v2_have[CTRL_COUNT] = { 0 }, v1_have[CTRL_COUNT] = { 0 };
        bool v2_ok, v1_ok;
        int r;
        if (!c)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "cgroup: out of memory");
        t->cgroup = c;
        if ((r = cg_task_name(t, c->name, sizeof c->name)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup", "cgroup name for the task id is too long");
        /* Prefer the hierarchy that has the memory controller: cgroup2 on a
         * pure or delegated host, v1 on a hybrid one (like this project's CI
         * hosts); a cgroup2 subtree without memory still gives kill and usage. */
        v2_ok = l->v2 && cg2_probe(c, l->v2, v2_have) == 0;
        v1_ok = cg1_probe(c, l->v1, v1_have) == 0;
        if ((v2_ok && v2_have[CTRL_MEMORY]) || (v2_ok && !v1_ok))
                c->mode = CG_V2;
        else if (v1_ok)
                c->mode = CG_V1;
        memcpy(c->have, c->mode == CG_V2 ? v2_have : v1_have, sizeof c->have);
        r = plan_limits(t, c, c->mode == CG_V2 ? c->v2.path : "the v1 hierarchies", e);
        if (r < 0)
                return r;
        /* Task dirs of supervisors that were SIGKILLed are removed by the next one. */
        if (c->mode == CG_V2)
                cg_gc(&c->v2);
        for (int k = 0; c->mode == CG_V1 && k < CTRL_COUNT; k++)
                if (c->have[k] && !c->v1[k].alias && c->v1[k].base_fd >= 0)
                        cg_gc(&c->v1[k]);
        if (c->mode == CG_V2)
                r = cg2_create(c, t, e);
        else if (c->mode == CG_V1)
                r = cg1_create(c, t, e);
        if (r < 0)
                return r;
        t->status.cgroup = mode_name(c->mode);
        return 0;
}

int cgroup_prepare_layout(struct task *t, const struct cg_layout *l, struct sr_error *e) {
        int r = prepare(t, l, e);
        if (r < 0)
                discard(t); /* nothing half-made stays behind */
        return r;
}

int cgroup_prepare(struct task *t, struct sr_error *e) {
        struct cg_layout l;
        int r = layout_detect(&l);
        if (r < 0) {
                /* No /proc/self/cgroup: a kernel without cgroups. */
                memset(&l, 0, sizeof l);
        }
        r = cgroup_prepare_layout(t, &l, e);
        cg_layout_free(&l);
        return r;
}

enum cg_mode cgroup_mode(const struct task *t) {
        return t->cgroup ? t->cgroup->mode : CG_NONE;
}

int cgroup_clone_fd(struct task *t) {
        struct cgroup_ctx *c = t->cgroup;
        return c && c->mode == CG_V2 ? c->v2.task_fd : -1;
}

void cgroup_cloned_outside(struct task *t) {
        if (t->cgroup && t->cgroup->mode == CG_V2)
                t->cgroup->v2_attach = true;
}

int cgroup_attach(struct task *t, struct sr_error *e) {
        struct cgroup_ctx *c = t->cgroup;
        int r;
        if (c && c->mode == CG_V2 && c->v2_attach) {
                /* clone(2) fallback: the child waits for "go", so it runs
                 * nothing of the task before it is inside. */
                r = cg_writef(c->v2.task_fd, "cgroup.procs", "%d", (int)t->pid);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup",
                                       "cannot move the sandbox (pid %d) into %s/%s: %s", (int)t->pid, c->v2.path,
                                       c->v2.name, strerror(-r));
                return 0;
        }
        if (!c || c->mode != CG_V1)
                return 0; /* v2: clone3 already started the child inside */
        return cg1_attach(c, t->pid, e);
}

void cgroup_kill(struct task *t) {
        struct cgroup_ctx *c = t->cgroup;
        if (!c)
                return;
        if (c->mode == CG_V2)
                cg2_kill(c);
        else if (c->mode == CG_V1)
                cg1_kill(c);
}

void cgroup_release(struct task *t) {
        struct cgroup_ctx *c = t->cgroup;
        if (!c)
                return;
        if (c->mode == CG_V2)
                cg2_release(c, &t->status);
        else if (c->mode == CG_V1)
                cg1_release(c, &t->status);
        ctx_free(c);
        t->cgroup = NULL;
}
