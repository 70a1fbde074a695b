/* Landlock: filesystem and network rules, ABI negotiated at run time. */
#pragma once
#include "launcher/task.h"

/* Payload, after no_new_privs and before seccomp. */
int landlock_apply(struct task *t, struct sr_error *e);
/* The kernel's Landlock ABI version, 0 when Landlock is unavailable. */
int landlock_abi(void);
/* landlock_apply as if the kernel had at most ABI `abi` (tests). */
int landlock_apply_abi(struct task *t, int abi, struct sr_error *e);
/* A domain that grants nothing: no file, no TCP bind or connect (ABI 4), no
 * signal or abstract unix socket outside it (ABI 6); for the egress proxy.
 * 0, -EOPNOTSUPP without Landlock, or -errno; *ret_abi is the kernel's ABI. */
int landlock_deny_all(int *ret_abi);
