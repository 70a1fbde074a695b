/* The sandbox side: the ordered launch sequence of sandbox init and payload. */
#pragma once
#include "launcher/task.h"

struct child_step {
        const char *name;
        int (*fn)(struct task *t, struct sr_error *e);
};

/* The two tables, in the order security depends on (exposed for tests). */
extern const struct child_step child_init_steps[];
extern const size_t child_init_steps_n;
extern const struct child_step child_payload_steps[];
extern const size_t child_payload_steps_n;

/* Entry point of the cloned child (pid 1 of the new pid namespace). */
int child_main(struct task *t);
/* Run by init in the forked payload: payload steps, then execve. Never returns. */
void child_payload(struct task *t) __attribute__((noreturn));
