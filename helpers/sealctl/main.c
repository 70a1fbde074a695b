/* sealctl command dispatch (placeholder from the audit branch with only audit-verify;
 * the sealed-profiles branch owns this file: on a merge conflict take its version). */
#include <stdio.h>
#include <string.h>

#include "policy/util.h"

int sealctl_audit_verify(int argc, char **argv);

int main(int argc, char **argv) {
        if (argc >= 2 && strcmp(argv[1], "audit-verify") == 0)
                return sealctl_audit_verify(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
                printf("sealctl %s\n", SEALRUN_VERSION);
                return 0;
        }
        fprintf(stderr, "usage: sealctl audit-verify FILE|DIR...\n");
        return SR_EXIT_LAUNCHER;
}
