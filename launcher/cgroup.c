/* Cgroups (placeholder until the resources issue lands: no task cgroup). */
#include "launcher/cgroup.h"

int cgroup_prepare(struct task *t, struct sr_error *e) { return 0; }
int cgroup_clone_fd(struct task *t) { return -1; }
int cgroup_attach(struct task *t, struct sr_error *e) { return 0; }
void cgroup_kill(struct task *t) { }
void cgroup_release(struct task *t) { }
