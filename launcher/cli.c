/* sealrun command line parsing (getopt_long, bubblewrap-like). */
#include "launcher/cli.h"
#include "policy/policy.h"

#include <getopt.h>
#include <string.h>

enum {
        OPT_POLICY = 1000,
        OPT_TENANT,
        OPT_TASK,
        OPT_STATUS_FD,
        OPT_TIMEOUT,
        OPT_RO_BIND,
        OPT_BIND,
        OPT_SETENV,
        OPT_CHDIR,
        OPT_HOSTNAME,
        OPT_PASS_FD,
        OPT_PROFILE,
        OPT_KEY,
        OPT_KEY_FD,
        OPT_TRUST,
        OPT_REVOKED,
        OPT_SCOPE,
        OPT_AUDIT_SOCKET,
        OPT_AUDIT,
        OPT_MAX_CONCURRENT,
        OPT_WAIT_SLOT,
        OPT_HELP,
        OPT_VERSION,
        OPT_CHECK_HOST,
        OPT_JSON,
        OPT_PRINT_POLICY,
        OPT_EGRESS_ALLOW,
        OPT_TRACE_FD,
        OPT_BIND_TRY,
        OPT_RO_BIND_TRY,
        OPT_TMPFS,
        OPT_NETWORK,
        OPT_WORKDIR,
        OPT_PREPARE,
        OPT_CLAIM_FD,
        OPT_CLAIM_SOCKET,
        OPT_RUN,
};

static const struct option options[] = {
        { "policy", required_argument, NULL, OPT_POLICY },
        { "tenant", required_argument, NULL, OPT_TENANT },
        { "task", required_argument, NULL, OPT_TASK },
        { "status-fd", required_argument, NULL, OPT_STATUS_FD },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "ro-bind", required_argument, NULL, OPT_RO_BIND },
        { "bind", required_argument, NULL, OPT_BIND },
        { "bind-try", required_argument, NULL, OPT_BIND_TRY },
        { "ro-bind-try", required_argument, NULL, OPT_RO_BIND_TRY },
        { "tmpfs", required_argument, NULL, OPT_TMPFS },
        { "network", required_argument, NULL, OPT_NETWORK },
        { "workdir", required_argument, NULL, OPT_WORKDIR },
        { "setenv", required_argument, NULL, OPT_SETENV },
        { "chdir", required_argument, NULL, OPT_CHDIR },
        { "hostname", required_argument, NULL, OPT_HOSTNAME },
        { "pass-fd", required_argument, NULL, OPT_PASS_FD },
        { "profile", required_argument, NULL, OPT_PROFILE },
        { "key", required_argument, NULL, OPT_KEY },
        { "key-fd", required_argument, NULL, OPT_KEY_FD },
        { "trust", required_argument, NULL, OPT_TRUST },
        { "egress-allow", required_argument, NULL, OPT_EGRESS_ALLOW },
        { "revoked", required_argument, NULL, OPT_REVOKED },
        { "scope", required_argument, NULL, OPT_SCOPE },
        { "audit-socket", required_argument, NULL, OPT_AUDIT_SOCKET },
        { "audit", required_argument, NULL, OPT_AUDIT },
        { "max-concurrent", required_argument, NULL, OPT_MAX_CONCURRENT },
        { "wait-slot", required_argument, NULL, OPT_WAIT_SLOT },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { "check-host", no_argument, NULL, OPT_CHECK_HOST },
        { "json", no_argument, NULL, OPT_JSON },
        { "print-policy", no_argument, NULL, OPT_PRINT_POLICY },
        { "trace-fd", required_argument, NULL, OPT_TRACE_FD },
        { "prepare", no_argument, NULL, OPT_PREPARE },
        { "claim-fd", required_argument, NULL, OPT_CLAIM_FD },
        { "claim-socket", required_argument, NULL, OPT_CLAIM_SOCKET },
        { "run", required_argument, NULL, OPT_RUN },
        { NULL, 0, NULL, 0 },
};

