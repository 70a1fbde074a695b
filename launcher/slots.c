/* Slots (placeholder until the resources issue lands: no cap). */
#include "launcher/slots.h"

int slot_acquire(struct task *t, struct sr_error *e) {
        if (t->cli->max_concurrent > 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOTSUP, "unsupported", "--max-concurrent: not supported by this build");
        return 0;
}
void slot_release(struct task *t) { }
