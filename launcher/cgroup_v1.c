/* cgroup v1 (hybrid hosts): a task dir per hierarchy, limits, attach after clone, freezer kill, usage. */
#include "launcher/cgroup_impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Creation order: the first created dir is the primary one (locked, used to list processes). */
static const int order[] = { CTRL_MEMORY, CTRL_PIDS, CTRL_CPU, CTRL_CPUACCT, CTRL_FREEZER };

int cg1_probe(struct cgroup_ctx *c, char *const own[CTRL_COUNT], bool have[CTRL_COUNT]) {
        bool any = false;
        for (int k = 0; k < CTRL_COUNT; k++) {
                struct cg_dir *d = &c->v1[k];
                if (!own[k])
                        continue;
                d->path = strdup(own[k]);
                if (!d->path)
                        return -ENOMEM;
                /* cpu,cpuacct mounted together: one directory, created once. */
                for (int j = 0; j < k; j++)
                        if (c->v1[j].path && strcmp(c->v1[j].path, own[k]) == 0) {
                                d->alias = true;
                                have[k] = have[j];
                        }
                if (d->alias)
                        continue;
                d->base_fd = open(own[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (d->base_fd < 0)
                        continue;
                if (faccessat(d->base_fd, ".", W_OK, AT_EACCESS) < 0 ||
                    faccessat(d->base_fd, "cgroup.procs", W_OK, AT_EACCESS) < 0) {
                        close(d->base_fd);
                        d->base_fd = -1;
                        continue;
                }
                have[k] = true;
                any |= k == CTRL_MEMORY || k == CTRL_PIDS || k == CTRL_CPU;
        }
        return any ? 0 : -EACCES;
}

static int owner_of(struct cgroup_ctx *c, int k) {
        for (int j = 0; j < k; j++)
                if (c->v1[j].path && c->v1[k].path && strcmp(c->v1[j].path, c->v1[k].path) == 0)
                        return j;
        return k;
}

/* Directory to list the task's processes in. */
static int procs_fd(struct cgroup_ctx *c) {
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                if (c->v1[order[i]].task_fd >= 0)
                        return c->v1[order[i]].task_fd;
        return -1;
}

static int set_limit(struct cgroup_ctx *c, int k, const char *file, uint64_t val, struct sr_error *e) {
        int r = cg_writef(c->v1[k].task_fd, file, "%llu", (unsigned long long)val);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup", "cannot set %s/%s/%s to %llu: %s", c->v1[k].path,
                               c->v1[k].name, file, (unsigned long long)val, strerror(-r));
        return 0;
}

/* v1 has no memory.swap.max: memsw bounds memory+swap and swappiness 0 keeps
 * the cgroup's own reclaim from swapping; global reclaim can still swap. */
static int set_swap(struct cgroup_ctx *c, struct task *t, struct sr_error *e) {
        const struct policy_limits *l = &t->pol->limits;
        int m = c->v1[CTRL_MEMORY].task_fd, r;
        bool memsw = faccessat(m, "memory.memsw.limit_in_bytes", F_OK, 0) == 0;
        bool bounded = memsw && c->enforce[LIM_MEMORY];
        if (l->swap == 0)
                (void)cg_write(m, "memory.swappiness", "0");
        if (bounded && l->swap != LIM_UNLIMITED) {
                uint64_t sum = l->memory + l->swap < l->memory ? LIM_UNLIMITED : l->memory + l->swap;
                if ((r = set_limit(c, CTRL_MEMORY, "memory.memsw.limit_in_bytes", sum, e)) < 0)
                        return r;
        }
        if (bounded || l->swap == LIM_UNLIMITED || !cg_host_has_swap())
                return 0;
        if (l->set[LIM_SWAP] && !l->optional[LIM_SWAP])
                return sr_fail(e, SR_EXIT_REFUSED, ENOTSUP, "cgroup-controller",
                               "%s: limits.swap: on cgroup v1 a swap limit needs limits.memory and swap accounting "
                               "(memory.memsw.*); list it in limits.optional",
                               t->pol->file);
        cg_note_not_enforced(&t->status, pol_limits_cg_name(LIM_SWAP));
        return 0;
}

int cg1_create(struct cgroup_ctx *c, struct task *t, struct sr_error *e) {
        const struct policy_limits *l = &t->pol->limits;
        int r;
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                int k = order[i];
                struct cg_dir *d = &c->v1[k];
                if (!c->have[k] || d->alias)
                        continue;
                if ((r = cg_dir_create(d, c->name, e)) < 0)
                        return r;
        }
        for (int k = 0; k < CTRL_COUNT; k++)
                if (c->v1[k].alias && c->have[k] && c->v1[owner_of(c, k)].task_fd >= 0) {
                        c->v1[k].task_fd = fcntl(c->v1[owner_of(c, k)].task_fd, F_DUPFD_CLOEXEC, 3);
                        memcpy(c->v1[k].name, c->v1[owner_of(c, k)].name, sizeof c->v1[k].name);
                }
        /* memory before memsw: the kernel keeps memory <= memsw at every step */
        if (c->enforce[LIM_MEMORY] && (r = set_limit(c, CTRL_MEMORY, "memory.limit_in_bytes", l->memory, e)) < 0)
                return r;
        if (c->enforce[LIM_SWAP] && (r = set_swap(c, t, e)) < 0)
                return r;
        if (c->enforce[LIM_PIDS] && (r = set_limit(c, CTRL_PIDS, "pids.max", l->pids, e)) < 0)
                return r;
        if (c->enforce[LIM_CPU]) {
                if ((r = set_limit(c, CTRL_CPU, "cpu.cfs_period_us", 100000, e)) < 0 ||
                    (r = set_limit(c, CTRL_CPU, "cpu.cfs_quota_us", (uint64_t)l->cpu_milli * 100, e)) < 0)
                        return r;
        }
        return 0;
}

