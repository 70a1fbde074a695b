/* /proc masking (placeholder until the confinement issue lands). */
#include "launcher/procmask.h"

int procmask_apply(struct task *t, struct sr_error *e) { return 0; }
