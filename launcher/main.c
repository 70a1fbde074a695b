/* sealrun: run a command in a fresh per-task sandbox with sealed credentials. */
#include <stdio.h>

#include "launcher/cli.h"
#include "launcher/hostcheck.h"
#include "launcher/interrupt.h"
#include "launcher/prepared.h"
#include "launcher/supervisor.h"
#include "launcher/trace.h"
#include "policy/policy.h"

int main(int argc, char **argv) {
        struct cli c;
        struct sr_error e = { 0 };
        /* First, before anything can take time: a SIGTERM from now on is
         * queued for the supervisor, which ends the launch the documented
         * way (cleanup, one stderr line, final status) instead of dying. */
        interrupt_block();
        trace_start();
        if (cli_parse(argc, argv, &c, &e) < 0) {
                fprintf(stderr, "sealrun: %s\n", e.msg);
                return e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
        }
        if (c.help) {
                cli_usage(stdout);
                return 0;
        }
        if (c.version) {
                printf("sealrun %s\n", SEALRUN_VERSION);
                return 0;
        }
        if (c.check_host || c.print_policy)
                interrupt_unblock(); /* nothing to clean up: a signal may end them */
        if (c.check_host)
                return hostcheck_main(&c);
        if (c.run)
                return prepared_run_client(argc, argv, &c);
        if (c.print_policy) {
                if (policy_print(c.policy, stdout, &e) < 0) {
                        fprintf(stderr, "sealrun: %s\n", e.msg);
                        return e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
                }
                return 0;
        }
        return supervisor_run(&c);
}
