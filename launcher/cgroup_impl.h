/* Cgroup internals shared by cgroup.c (detection, plan, hooks), cgroup_v2.c and cgroup_v1.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "launcher/cgroup.h"
#include "policy/pol_limits.h"

/* A leaf the supervisor moves its cgroup's processes into (v2 no-internal-
 * processes rule); a supervisor started inside it works from its parent. */
#define CG_LEAF "sealrun-leaf"
/* How long release waits for a killed cgroup to empty. */
#define CG_DRAIN_MS 10000

struct cg_dir {
        int base_fd;    /* our own cgroup (the delegated one), -1 = unusable */
        int task_fd;    /* task-<id>, -1 = not created */
        char *path;     /* base path, for messages */
        char name[192]; /* task dir: task-<id>, or task-<id>.<pid> when a live task has that id */
        bool alias;     /* v1: same hierarchy as an earlier controller (cpu,cpuacct) */
};

struct cgroup_ctx {
        enum cg_mode mode;
        char name[160];
        struct cg_dir v2;
        struct cg_dir v1[CTRL_COUNT];
        bool have[CTRL_COUNT];   /* controller usable for this task in the chosen mode */
        bool enforce[LIM_COUNT]; /* limits to write */
        bool swap_unlimited_ok;  /* default swap on a kernel without swap accounting */
        bool v2_attach;          /* v2, but the child was not cloned into it (clone fallback) */
};

/* Small file helpers relative to a cgroup dir fd: 0 or -errno. */
int cg_write(int dirfd, const char *file, const char *text);
int cg_writef(int dirfd, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cg_read(int dirfd, const char *file, char **ret);
/* Numeric reads; -1 when the file is missing or unparsable. */
int64_t cg_read_u64(int dirfd, const char *file);
int64_t cg_read_keyed(int dirfd, const char *file, const char *key);
/* One round: SIGKILL every process listed in cgroup.procs, through pidfds
 * confirmed still listed (no pid-reuse kills). Returns how many were listed. */
int cg_kill_procs(int dirfd);
/* Create the task dir under d->base_fd and flock it for the task's life (a
 * dead supervisor's leftover of that name is removed; a live task's is not:
 * then the name gets ".<pid>"). */
int cg_dir_create(struct cg_dir *d, const char *name, struct sr_error *e);
/* Kill what is left in d's task dir, rmdir it, close it. */
int cg_dir_remove(struct cg_dir *d);
/* Kill and rmdir base_fd/name. */
int cg_reap(int base_fd, const char *name);
/* Remove task dirs of dead supervisors below d's base (unlocked and not brand new). */
void cg_gc(struct cg_dir *d);
bool cg_host_has_swap(void);
/* Is word an element of the list separated by sep (or newlines)? */
bool cg_has_word(const char *list, const char *word, char sep);
/* Controller each LIM_* limit needs. */
extern const int cg_lim_ctrl[LIM_COUNT];
/* Add a limit's name to status.not_enforced (once). */
void cg_note_not_enforced(struct status *s, const char *name);
void cg_sleep_ms(int ms);

/* cgroup2: probe our cgroup (have[] from cgroup.controllers), create and limit, kill, drain + usage. */
int cg2_probe(struct cgroup_ctx *c, const char *own, bool have[CTRL_COUNT]);
int cg2_create(struct cgroup_ctx *c, struct task *t, struct sr_error *e);
void cg2_kill(struct cgroup_ctx *c);
void cg2_release(struct cgroup_ctx *c, struct status *s);

/* cgroup v1: same per hierarchy; the child is attached after clone. */
int cg1_probe(struct cgroup_ctx *c, char *const own[CTRL_COUNT], bool have[CTRL_COUNT]);
int cg1_create(struct cgroup_ctx *c, struct task *t, struct sr_error *e);
int cg1_attach(struct cgroup_ctx *c, pid_t pid, struct sr_error *e);
void cg1_kill(struct cgroup_ctx *c);
void cg1_release(struct cgroup_ctx *c, struct status *s);