void cli_usage(FILE *f) {
        fputs("usage: sealrun [OPTIONS] -- COMMAND [ARG...]\n"
              "Run COMMAND in a fresh per-task sandbox, optionally with a tenant's sealed credentials.\n\n"
              "  --policy POLICY        sandbox policy: a stock name (default, agent), a FILE, or - or\n"
              "                         /dev/fd/N (read once); default: the stock default policy\n"
              "  --print-policy         print the resolved policy (\"extends\" applied) as JSON and exit\n"
              "  --tenant SLUG          tenant the task belongs to\n"
              "  --task ID              task id (status JSON, audit, cgroup name)\n"
              "  --status-fd N          write the status JSON to fd N\n"
              "  --trace-fd N           write the launch's phase timestamps (one JSON line) to fd N\n"
              "  --timeout SECONDS      kill the sandbox after SECONDS, fractions allowed (exit 124)\n"
              "  --ro-bind SRC DST      bind SRC read-only at DST (if the policy allows extra binds)\n"
              "  --bind SRC DST         bind SRC read-write at DST (if the policy allows extra binds)\n"
              "  --ro-bind-try SRC DST, --bind-try SRC DST\n"
              "                         the same, skipped (and noted) when SRC does not exist\n"
              "  --tmpfs DST            a fresh tmpfs at DST (if the policy allows extra binds)\n"
              "  --workdir HOST_DIR     bind HOST_DIR read-write at the policy's workdir path and start there\n"
              "                         (the task sees its files as its own; needs the policy's \"workdir\")\n"
              "  --network MODE         run in network MODE: none, or one the policy lists in network.modes\n"
              "  --setenv NAME VALUE    set NAME in the payload's environment\n"
              "  --chdir DIR            working directory inside the sandbox\n"
              "  --hostname NAME        hostname inside the sandbox\n"
              "  --pass-fd N            keep fd N open in the payload (all other fds > 2 are closed)\n"
              "  --profile FILE         sealed credential profile\n"
              "  --key FILE|--key-fd N  the pool's decryption key\n"
              "  --trust FILE           trusted issuer public key (repeatable)\n"
              "  --revoked FILE         revocation list\n"
              "  --scope SCOPE          scope granted to this task (repeatable)\n"
              "  --audit-socket PATH    audit collector socket\n"
              "  --audit MODE           required|best-effort|off\n"
              "  --max-concurrent N     at most N tasks of this tenant at once\n"
              "  --wait-slot SECONDS    wait up to SECONDS for a free tenant slot\n"
              "  --egress-allow HOST    network mode proxy: keep only this allow rule (repeatable; narrows, never "
              "widens)\n"
              "  --prepare --claim-socket PATH|--claim-fd N [--policy, --tenant, --network, --audit...]\n"
              "                         build one sandbox ahead (no COMMAND) and run the one task claimed at PATH\n"
              "                         or fd N; exits with that task's code\n"
              "  --run PATH [task options] -- COMMAND\n"
              "                         claim the pre-built sandbox at PATH for COMMAND (see sealrun(1))\n"
              "  --check-host [--policy FILE] [--json]\n"
              "                         try what a launch of the policy needs on this host; exit 0 if it can run, 77 "
              "if not\n"
              "  -h, --help, --version\n\n"
              "Exit: the task's code; 128+N killed by signal N; 124 timeout; 125 launcher failure;\n"
              "126 not executable; 127 not found; 75 temporary failure; 77 refused.\n",
              f);
}

#define usage_err(e, ...) sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", __VA_ARGS__)

static int parse_fd(const char *opt, const char *s, int *ret, struct sr_error *e) {
        long v;
        if (parse_long(s, 0, 1 << 20, &v) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "%s: \"%s\" is not a file descriptor number", opt,
                               s);
        *ret = (int)v;
        return 0;
}

#define PUSH(arr, n, val, opt) \
        do { \
                if ((n) >= CLI_MAX_LIST) \
                        return sr_fail(e, SR_EXIT_LAUNCHER, E2BIG, "usage", "%s: given more than %d times", opt, \
                                       CLI_MAX_LIST); \
                (arr)[(n)++] = (val); \
        } while (0)

/* Seconds with up to 3 decimals ("0.5", "2", "1.250") into ms; strict: no
 * sign, exponent, spaces or "inf", and more than 0. */
