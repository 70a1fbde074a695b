/* The supervisor's launch sequence: one table of {name, prepare, release} steps. */
#pragma once

#include "launcher/task.h"

enum setup_phase {
        SETUP_TASK,    /* the task's bookkeeping: released after the report */
        SETUP_SANDBOX, /* host resources of the sandbox: released before it */
};

struct setup_step {
        const char *name; /* in messages and "interrupted"; what SEALRUN_TEST_STOP_AT takes */
        enum setup_phase phase;
        int (*prepare)(struct task *t, struct sr_error *e);
        void (*release)(struct task *t); /* NULL: nothing to release */
        bool at_claim;                   /* a pre-built sandbox runs it when a task claims it, not while it is built */
};

extern const struct setup_step setup_steps[];
extern const size_t setup_steps_n;

/* Run the table from the start; *ret_done is the number of steps whose
 * prepare was entered (each release copes with a half-done prepare). 0, or
 * the step's failure, or an interruption (then *ret_sig is set). A wait
 * inside a step ends early when a signal is pending (the slot wait), and the
 * interruption is reported for that step. */
int setup_run(struct task *t, int sigfd, size_t *ret_done, int *ret_sig, struct sr_error *e);
/* Release, in reverse, the steps of one phase among the first done. */
void setup_release(struct task *t, size_t done, enum setup_phase phase);
/* A refusal or failure at step done-1: every refusal (75, 77) and every
 * failure of the credentials step is one stderr line (the caller's) and,
 * once the audit step ran, one "deny" event with the reason. */
void setup_refused(struct task *t, size_t done, const struct sr_error *e);
/* The same for a refusal or failure at the named step. */
void setup_refused_step(struct task *t, const char *step, const struct sr_error *e);
/* A pre-built sandbox's claim: the steps marked at_claim, in table order
 * (admission of the profile, the slot, the "launch" event). Their releases
 * stay in the table. 0, a failure (*ret_step names it) or an interruption. */
int setup_run_claim(struct task *t, int sigfd, int *ret_sig, const char **ret_step, struct sr_error *e);
/* The payload's environment from the policy, the current environ and --setenv. */
int setup_build_env(struct task *t);
/* The launch was cancelled by sig before the payload ran: fills e (exit
 * 128+sig, "interrupted-setup") and the status; returns the exit code. */
int setup_interrupted(struct task *t, int sig, const char *step, struct sr_error *e);
