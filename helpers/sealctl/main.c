/* sealctl: keys, sealing, inspection, verification and revocation of sealed profiles (dispatch table). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "helpers/sealctl/sealctl.h"
#include "policy/audit_client.h"
#include "policy/audit_spool.h"

/* One entry per subcommand; other issues add theirs here (and a file).
 * `help` is what `sealctl CMD --help` (or -h) prints: the whole usage. */
static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *usage;
        const char *help;
} commands[] = {
        { "keygen", sealctl_keygen, "keygen --pool|--issuer --out PREFIX",
          "Make a key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub; prints the key id.\n"
          "  --pool          an X25519 pool key (decrypts the profiles sealed to it)\n"
          "  --issuer        an Ed25519 issuer key (signs profiles)\n"
          "  --out PREFIX    where to write PREFIX.key and PREFIX.pub (never overwritten)\n" },
        { "seal", sealctl_seal,
          "seal --tenant T --profile NAME --version N --not-after TIME\n"
          "             --to POOL.pub --sign ISSUER.key [--in FILE|-] --out FILE|-",
          "Encrypt a plaintext profile to a pool key and sign it.\n"
          "  --tenant T        tenant slug (must equal the plaintext's \"tenant\")\n"
          "  --profile NAME    profile name in the header\n"
          "  --version N       profile version (1..2^53-1); revoke old ones with\n"
          "                    sealctl revoke --version-below N\n"
          "  --not-after TIME  expiry: RFC 3339 or +DURATION (+15m, +24h, +7d)\n"
          "  --to POOL.pub     the pool's public key\n"
          "  --sign ISSUER.key the issuer's secret key\n"
          "  --in FILE|-       plaintext JSON (default: stdin)\n"
          "  --out FILE|-      the sealed profile (written atomically; - for stdout)\n" },
        { "inspect", sealctl_inspect, "inspect FILE [--json]",
          "Print a sealed profile's header (never decrypts).\n"
          "  --json          the header as one JSON object\n" },
        { "verify", sealctl_verify, "verify FILE --trust ISSUER.pub... [--revoked FILE]",
          "Check a sealed profile the way sealrun does before it runs a task: format,\n"
          "signature by a trusted issuer, expiry and revocation. Exit 0 valid, 77 refused.\n"
          "  --trust ISSUER.pub...  trusted issuer public keys (repeatable, or several after one)\n"
          "  --revoked FILE         revocation list\n" },
        { "revoke", sealctl_revoke,
          "revoke --revoked FILE (--tenant T [--profile P [--version N | --version-below N]] | --key-id ID)\n"
          "                      [--reason CODE]\n"
          "       sealctl revoke --revoked FILE --check",
          "Add an entry to a revocation list; sealrun refuses (77) every profile it matches.\n"
          "  --revoked FILE        the list (created 0644 if missing; --list is the old name)\n"
          "  --tenant T            every profile of tenant T ...\n"
          "  --profile P           ... or only profile P ...\n"
          "  --version N           ... or only its version N ...\n"
          "  --version-below N     ... or every version below N (after a rotation to N)\n"
          "  --key-id ID           every profile sealed to or signed by key ID (16 hex digits)\n"
          "  --reason CODE         why, recorded in the list, shown by sealrun's refusal and\n"
          "                        sent in the audit event: 1-64 of [A-Za-z0-9_.:-]\n"
          "  --audit-socket PATH   collector socket (default " AUDIT_DEFAULT_SOCKET ")\n"
          "  --audit MODE          required|best-effort|off\n"
          "  --check               only check that sealrun can use the list (owner, mode, syntax)\n"
          "An entry the list already covers is not written again (\"already revoked\", exit 0).\n"
          "The entry is written first; then a \"revoke\" audit event goes to the collector\n"
          "(skipped when none is installed at the default path and none is asked for).\n"
          "best-effort (the default): a warning if it is not recorded; required: exit 75.\n" },
        { "audit-verify", sealctl_audit_verify, "audit-verify [--quiet] FILE|DIR...",
          "Check each audit file's hash chain (DIR: every *.jsonl in it). Prints the first\n"
          "broken line per file; exit 0 only when every chain is intact, 77 when one is\n"
          "broken, 125 when a file cannot be read.\n"
          "  --quiet         no line for an intact file, only for broken ones\n" },
        { "audit-flush", sealctl_audit_flush, "audit-flush [--spool DIR] [--timeout SECONDS]",
          "Deliver every entry of root's audit spool (default " AUDIT_SPOOL_DEFAULT ", or $" AUDIT_SPOOL_ENV ")\n"
          "to the collector it names, including an \"abandoned\" record for a task whose\n"
          "sealrun vanished. Root only. Exit 0 when the spool is empty afterwards (entries\n"
          "of running tasks aside), 75 when some entries could not be delivered.\n"
          "  --spool DIR       the spool directory\n"
          "  --timeout SECONDS how long to try (1..3600, default 30)\n" },
};

/* -h or --help anywhere before "--": the subcommand's help, nothing run. */
static bool wants_help(int argc, char **argv) {
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
                        return true;
        return false;
}

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
                        if (wants_help(argc - 1, argv + 1)) {
                                printf("usage: sealctl %s\n%s", commands[i].usage, commands[i].help);
                                return 0;
                        }
                        optind = 1;
                        opterr = 0;
                        return commands[i].fn(argc - 1, argv + 1);
                }
        fprintf(stderr, "sealctl: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        return SR_EXIT_LAUNCHER;
}
