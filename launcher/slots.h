/* Per-tenant concurrency slots: N flock-ed slot files per tenant. */
#pragma once
#include "launcher/task.h"

/* Take one of the tenant's N slots (N = --max-concurrent, capped by the
 * policy's limits.max_concurrent; no cap → nothing to take). All busy: exit
 * 75 at once, or after waiting up to --wait-slot seconds. */
int slot_acquire(struct task *t, struct sr_error *e);
void slot_release(struct task *t);

/* ---- exposed for the unit tests ---- */

/* Directory the slots live in for this caller: /run/sealrun/slots as root,
 * else $XDG_RUNTIME_DIR/sealrun/slots or /run/user/UID/sealrun/slots (when
 * the caller's own, 0700: no other user can create them), else
 * /tmp/sealrun-UID/slots. */
int slot_base_dir(char *buf, size_t size);
/* Open (creating 0700, checking owner and mode of each level) the tenant's
 * directory below `parent` + the relative components of `sub` ("sealrun/slots"). */
int slot_open_dir(const char *parent, const char *sub, const char *tenant, int *ret_fd, struct sr_error *e);
/* Try slots 0..n-1 in dirfd once: the locked fd and its index, or -EAGAIN. */
int slot_try(int dirfd, long n, int *ret_fd, long *ret_index, struct sr_error *e);
