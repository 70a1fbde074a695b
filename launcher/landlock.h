/* Landlock: filesystem and network rules, ABI negotiated at run time. */
#pragma once
#include "launcher/task.h"

int landlock_apply(struct task *t, struct sr_error *e);
