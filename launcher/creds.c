/* Credentials (placeholder until the sealed-profile issue lands: refuses --profile). */
#include "launcher/creds.h"

int creds_prepare(struct task *t, struct sr_error *e) {
        if (t->cli->profile)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOTSUP, "unsupported", "--profile: sealed profiles are not supported by this build");
        return 0;
}

int creds_stage(struct task *t, struct sr_error *e) {
        return 0;
}

int creds_scrub(struct task *t, struct sr_error *e) {
        return 0;
}

int creds_on_inject(struct task *t, const char *names, struct sr_error *e) {
        return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "protocol", "unexpected inject message");
}

void creds_release(struct task *t) {
}
