/* The one exec site: fd hygiene, working directory, PATH search, execve. */
#pragma once
#include "launcher/task.h"

/* Payload step: close every fd above 2 except --pass-fd ones (the sync
 * socket and init's exec pipe stay, close-on-exec, to report an exec failure). */
int exec_close_fds(struct task *t, struct sr_error *e);
/* Tell init that the payload will not exec (one byte on the close-on-exec
 * pipe; a close without it means execve succeeded). */
void exec_report_failure(struct task *t);
/* chdir and execve the command; on failure report SYNC_EXEC_FAILED and exit
 * 126/127. Never returns. */
void exec_payload(struct task *t) __attribute__((noreturn));
