/* Credentials: header checks in the supervisor, decrypt + stage in the payload, scrub in init. */
#pragma once
#include "launcher/task.h"
#include "policy/profile.h"

/* Supervisor, before any clone: read and check the profile header only,
 * open the key and the sealed body as fds for the child. No-op without --profile. */
int creds_prepare(struct task *t, struct sr_error *e);
/* Payload, before the privilege drop: decrypt, report names (SYNC_INJECT),
 * stage files and env. No-op without a profile. */
int creds_stage(struct task *t, struct sr_error *e);
/* Sandbox init, after pivot_root and before the payload runs: hold the
 * credentials directory's parent, so the scrub finds the mount by fd. */
int creds_hold_dir(struct task *t, struct sr_error *e);
/* Sandbox init, after every sandbox process exited: wipe and remove. */
int creds_scrub(struct task *t, struct sr_error *e);
/* Proxy mode, sandbox init before the broker's fork: the pipe over which the
 * broker hands the payload side its credentials (placeholders for bound
 * ones); *ret_wr is the broker's end, -1 without a profile. */
int creds_handoff_pipe(struct task *t, int *ret_wr);
/* The broker, after the fork: close the payload's end. */
void creds_handoff_taken(struct task *t);
/* Read the pool key, decrypt and parse into `m`, check the tenant (the
 * payload side outside proxy mode; the broker in it). */
int creds_open_plain(struct task *t, struct secmem *m, struct profile_plain *ret, struct sr_error *e);
/* Is this credential delivered to this task (scope granted, a delivery the policy allows)? */
bool creds_selected(const struct task *t, const struct profile_cred *c);
/* Supervisor: answer a SYNC_INJECT message (audit, then ack). */
int creds_on_inject(struct task *t, const char *names, struct sr_error *e);
/* Supervisor: free state. */
/* Supervisor, once the payload's execve succeeded: the stderr note naming
 * credentials left out (a run that never gets there keeps its one line). */
void creds_on_running(const struct task *t);
void creds_release(struct task *t);
/* What credentials contribute to the mount plan: the directory that must
 * exist as a mountpoint before the root is sealed, or NULL (no profile). */
const char *creds_mountpoint(const struct task *t);
/* Pre-built sandbox: the supervisor's key fd and sealed envelope copy, to
 * hand to the sandbox with the claim (-1 when the task has no profile). */
int creds_claim_fds(const struct task *t, int *ret_key_fd, int *ret_env_fd);
/* Sandbox init, at the claim: take them over (env_fd is consumed). */
int creds_claim_adopt(struct task *t, int key_fd, int env_fd, struct sr_error *e);
