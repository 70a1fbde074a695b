/* Cgroups: a task cgroup with limits (v2 or v1), usage, kill and removal. */
#pragma once
#include "launcher/task.h"

/* Supervisor, before clone: detect the hierarchy, create the task cgroup and
 * write the policy's limits. Limits the policy asks for that cannot be
 * applied: refused with exit 77 (or, listed in limits.optional, skipped and
 * named in status.not_enforced). Sets status.cgroup. */
int cgroup_prepare(struct task *t, struct sr_error *e);
/* fd of the v2 task cgroup for CLONE_INTO_CGROUP, or -1. Owned by the module. */
int cgroup_clone_fd(struct task *t);
/* The child was made by the clone(2) fallback, outside the v2 task cgroup:
 * cgroup_attach moves it. */
void cgroup_cloned_outside(struct task *t);
/* Supervisor, after clone and before SYNC_GO: move the child where clone3 could not (v1, or the fallback). */
int cgroup_attach(struct task *t, struct sr_error *e);
/* Supervisor: kill every process of the task cgroup (timeouts, supervisor exit). */
void cgroup_kill(struct task *t);
/* Supervisor, after the sandbox exited: kill what is left, wait until the
 * cgroup is empty, usage and OOM into the status, remove the cgroup. */
void cgroup_release(struct task *t);

/* ---- exposed for the unit tests ---- */

enum cg_mode { CG_NONE, CG_V1, CG_V2 };
enum cg_ctrl { CTRL_MEMORY, CTRL_PIDS, CTRL_CPU, CTRL_CPUACCT, CTRL_FREEZER, CTRL_COUNT };

/* Where our own cgroups are: absolute directories, NULL when absent. */
struct cg_layout {
        char *v2;             /* our cgroup in the cgroup2 hierarchy */
        char *v1[CTRL_COUNT]; /* our cgroup in each v1 hierarchy */
};

/* Build the layout from the texts of /proc/self/cgroup and /proc/self/mountinfo. */
int cg_layout_parse(const char *self_cgroup, const char *mountinfo, struct cg_layout *ret);
void cg_layout_free(struct cg_layout *l);
/* Like cgroup_prepare, from a given layout (a fake tree in the tests). */
int cgroup_prepare_layout(struct task *t, const struct cg_layout *l, struct sr_error *e);
/* The mode cgroup_prepare chose (CG_NONE before/without). */
enum cg_mode cgroup_mode(const struct task *t);
/* "task-<id>" for a task, into buf. */
int cg_task_name(const struct task *t, char *buf, size_t size);
/* "quota period" for cpu.max, from thousandths of a core. */
void cg_cpu_max(uint32_t cpu_milli, char *buf, size_t size);
/* Value of "key N" in a flat keyed file (memory.events, cpu.stat, oom_control); -1 if absent. */
int64_t cg_keyed_value(const char *text, const char *key);