static int parse_seconds_ms(const char *s, long max_s, long *ret_ms) {
        long whole = 0, frac = 0;
        int digits = 0, fdigits = 0;
        const char *p = s;
        for (; *p >= '0' && *p <= '9'; p++, digits++)
                if ((whole = whole * 10 + (*p - '0')) > max_s)
                        return -ERANGE;
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++, fdigits++)
                        if (fdigits < 3)
                                frac = frac * 10 + (*p - '0');
                        else
                                return -EINVAL;
                if (!fdigits)
                        return -EINVAL;
        }
        if (*p || !digits)
                return -EINVAL;
        for (int i = fdigits; i < 3; i++)
                frac *= 10;
        if (whole * 1000 + frac == 0 || (whole == max_s && frac))
                return -ERANGE;
        *ret_ms = whole * 1000 + frac;
        return 0;
}

/* --policy /dev/fd/N reads fd N to its end: it cannot also be the key,
 * the status channel or a descriptor handed to the payload. */
static int check_policy_fd(const struct cli *c, struct sr_error *e) {
        int n = c->policy ? policy_source_fd(c->policy) : -1;
        if (n < 0)
                return 0;
        if (n == c->key_fd || n == c->status_fd)
                return usage_err(e, "--policy %s: fd %d is also the %s fd", c->policy, n,
                                 n == c->key_fd ? "key" : "status");
        for (size_t i = 0; i < c->n_pass_fds; i++)
                if (c->pass_fds[i] == n)
                        return usage_err(e, "--policy %s: fd %d is also passed with --pass-fd", c->policy, n);
        return 0;
}

const char *cli_build_option(const struct cli *c) {
        if (c->n_binds)
                return c->binds[0].tmpfs ? "--tmpfs" : "--bind/--ro-bind";
        if (c->workdir)
                return "--workdir";
        if (c->network)
                return "--network";
        if (c->hostname)
                return "--hostname";
        if (c->n_pass_fds)
                return "--pass-fd";
        if (c->policy)
                return "--policy";
        if (c->audit_socket || c->audit_mode != AUDIT_UNSET)
                return "--audit/--audit-socket";
        if (c->n_egress_allow)
                return "--egress-allow";
        if (c->trace_fd >= 0)
                return "--trace-fd";
        if (c->prepare || c->claim_fd >= 0 || c->claim_socket)
                return "--prepare";
        return NULL;
}

static const char *task_option(const struct cli *c) {
        if (c->task)
                return "--task";
        if (c->status_fd >= 0)
                return "--status-fd";
        if (c->timeout_ms >= 0)
                return "--timeout";
        if (c->n_setenv)
                return "--setenv";
        if (c->chdir)
                return "--chdir";
        if (c->n_pass_fds)
                return "--pass-fd";
        if (c->workdir)
                return "--workdir";
        if (c->profile || c->key_path || c->key_fd >= 0 || c->n_trust || c->revoked || c->n_scopes)
                return "--profile/--key/--scope";
        return NULL;
}

/* --prepare builds the pool's sandbox: nothing of a task may be on its
 * command line. --run claims one: nothing that would change the build may
 * be on its (a task that needs another build gets a fresh sealrun). */
static int check_prepared(const struct cli *c, bool command, struct sr_error *e) {
        const char *o;
        if ((c->claim_fd >= 0 || c->claim_socket) && !c->prepare)
                return usage_err(e, "--claim-fd and --claim-socket need --prepare");
        if (c->prepare) {
                if (c->run)
                        return usage_err(e, "--prepare and --run are mutually exclusive");
                if ((c->claim_fd >= 0) == !!c->claim_socket)
                        return usage_err(e, "--prepare needs exactly one of --claim-socket PATH and --claim-fd N");
                if (command)
                        return usage_err(e, "--prepare takes no COMMAND: the task brings it with its claim");
                if ((o = task_option(c)))
                        return usage_err(
                                e, "%s: a task option, not with --prepare (give it to the claim, sealrun --run)", o);
                return 0;
        }
        if (c->run && (o = cli_build_option(c)))
                return usage_err(e,
                                 "%s: changes the sandbox's build, not with --run (the pre-built sandbox carries "
                                 "only the pool's policy; run sealrun without --run for a fresh build)",
                                 o);
        return 0;
}

