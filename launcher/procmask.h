/* /proc and /sys hardening: mask and read-only remounts inside the new root. */
#pragma once
#include "launcher/task.h"

int procmask_apply(struct task *t, struct sr_error *e);
