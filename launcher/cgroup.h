/* Cgroups: a task cgroup with limits (v2 or v1), usage, kill and removal. */
#pragma once
#include "launcher/task.h"

/* Supervisor, before clone: create the task cgroup (or nothing). */
int cgroup_prepare(struct task *t, struct sr_error *e);
/* fd of the v2 task cgroup for CLONE_INTO_CGROUP, or -1. */
int cgroup_clone_fd(struct task *t);
/* Supervisor, after clone and before SYNC_GO: move the child where clone3 could not. */
int cgroup_attach(struct task *t, struct sr_error *e);
/* Supervisor: kill every process of the task cgroup (timeouts, supervisor exit). */
void cgroup_kill(struct task *t);
/* Supervisor, after the sandbox exited: usage into the status, remove. */
void cgroup_release(struct task *t);
