/* Test hook: pause at a named setup step so that a test can signal sealrun there. */
#pragma once

/* When the environment variable SEALRUN_TEST_STOP_AT names `step`, pause:
 * the process renames itself "sealrun-paused" (what a test waits for in
 * /proc/PID/comm) and stops itself with SIGSTOP until SIGCONT; sandbox init,
 * which cannot stop itself (a pid namespace's init ignores its own SIGSTOP),
 * sleeps until it is killed. It only ever pauses: the caller, who sets the
 * environment, can stop its own sealrun with kill -STOP at any time anyway,
 * so the hook grants nothing and skips no check. Step names: the
 * supervisor's ("policy", "audit", ..., "go"; see supervisor.c),
 * "init:NAME" and "payload:NAME" for the child tables, "payload:exec". */
void testhook_pause(const char *step);
