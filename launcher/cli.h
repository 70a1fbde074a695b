/* sealrun's command line: parsed into a plain struct, validated before anything is created. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include "policy/util.h"

#define CLI_MAX_LIST 64

/* --bind, --ro-bind, their -try forms and --tmpfs, in command-line order */
struct cli_bind {
        const char *src, *dst; /* src NULL for --tmpfs */
        bool ro;
        bool optional; /* --bind-try/--ro-bind-try: a missing source is skipped */
        bool tmpfs;    /* --tmpfs DST */
};

struct cli_env {
        const char *name, *value;
};

enum audit_mode_opt { AUDIT_UNSET = -1, AUDIT_OFF = 0, AUDIT_BEST_EFFORT, AUDIT_REQUIRED };

struct cli {
        const char *policy;
        const char *tenant;
        const char *task;
        int status_fd;   /* -1 = none */
        int trace_fd;    /* -1 = none (launcher/trace.h) */
        long timeout_ms; /* -1 = policy's */
        struct cli_bind binds[CLI_MAX_LIST];
        size_t n_binds;
        struct cli_env setenv[CLI_MAX_LIST];
        size_t n_setenv;
        const char *chdir;
        const char *hostname;
        const char *workdir; /* --workdir HOST_DIR */
        const char *network; /* --network MODE */
        int pass_fds[CLI_MAX_LIST];
        size_t n_pass_fds;
        /* credentials */
        const char *profile;
        const char *key_path;
        int key_fd; /* -1 = none */
        const char *trust[CLI_MAX_LIST];
        size_t n_trust;
        const char *revoked;
        const char *scopes[CLI_MAX_LIST];
        size_t n_scopes;
        /* audit */
        const char *audit_socket;
        enum audit_mode_opt audit_mode;
        /* egress (network mode proxy): allow rules to keep */
        const char *egress_allow[CLI_MAX_LIST];
        size_t n_egress_allow;
        /* slots */
        long max_concurrent; /* -1 = policy's */
        long wait_slot_s;    /* 0 = fail at once */
        /* the command */
        char **argv;
        int argc;
        /* sealrun's own argv block, wiped in sandbox init so that the
         * payload cannot read host paths from /proc/1/cmdline */
        char *arg_area;
        size_t arg_area_len;
        bool caller_root; /* euid 0 when parsed: --workdir's idmap needs workdir.sources */
        bool help, version;
        bool check_host, json; /* --check-host [--json]: no COMMAND */
        bool print_policy;     /* --print-policy: no COMMAND */
        /* pre-built sandboxes (launcher/prepared.c) */
        bool prepare;             /* --prepare: build ahead, no COMMAND */
        int claim_fd;             /* --claim-fd N: a listening or connected unix socket, -1 = none */
        const char *claim_socket; /* --claim-socket PATH */
        const char *run;          /* --run PATH: claim the sandbox at PATH (the client side) */
};

/* Parse argv. 0 on success; -errno with e filled (exit 125) otherwise. */
int cli_parse(int argc, char **argv, struct cli *ret, struct sr_error *e);
void cli_usage(FILE *f);
/* The first option set in c that changes how a sandbox is built (refused on
 * a claim of a pre-built one), or NULL. */
const char *cli_build_option(const struct cli *c);
/* Deep copy of every string of c into one heap block (no string points into
 * the argv block any more; arg_area still names the block, to be wiped);
 * NULL on ENOMEM. Free with free(). */
struct cli *cli_dup(const struct cli *c);