int cg1_attach(struct cgroup_ctx *c, pid_t pid, struct sr_error *e) {
        for (int k = 0; k < CTRL_COUNT; k++) {
                struct cg_dir *d = &c->v1[k];
                int r;
                if (d->task_fd < 0 || d->alias)
                        continue;
                r = cg_writef(d->task_fd, "cgroup.procs", "%d", (int)pid);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup",
                                       "cannot move the sandbox (pid %d) into %s/%s: %s", (int)pid, d->path, d->name,
                                       strerror(-r));
        }
        return 0;
}

void cg1_kill(struct cgroup_ctx *c) {
        int fz = c->v1[CTRL_FREEZER].task_fd, fd = procs_fd(c);
        if (fd < 0)
                return;
        /* Frozen processes can neither fork nor exit, so one pass over
         * cgroup.procs catches a fork bomb and no pid is reused meanwhile;
         * the SIGKILLs land when thawed. */
        if (fz >= 0 && cg_write(fz, "freezer.state", "FROZEN") == 0) {
                for (int i = 0; i < 200; i++) {
                        _cleanup_free_ char *st = NULL;
                        if (cg_read(fz, "freezer.state", &st) == 0 && strncmp(st, "FROZEN", 6) == 0)
                                break;
                        cg_sleep_ms(2);
                }
                cg_kill_procs(fz);
                (void)cg_write(fz, "freezer.state", "THAWED");
        }
        for (int i = 0; i < 3 && cg_kill_procs(fd) > 0; i++)
                cg_sleep_ms(2);
}

/* 0 once empty, -ETIMEDOUT, or -errno when the cgroup cannot be read. */
static int drain(struct cgroup_ctx *c) {
        int fd = procs_fd(c);
        int64_t deadline = now_ms() + CG_DRAIN_MS, last_kill = now_ms();
        for (;;) {
                _cleanup_free_ char *procs = NULL;
                int r = cg_read(fd, "cgroup.procs", &procs);
                if (r < 0)
                        return r;
                if (!procs[0])
                        return 0;
                if (now_ms() > deadline)
                        return -ETIMEDOUT;
                if (now_ms() - last_kill > 200) {
                        cg1_kill(c);
                        last_kill = now_ms();
                }
                cg_sleep_ms(5);
        }
}

void cg1_release(struct cgroup_ctx *c, struct status *s) {
        int m = c->v1[CTRL_MEMORY].task_fd, a = c->v1[CTRL_CPUACCT].task_fd, p = c->v1[CTRL_PIDS].task_fd;
        int64_t v;
        int r;
        if (procs_fd(c) < 0)
                return;
        cg1_kill(c);
        if ((r = drain(c)) < 0)
                sr_warn("warning: v1 cgroups %s: not confirmed empty: %s", c->name, strerror(-r));
        if (m >= 0) {
                if (cg_read_keyed(m, "memory.oom_control", "oom_kill") > 0)
                        s->oom_killed = true;
                if ((v = cg_read_u64(m, "memory.max_usage_in_bytes")) >= 0)
                        s->memory_peak_kb = v / 1024;
        }
        if (p >= 0 && (v = cg_read_u64(p, "pids.peak")) >= 0)
                s->pids_peak = v;
        if (a >= 0) {
                if ((v = cg_read_u64(a, "cpuacct.usage_user")) >= 0)
                        s->cpu_user_ms = v / 1000000;
                if ((v = cg_read_u64(a, "cpuacct.usage_sys")) >= 0)
                        s->cpu_sys_ms = v / 1000000;
        }
        for (int i = (int)ELEMENTSOF(order) - 1; i >= 0; i--) {
                struct cg_dir *d = &c->v1[order[i]];
                if (d->task_fd < 0)
                        continue;
                if (d->alias) {
                        close(d->task_fd);
                        d->task_fd = -1;
                } else if ((r = cg_dir_remove(d)) < 0)
                        sr_warn("warning: cannot remove cgroup %s/%s: %s", d->path, d->name, strerror(-r));
        }
}
