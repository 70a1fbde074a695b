/* cgroup2: delegated subtree, controllers, task cgroup with limits, cgroup.kill, drain, usage. */
#include "launcher/cgroup_impl.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const v2_ctrl[CTRL_COUNT] = { [CTRL_MEMORY] = "memory", [CTRL_PIDS] = "pids", [CTRL_CPU] = "cpu" };

int cg2_probe(struct cgroup_ctx *c, const char *own, bool have[CTRL_COUNT]) {
        _cleanup_free_ char *ctrls = NULL, *base = strdup(own);
        char *slash;
        if (!base)
                return -ENOMEM;
        /* Started from the leaf a sibling supervisor made: the delegated
         * cgroup is its parent. */
        slash = strrchr(base, '/');
        if (slash && slash != base && strcmp(slash + 1, CG_LEAF) == 0)
                *slash = 0;
        c->v2.base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->v2.base_fd < 0)
                return -errno;
        c->v2.path = TAKE_PTR(base);
        /* Delegation = we may create children, move processes and enable
         * controllers here (systemd Delegate=yes chowns exactly these). */
        if (faccessat(c->v2.base_fd, ".", W_OK, AT_EACCESS) < 0 ||
            faccessat(c->v2.base_fd, "cgroup.procs", W_OK, AT_EACCESS) < 0 ||
            faccessat(c->v2.base_fd, "cgroup.subtree_control", W_OK, AT_EACCESS) < 0)
                return -EACCES;
        if (cg_read(c->v2.base_fd, "cgroup.controllers", &ctrls) < 0)
                return -EACCES;
        for (char *w = strtok(ctrls, " \n"); w; w = strtok(NULL, " \n"))
                for (int k = 0; k < CTRL_COUNT; k++)
                        if (v2_ctrl[k] && strcmp(w, v2_ctrl[k]) == 0)
                                have[k] = true;
        /* cpu.stat, cgroup.kill and cgroup.freeze need no controller in v2. */
        have[CTRL_CPUACCT] = have[CTRL_FREEZER] = true;
        return 0;
}

/* No internal processes: a cgroup with controllers enabled for its children
 * holds no processes itself (the root excepted). Move everything in our
 * cgroup, the supervisor included, into the leaf. */
static int move_to_leaf(struct cgroup_ctx *c) {
        _cleanup_free_ char *procs = NULL;
        _cleanup_close_ int leaf = -1;
        int r;
        if (mkdirat(c->v2.base_fd, CG_LEAF, 0755) < 0 && errno != EEXIST)
                return -errno;
        leaf = openat(c->v2.base_fd, CG_LEAF, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (leaf < 0)
                return -errno;
        if ((r = cg_read(c->v2.base_fd, "cgroup.procs", &procs)) < 0)
                return r;
        for (char *w = strtok(procs, "\n"); w; w = strtok(NULL, "\n")) {
                r = cg_write(leaf, "cgroup.procs", w);
                if (r < 0 && r != -ESRCH)
                        return r;
        }
        return 0;
}

static int enable_controllers(struct cgroup_ctx *c, struct sr_error *e) {
        _cleanup_free_ char *on = NULL;
        if (cg_read(c->v2.base_fd, "cgroup.subtree_control", &on) < 0)
                on = strdup("");
        for (int k = 0; k <= CTRL_CPU; k++) {
                char word[16];
                int r = -EBUSY;
                if (!c->have[k] || (on && cg_has_word(on, v2_ctrl[k], ' ')))
                        continue;
                snprintf(word, sizeof word, "+%s", v2_ctrl[k]);
                /* EBUSY while processes sit in our cgroup; new ones may be
                 * forked by the worker between the move and the write. */
                for (int i = 0; i < 5 && r == -EBUSY; i++) {
                        r = cg_write(c->v2.base_fd, "cgroup.subtree_control", word);
                        if (r == -EBUSY) {
                                int m = move_to_leaf(c);
                                if (m < 0)
                                        return sr_fail(e, SR_EXIT_LAUNCHER, -m, "cgroup",
                                                       "cannot move the processes of %s into %s/%s: %s", c->v2.path,
                                                       c->v2.path, CG_LEAF, strerror(-m));
                        }
                }
                if (r < 0) {
                        bool needed = false;
                        for (int l = 0; l < LIM_COUNT; l++)
                                needed |= c->enforce[l] && cg_lim_ctrl[l] == k;
                        if (needed)
                                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup",
                                               "cannot enable the %s controller in %s: %s", v2_ctrl[k], c->v2.path,
                                               strerror(-r));
                        c->have[k] = false; /* only usage is lost */
                }
        }
        return 0;
}

static int set_limit(struct cgroup_ctx *c, const char *file, const char *val, struct sr_error *e) {
        int r = cg_write(c->v2.task_fd, file, val);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup", "cannot set %s/%s/%s to %s: %s", c->v2.path,
                               c->v2.name, file, val, strerror(-r));
        return 0;
}