int cli_parse(int argc, char **argv, struct cli *c, struct sr_error *e) {
        int o, fd = -1, r;
        long v;

        memset(c, 0, sizeof *c);
        c->status_fd = -1;
        c->trace_fd = -1;
        c->timeout_ms = -1;
        c->key_fd = -1;
        c->audit_mode = AUDIT_UNSET;
        c->max_concurrent = -1;
        c->claim_fd = -1;
        c->caller_root = geteuid() == 0;
        /* optind 0 makes glibc reinitialise fully (a failed earlier parse can
         * leave a half-read "-xy" behind); "+:" stops at the command and
         * reports a missing argument as ':' instead of '?'. */
        optind = 0;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
                switch (o) {
                case OPT_POLICY: c->policy = optarg; break;
                case OPT_TENANT:
                        if (!slug_valid(optarg))
                                return usage_err(
                                        e, "--tenant: \"%s\" is not a valid tenant slug (^[a-z0-9][a-z0-9_-]{1,62}$)",
                                        optarg);
                        c->tenant = optarg;
                        break;
                case OPT_TASK:
                        if (!task_id_valid(optarg))
                                return usage_err(e, "--task: \"%s\" is not a valid task id (1-128 of [A-Za-z0-9_.:-])",
                                                 optarg);
                        c->task = optarg;
                        break;
                case OPT_STATUS_FD:
                        if (parse_fd("--status-fd", optarg, &c->status_fd, e) < 0)
                                return -EINVAL;
                        if (c->status_fd <= 2) /* the payload shares 0-2: it could forge status lines */
                                return usage_err(
                                        e, "--status-fd: fd %d is the payload's stdin/stdout/stderr; use fd 3 or above",
                                        c->status_fd);
                        break;
                case OPT_TRACE_FD:
                        if (parse_fd("--trace-fd", optarg, &c->trace_fd, e) < 0)
                                return -EINVAL;
                        if (c->trace_fd <= 2) /* as --status-fd: the payload shares 0-2 */
                                return usage_err(
                                        e, "--trace-fd: fd %d is the payload's stdin/stdout/stderr; use fd 3 or above",
                                        c->trace_fd);
                        break;
                case OPT_TIMEOUT:
                        if (parse_seconds_ms(optarg, 7 * 24 * 3600, &c->timeout_ms) < 0)
                                return usage_err(e,
                                                 "--timeout: \"%s\" is not a number of seconds (0.001..604800, "
                                                 "up to 3 decimals)",
                                                 optarg);
                        break;
                case OPT_RO_BIND:
                case OPT_BIND:
                case OPT_RO_BIND_TRY:
                case OPT_BIND_TRY: {
                        const char *name = o == OPT_BIND       ? "--bind"
                                           : o == OPT_RO_BIND  ? "--ro-bind"
                                           : o == OPT_BIND_TRY ? "--bind-try"
                                                               : "--ro-bind-try";
                        struct cli_bind b = { 0 };
                        if (optind >= argc)
                                return usage_err(e, "%s: needs SRC and DST", name);
                        b.src = optarg;
                        b.dst = argv[optind++];
                        b.ro = o == OPT_RO_BIND || o == OPT_RO_BIND_TRY;
                        b.optional = o == OPT_BIND_TRY || o == OPT_RO_BIND_TRY;
                        PUSH(c->binds, c->n_binds, b, name);
                        break;
                }
                case OPT_TMPFS: {
                        struct cli_bind b = { .dst = optarg, .tmpfs = true };
                        PUSH(c->binds, c->n_binds, b, "--tmpfs");
                        break;
                }
                case OPT_NETWORK:
                        if (pol_network_mode_from_name(optarg) < 0)
                                return usage_err(e, "--network: \"%s\" is not one of none, veth, proxy, host", optarg);
                        c->network = optarg;
                        break;
                case OPT_WORKDIR: c->workdir = optarg; break;
                case OPT_SETENV: {
                        struct cli_env ev;
                        if (optind >= argc)
                                return usage_err(e, "--setenv: needs NAME and VALUE");
                        if (!env_name_valid(optarg))
                                return usage_err(e, "--setenv: \"%s\" is not a valid variable name", optarg);
                        ev.name = optarg;
                        ev.value = argv[optind++];
                        PUSH(c->setenv, c->n_setenv, ev, "--setenv");
                        break;
                }
                case OPT_CHDIR: c->chdir = optarg; break;
                case OPT_HOSTNAME:
                        if (!*optarg || strlen(optarg) > 64 || strchr(optarg, '/'))
                                return usage_err(e, "--hostname: \"%s\" must be 1 to 64 characters without '/'",
                                                 optarg);
                        c->hostname = optarg;
                        break;
                case OPT_PASS_FD:
                        if (parse_fd("--pass-fd", optarg, &fd, e) < 0)
                                return -EINVAL;
                        if (fd <= 2)
                                return usage_err(e, "--pass-fd: %s: fds 0-2 are always passed", optarg);
                        PUSH(c->pass_fds, c->n_pass_fds, fd, "--pass-fd");
                        break;
                case OPT_PROFILE: c->profile = optarg; break;
                case OPT_KEY: c->key_path = optarg; break;
                case OPT_KEY_FD:
                        if (parse_fd("--key-fd", optarg, &c->key_fd, e) < 0)
                                return -EINVAL;
                        if (c->key_fd <= 2) /* 0-2 reach the payload: `cat` would print the pool key */
                                return usage_err(
                                        e, "--key-fd: fd %d is the payload's stdin/stdout/stderr; use fd 3 or above",
                                        c->key_fd);
                        break;
                case OPT_TRUST: PUSH(c->trust, c->n_trust, optarg, "--trust"); break;
                case OPT_REVOKED: c->revoked = optarg; break;
                case OPT_SCOPE: PUSH(c->scopes, c->n_scopes, optarg, "--scope"); break;
                case OPT_EGRESS_ALLOW: PUSH(c->egress_allow, c->n_egress_allow, optarg, "--egress-allow"); break;
                case OPT_AUDIT_SOCKET: c->audit_socket = optarg; break;
                case OPT_AUDIT:
                        if (strcmp(optarg, "required") == 0)
                                c->audit_mode = AUDIT_REQUIRED;
                        else if (strcmp(optarg, "best-effort") == 0)
                                c->audit_mode = AUDIT_BEST_EFFORT;
                        else if (strcmp(optarg, "off") == 0)
                                c->audit_mode = AUDIT_OFF;
                        else
                                return usage_err(e, "--audit: \"%s\" is not one of required, best-effort, off", optarg);
                        break;
                case OPT_MAX_CONCURRENT:
                        if (parse_long(optarg, 1, 4096, &c->max_concurrent) < 0)
                                return usage_err(e, "--max-concurrent: \"%s\" is not a number in 1..4096", optarg);
                        break;
                case OPT_WAIT_SLOT:
                        if (parse_long(optarg, 0, 86400, &v) < 0)
                                return usage_err(e, "--wait-slot: \"%s\" is not a number of seconds (0..86400)",
                                                 optarg);
                        c->wait_slot_s = v;
                        break;
                case 'h':
                case OPT_HELP: c->help = true; return 0;
                case OPT_PRINT_POLICY: c->print_policy = true; break;
                case OPT_VERSION: c->version = true; return 0;
                case OPT_CHECK_HOST: c->check_host = true; break;
                case OPT_JSON: c->json = true; break;
                case OPT_PREPARE: c->prepare = true; break;
                case OPT_CLAIM_FD:
                        if (parse_fd("--claim-fd", optarg, &c->claim_fd, e) < 0)
                                return -EINVAL;
                        if (c->claim_fd <= 2)
                                return usage_err(e, "--claim-fd: fd %d is stdin/stdout/stderr; use fd 3 or above",
                                                 c->claim_fd);
                        break;
                case OPT_CLAIM_SOCKET: c->claim_socket = optarg; break;
                case OPT_RUN: c->run = optarg; break;
                case ':': return usage_err(e, "%s: missing argument", argv[optind - 1]);
                default:
                        /* for long options glibc puts the option's value in optopt */
                        if (optopt >= OPT_POLICY)
                                return usage_err(e, "%s: takes no argument (see --help)", argv[optind - 1]);
                        if (optopt > 0x20 && optopt < 0x7f)
                                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "unknown option -%c (see --help)",
                                               optopt);
                        return usage_err(e, "%s: unknown option (see --help)", argv[optind - 1]);
                }
        }
        if (c->json && !c->check_host)
                return usage_err(e, "--json: only with --check-host");
        if (c->check_host) {
                if (optind < argc)
                        return usage_err(e, "--check-host takes no COMMAND");
                return 0;
        }
        if (c->key_path && c->key_fd >= 0)
                return usage_err(e, "--key and --key-fd are mutually exclusive");
        if ((c->key_path || c->key_fd >= 0 || c->n_trust || c->revoked || c->n_scopes) && !c->profile)
                return usage_err(e, "--key, --key-fd, --trust, --revoked and --scope need --profile");
        if (c->profile && !c->key_path && c->key_fd < 0)
                return usage_err(e, "--profile needs --key FILE or --key-fd N");
        if (c->profile && !c->tenant && !c->run) /* a claim's tenant is the pre-built sandbox's */
                return usage_err(e, "--profile needs --tenant SLUG");
        if (c->status_fd >= 0 && c->status_fd == c->key_fd)
                return usage_err(e, "--status-fd and --key-fd name the same fd");
        if (c->trace_fd >= 0 && c->trace_fd == c->key_fd)
                return usage_err(e, "--trace-fd and --key-fd name the same fd");
        for (size_t i = 0; i < c->n_pass_fds; i++)
                if (c->pass_fds[i] == c->status_fd || c->pass_fds[i] == c->key_fd || c->pass_fds[i] == c->trace_fd)
                        return sr_fail(
                                e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                "--pass-fd: fd %d is the status, trace or key fd and is never passed to the payload",
                                c->pass_fds[i]);
        if (c->chdir && c->chdir[0] != '/')
                return usage_err(e, "--chdir: \"%s\" must be an absolute path", c->chdir);
        if ((r = check_policy_fd(c, e)) < 0)
                return r;
        if (c->print_policy)
                return 0;
        if ((r = check_prepared(c, optind < argc, e)) < 0)
                return r;
        if (c->prepare) {
                c->argv = argv + argc; /* empty: the claim brings the command */
                c->arg_area = argv[0];
                c->arg_area_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
                return 0;
        }
        if (optind >= argc)
                return usage_err(e, "missing COMMAND (usage: sealrun [OPTIONS] -- COMMAND [ARG...])");
        if (!argv[optind][0])
                return usage_err(e, "COMMAND is empty");
        c->argv = argv + optind;
        c->argc = argc - optind;
        c->arg_area = argv[0];
        c->arg_area_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
        return 0;
}

