/* /proc and /sys hardening: mask and read-only remounts inside the new root. */
#pragma once
#include "launcher/task.h"

/* Sandbox init, after pivot_root: harden below "/". */
int procmask_apply(struct task *t, struct sr_error *e);
/* The same below any root directory fd (tests); returns the number of masks. */
int procmask_apply_at(int root, const struct policy *p, struct sr_error *e);
