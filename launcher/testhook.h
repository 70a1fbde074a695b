/* Test hook: pause at a named setup step so that a test can signal sealrun there. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>

/* When the environment variable SEALRUN_TEST_STOP_AT names `step`, pause:
 * the process renames itself "sealrun-paused" (what a test waits for in
 * /proc/PID/comm) and stops itself with SIGSTOP until SIGCONT; sandbox init,
 * which cannot stop itself (a pid namespace's init ignores its own SIGSTOP),
 * sleeps until it is killed. It only ever pauses: the caller, who sets the
 * environment, can stop its own sealrun with kill -STOP at any time anyway,
 * so the hook grants nothing and skips no check. Step names: the
 * supervisor's ("policy", "audit", ..., "go"; see setup.c),
 * "init:NAME" and "payload:NAME" for the child tables, "payload:exec",
 * "broker:inject" and "broker:stuck" (testhook_hold below). */
void testhook_pause(const char *step);

/* Does SEALRUN_TEST_STOP_AT name `step`? (read once where it is cheap) */
bool testhook_armed(const char *step);
/* A thread cannot stop its process alone: an armed hook in a thread renames
 * the thread "sealrun-paused" (/proc/PID/task/TID/comm) and holds it until
 * *until becomes true, 10 s at most, then lets it go on. "broker:inject": a
 * broker connection thread with a whole request head, right before it reads
 * the credential, held until the broker stops (the stop race of
 * broker_stop, integration/t-broker.sh). "broker:stuck": the same thread
 * held 10 s whatever happens, past broker_stop's 2 s bound (the broker must
 * then not confirm its wipe). Only ever a delay, as above.
 * `name`: the thread's name afterwards (the broker may only set names). */
void testhook_hold(const atomic_bool *until, const char *name);