/* Sizing pass and copy pass share one walk over every string field. */
static size_t dup_str(char **pos, const char **field) {
        size_t n;
        if (!*field)
                return 0;
        n = strlen(*field) + 1;
        if (pos) {
                memcpy(*pos, *field, n);
                *field = *pos;
                *pos += n;
        }
        return n;
}

static size_t dup_all(struct cli *d, char **pos) {
        size_t n = 0;
        const char **fields[] = { &d->policy,  &d->tenant,       &d->task,    &d->chdir,        &d->hostname,
                                  &d->profile, &d->key_path,     &d->revoked, &d->audit_socket, &d->workdir,
                                  &d->network, &d->claim_socket, &d->run };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                n += dup_str(pos, fields[i]);
        for (size_t i = 0; i < d->n_binds; i++)
                n += dup_str(pos, &d->binds[i].src) + dup_str(pos, &d->binds[i].dst);
        for (size_t i = 0; i < d->n_setenv; i++)
                n += dup_str(pos, &d->setenv[i].name) + dup_str(pos, &d->setenv[i].value);
        for (size_t i = 0; i < d->n_trust; i++)
                n += dup_str(pos, &d->trust[i]);
        for (size_t i = 0; i < d->n_scopes; i++)
                n += dup_str(pos, &d->scopes[i]);
        for (size_t i = 0; i < d->n_egress_allow; i++)
                n += dup_str(pos, &d->egress_allow[i]);
        for (int i = 0; i < d->argc; i++)
                n += dup_str(pos, (const char **)&d->argv[i]);
        return n;
}

struct cli *cli_dup(const struct cli *c) {
        struct cli tmp = *c;
        size_t strings = dup_all(&tmp, NULL);
        size_t head = sizeof(struct cli) + ((size_t)c->argc + 1) * sizeof(char *);
        struct cli *d = malloc(head + strings);
        char *pos;
        if (!d)
                return NULL;
        *d = *c;
        d->argv = (char **)(d + 1);
        memcpy(d->argv, c->argv, ((size_t)c->argc + 1) * sizeof(char *));
        pos = (char *)d + head;
        dup_all(d, &pos);
        return d;
}
