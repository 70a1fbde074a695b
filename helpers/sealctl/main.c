/* sealctl: keys, sealing, inspection, verification and revocation of sealed profiles (dispatch table). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "helpers/sealctl/sealctl.h"

/* One entry per subcommand; other issues add theirs here (and a file). */
static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *usage;
} commands[] = {
        { "keygen", sealctl_keygen, "keygen --pool|--issuer --out PREFIX" },
        { "seal", sealctl_seal, "seal --tenant T --profile NAME --version N --not-after TIME\n"
                                "             --to POOL.pub --sign ISSUER.key [--in FILE|-] --out FILE|-" },
        { "inspect", sealctl_inspect, "inspect FILE [--json]" },
        { "verify", sealctl_verify, "verify FILE --trust ISSUER.pub... [--revoked LIST]" },
        { "revoke", sealctl_revoke, "revoke --list FILE (--tenant T [--profile P [--version N]] | --key-id ID)" },
        { "audit-verify", sealctl_audit_verify, "audit-verify FILE|DIR" },
        { "audit-flush", sealctl_audit_flush, "audit-flush [--spool DIR] [--timeout SECONDS]" },
};

static void usage(FILE *f) {
        fprintf(f, "usage: sealctl COMMAND [OPTIONS]\n\ncommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  sealctl %s\n", commands[i].usage);
        fprintf(f, "\nTIME is RFC 3339 (2025-01-31T12:00:00Z) or +DURATION (+15m, +24h, +7d).\n"
                   "Exit codes: 0 ok, 77 refused (bad, tampered, expired, untrusted profile), 125 bad usage.\n");
}

int sealctl_report(const char *cmd, const struct sr_error *e) {
        fprintf(stderr, "sealctl %s: %s\n", cmd, e->msg[0] ? e->msg : "failed");
        return e->exit_code ? e->exit_code : SR_EXIT_LAUNCHER;
}

int sealctl_usage_error(const char *cmd, const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "sealctl %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see sealctl --help)\n");
        return SR_EXIT_LAUNCHER;
}

int main(int argc, char **argv) {
        struct rlimit no_core = { 0, 0 };
        /* keys and plaintext pass through this process: no core dumps, no ptrace by peers */
        (void)setrlimit(RLIMIT_CORE, &no_core);
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? SR_EXIT_LAUNCHER : 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("sealctl %s\n", SEALRUN_VERSION);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(argv[1], commands[i].name) == 0) {
                        optind = 1;
                        opterr = 0;
                        return commands[i].fn(argc - 1, argv + 1);
                }
        fprintf(stderr, "sealctl: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        return SR_EXIT_LAUNCHER;
}
