/* Per-tenant concurrency slots: N flock-ed slot files per tenant. */
#pragma once
#include "launcher/task.h"

int slot_acquire(struct task *t, struct sr_error *e);
void slot_release(struct task *t);
