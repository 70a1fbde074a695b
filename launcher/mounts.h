/* The mount plan: a fresh tmpfs root, the policy's entries in order, pivot_root. */
#pragma once
#include "launcher/task.h"

/* Child, after the id switch: open every bind source (openat2, no symlinks)
 * with the sandbox's host ids and clone it as a detached mount, so it is
 * bound by fd later and never resolved by path again. EACCES/EPERM: 77
 * "bind-source-denied". */
int mounts_open_sources(struct task *t, struct sr_error *e);
/* Child: build the new root at a private base and apply the plan. */
int mounts_apply(struct task *t, struct sr_error *e);
/* Child: pivot_root into the new root and detach the old one. */
int mounts_pivot(struct task *t, struct sr_error *e);
/* Child: make the root tmpfs read-only (policy root_readonly). */
int mounts_seal_root(struct task *t, struct sr_error *e);
/* Directory inside the sandbox that must exist as a mountpoint before the
 * root is sealed (credentials); NULL when none. Set by the supervisor. */
void mounts_add_mountpoint(struct task *t, const char *path);
/* Supervisor, before the clone: make the idmapped binds (mounts_idmap.c);
 * 77 "idmap-unsupported" / "idmap-owner", or "idmap" in not_enforced. */
int mounts_prepare_idmaps(struct task *t, struct sr_error *e);
/* Take a finished detached tree for plan entry i (the child attaches it). */
int mounts_adopt_tree(struct task *t, size_t i, int tree);
/* Supervisor: free the plan state. */
void mounts_release(struct task *t);
