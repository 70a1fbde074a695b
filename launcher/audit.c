/* Audit client (placeholder until the audit issue lands: mode is always off). */
#include "launcher/audit.h"

int audit_open(struct task *t, struct sr_error *e) {
        if (t->cli->audit_socket || t->cli->audit_mode > AUDIT_OFF)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOTSUP, "unsupported", "--audit: the audit client is not supported by this build");
        return 0;
}
int audit_launch(struct task *t) { return 0; }
int audit_deny(struct task *t, const char *reason) { return 0; }
int audit_inject(struct task *t, const char *const *names, size_t n, struct sr_error *e) { return 0; }
int audit_scrub(struct task *t) { return 0; }
int audit_exit(struct task *t) { return 0; }
void audit_close(struct task *t) { }