int cg2_create(struct cgroup_ctx *c, struct task *t, struct sr_error *e) {
        const struct policy_limits *l = &t->pol->limits;
        char v[64];
        int r;
        if ((r = enable_controllers(c, e)) < 0 || (r = cg_dir_create(&c->v2, c->name, e)) < 0)
                return r;
        if (c->enforce[LIM_MEMORY]) {
                snprintf(v, sizeof v, "%llu", (unsigned long long)l->memory);
                if ((r = set_limit(c, "memory.max", v, e)) < 0)
                        return r;
        }
        if (c->enforce[LIM_SWAP]) {
                if (l->swap == LIM_UNLIMITED)
                        snprintf(v, sizeof v, "max");
                else
                        snprintf(v, sizeof v, "%llu", (unsigned long long)l->swap);
                r = cg_write(c->v2.task_fd, "memory.swap.max", v);
                /* No memory.swap.max: a kernel without swap support (nothing
                 * can reach swap) or booted with swap accounting off. */
                if (r == -ENOENT && cg_host_has_swap()) {
                        if (l->set[LIM_SWAP] && !l->optional[LIM_SWAP])
                                return sr_fail(e, SR_EXIT_REFUSED, ENOTSUP, "cgroup-controller",
                                               "%s: limits.swap: this kernel does not account swap in cgroups "
                                               "(no memory.swap.max) while swap is active; list it in limits.optional",
                                               t->pol->file);
                        cg_note_not_enforced(&t->status, pol_limits_cg_name(LIM_SWAP));
                } else if (r < 0 && r != -ENOENT)
                        return set_limit(c, "memory.swap.max", v, e);
        }
        if (c->have[CTRL_MEMORY])
                (void)cg_write(c->v2.task_fd, "memory.oom.group", "1"); /* an OOM takes the whole task down */
        if (c->enforce[LIM_PIDS]) {
                snprintf(v, sizeof v, "%llu", (unsigned long long)l->pids);
                if ((r = set_limit(c, "pids.max", v, e)) < 0)
                        return r;
        }
        if (c->enforce[LIM_CPU]) {
                cg_cpu_max(l->cpu_milli, v, sizeof v);
                if ((r = set_limit(c, "cpu.max", v, e)) < 0)
                        return r;
        }
        return 0;
}

void cg2_kill(struct cgroup_ctx *c) {
        if (c->v2.task_fd < 0)
                return;
        /* cgroup.kill (5.14) is atomic against forks; before it, pidfd rounds. */
        if (cg_write(c->v2.task_fd, "cgroup.kill", "1") == 0)
                return;
        for (int i = 0; i < 3 && cg_kill_procs(c->v2.task_fd) > 0; i++)
                cg_sleep_ms(2);
}

/* Wait for "populated 0" in cgroup.events (it raises POLLPRI on change). */
/* 0 once empty, -ETIMEDOUT, or -errno when the cgroup cannot be read. */
static int drain(struct cgroup_ctx *c) {
        _cleanup_close_ int fd = openat(c->v2.task_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        int64_t deadline = now_ms() + CG_DRAIN_MS, last_kill = now_ms();
        if (fd < 0)
                return -errno;
        for (;;) {
                char buf[256];
                ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                if (n < 0)
                        return -errno;
                buf[n] = 0;
                if (cg_keyed_value(buf, "populated") == 0)
                        return 0;
                if (now_ms() > deadline)
                        return -ETIMEDOUT;
                if (now_ms() - last_kill > 500) {
                        cg2_kill(c);
                        last_kill = now_ms();
                }
                (void)poll(&p, 1, 100);
        }
}

void cg2_release(struct cgroup_ctx *c, struct status *s) {
        int64_t v;
        int r;
        if (c->v2.task_fd < 0)
                return;
        cg2_kill(c);
        if ((r = drain(c)) < 0)
                sr_warn("warning: cgroup %s/%s: not confirmed empty: %s", c->v2.path, c->v2.name, strerror(-r));
        if (cg_read_keyed(c->v2.task_fd, "memory.events", "oom_kill") > 0 ||
            cg_read_keyed(c->v2.task_fd, "memory.events", "oom_group_kill") > 0)
                s->oom_killed = true;
        if ((v = cg_read_u64(c->v2.task_fd, "memory.peak")) >= 0)
                s->memory_peak_kb = v / 1024;
        if ((v = cg_read_u64(c->v2.task_fd, "pids.peak")) >= 0)
                s->pids_peak = v;
        /* The cgroup saw every process, also those sandbox init never reaped. */
        if ((v = cg_read_keyed(c->v2.task_fd, "cpu.stat", "user_usec")) >= 0)
                s->cpu_user_ms = v / 1000;
        if ((v = cg_read_keyed(c->v2.task_fd, "cpu.stat", "system_usec")) >= 0)
                s->cpu_sys_ms = v / 1000;
        r = cg_dir_remove(&c->v2);
        if (r < 0)
                sr_warn("warning: cannot remove cgroup %s/%s: %s", c->v2.path, c->v2.name, strerror(-r));
}
