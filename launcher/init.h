/* Sandbox init: pid 1 of the new pid namespace; forks the payload, reaps, forwards signals. */
#pragma once
#include <signal.h>

#include "launcher/task.h"

/* The signals a pid 1 of ours takes: SIGCHLD (reap), SIGTERM, SIGINT,
 * SIGHUP, SIGQUIT (relay), SIGUSR1 (the supervisor died). Blocks them
 * (*ret_old: the mask before, or NULL) and returns a signalfd for them, or
 * -errno. Sandbox init and the proxy mode's payload reaper share it. */
int init_signalfd(sigset_t *ret_old);

/* Never returns to the caller's logic: returns the exit code for _exit(). */
int init_run(struct task *t);
