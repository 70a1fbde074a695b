/* sealctl audit-verify: placeholder until the audit issue lands (it replaces this file). */
#include <stdio.h>

#include "helpers/sealctl/sealctl.h"

int sealctl_audit_verify(int argc, char **argv) {
        (void)argc;
        (void)argv;
        fprintf(stderr, "sealctl audit-verify: not supported by this build\n");
        return SR_EXIT_LAUNCHER;
}
