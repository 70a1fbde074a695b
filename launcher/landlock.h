/* Landlock: filesystem and network rules, ABI negotiated at run time. */
#pragma once
#include "launcher/task.h"

/* Payload, after no_new_privs and before seccomp. */
int landlock_apply(struct task *t, struct sr_error *e);
/* The kernel's Landlock ABI version, 0 when Landlock is unavailable. */
int landlock_abi(void);
/* landlock_apply as if the kernel had at most ABI `abi` (tests). */
int landlock_apply_abi(struct task *t, int abi, struct sr_error *e);
