/* Sandbox init: pid 1 of the new pid namespace; forks the payload, reaps, forwards signals. */
#pragma once
#include "launcher/task.h"

/* Never returns to the caller's logic: returns the exit code for _exit(). */
int init_run(struct task *t);
