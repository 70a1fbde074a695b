/* Network: host side (supervisor) and inside setup (child), side by side. */
#pragma once
#include "launcher/task.h"

/* Supervisor, after clone and before SYNC_GO. */
int net_setup_parent(struct task *t, struct sr_error *e);
/* Child, in the new network namespace. */
int net_setup_child(struct task *t, struct sr_error *e);
/* Supervisor, after the sandbox exited. */
void net_release(struct task *t);
