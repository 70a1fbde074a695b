/* Pre-built sandboxes: sealrun --prepare (build, wait for one claim) and sealrun --run (claim). */
#pragma once

#include "launcher/cli.h"
#include "launcher/task.h"

/* After the setup table of a --prepare: wait until sandbox init is built,
 * then for one claim; admit it (the at_claim steps) and hand the task to
 * init. 0: claimed, supervise it; 1: stopped unclaimed (*ret_sig set when
 * by a signal), nothing of a task ever existed; < 0: refused or failed, e
 * filled, *ret_step the step. */
int prepared_serve(struct task *t, int sigfd, int *ret_sig, const char **ret_step, struct sr_error *e);
/* The end: the claimer learns the exit code; the claim socket is removed. */
void prepared_done(struct task *t, int code);
/* Sandbox init, parked after its steps: receive the task. 0, -EPIPE when
 * the supervisor went away, or a failure (e filled). */
int prepared_child_claim(struct task *t, struct sr_error *e);
/* sealrun --run PATH: claim the sandbox at PATH for the command line's task,
 * relay signals to its supervisor, and return its exit code. */
int prepared_run_client(int argc, char **argv, const struct cli *c);
