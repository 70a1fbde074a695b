/* Capabilities (placeholder until the confinement issue lands: ambient cleared only). */
#include <sys/prctl.h>
#include "launcher/caps.h"

int caps_drop(struct task *t, struct sr_error *e) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "caps", "cannot clear ambient capabilities");
        return 0;
}
