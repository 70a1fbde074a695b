/* The signals sealrun relays to the task: blocked from main()'s first line, read through a signalfd. */
#pragma once
#include <signal.h>
#include <stdbool.h>

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT (relayed) and SIGCHLD. Blocked before
 * anything else runs, so that a signal in the first milliseconds is queued
 * for the supervisor instead of killing it silently. Those inherited as
 * ignored (SIG_IGN) stay ignored and are neither blocked nor relayed. */
void interrupt_block(void);
/* Unblock them again (a pending one takes its default action now): for the
 * modes that launch nothing (--check-host, --print-policy). */
void interrupt_unblock(void);
/* A signalfd (non-blocking, close-on-exec) for the blocked set: 0 or -errno. */
int interrupt_open(int *ret_fd);
/* Take one relayed signal from the signalfd (SIGCHLD is skipped): its number,
 * or 0 when none is pending. */
int interrupt_take(int sigfd);
/* A relayed signal is pending (not yet taken): for waits outside the
 * supervisor's poll loop, so that they end early (the slot wait). */
bool interrupt_pending(void);
/* "SIGTERM" for SIGTERM; "signal N" when the name is unknown. */
const char *interrupt_name(int sig, char buf[16]);
