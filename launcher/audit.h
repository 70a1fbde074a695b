/* Audit client: events to the collector socket (launch, inject, deny, scrub, exit). */
#pragma once
#include "launcher/task.h"

/* Connect according to the mode (policy/CLI). required + unreachable → 75. */
int audit_open(struct task *t, struct sr_error *e);
/* Each returns 0 when acked (or mode off/best-effort), -errno when a required
 * event was not acknowledged. Names only, never values. */
int audit_launch(struct task *t);
int audit_deny(struct task *t, const char *reason);
int audit_inject(struct task *t, const char *const *names, size_t n, struct sr_error *e);
int audit_scrub(struct task *t);
int audit_exit(struct task *t);
void audit_close(struct task *t);
