/* seccomp: compile the policy filter to BPF in the supervisor (cached), load it last in the child. */
#pragma once
#include "launcher/task.h"

int seccomp_prepare(struct task *t, struct sr_error *e);
int seccomp_apply(struct task *t, struct sr_error *e);
void seccomp_release(struct task *t);
