/* The task's resolved configuration: the policy and the command line met once, narrowed never widened. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "launcher/cli.h"
#include "policy/policy.h"
#include "policy/profile.h"

struct config_bind {
        const char *src, *dst; /* src NULL for a tmpfs */
        bool ro;
        bool optional; /* --bind-try/--ro-bind-try */
        bool tmpfs;    /* --tmpfs */
};

/* Everything the launch reads about the task besides the parsed policy.
 * Built by config_resolve() before anything is created; the strings point
 * into the command line or the policy, both of which outlive the task. */
struct task_config {
        const char *tenant;           /* --tenant, else the policy's tenant, else NULL */
        const char *task;             /* --task, or NULL */
        char **argv;                  /* the command */
        int status_fd;                /* -1 = none */
        long long timeout_ms;         /* the policy's, or a shorter --timeout; 0 = none */
        const char *hostname;         /* --hostname, else the policy's */
        const char *chdir;            /* --chdir, else the policy's */
        bool chdir_from_cli;          /* chdir points into sealrun's argv block */
        const struct cli_env *setenv; /* --setenv, applied after the policy's env */
        size_t n_setenv;
        const int *pass_fds;
        size_t n_pass_fds;
        const struct config_bind *binds; /* --bind/--ro-bind(-try)/--tmpfs, allowed by allow_extra_binds */
        size_t n_binds;
        /* --workdir: the absolute host dir, bound read-write at the policy's
         * workdir.path (NULL: none) */
        const char *workdir_src, *workdir_dst;
        /* --network: the policy's mode, "none", or one of network.modes */
        enum net_mode network_mode;
        bool ns_net; /* a network namespace (every mode but "host") */
        /* credentials */
        const char *profile;  /* NULL = no credentials */
        const char *key_path; /* --key, or NULL for key_fd */
        int key_fd;
        struct sr_key *trusted; /* public issuer keys: the policy's set, or the --trust subset of it (owned) */
        size_t n_trusted;
        const char *revoked;       /* --revoked: a list beside the policy's */
        const char *const *scopes; /* within credentials.scope_ceiling */
        size_t n_scopes;
        /* audit */
        enum pol_audit_mode audit_mode; /* never below the policy's mode */
        const char *audit_socket;       /* the policy's pinned one, --audit-socket, or the default */
        /* network mode "proxy": the policy's egress section with the allow
         * rules --egress-allow kept (rules.allow owned, the rest shared with
         * the policy); zero in other modes */
        struct policy_egress egress;
        /* the policy's landlock section; in mode "proxy", a restricted
         * connect-port list gains the proxy's and the listeners' ports */
        struct policy_landlock landlock;
        int trace_fd; /* --trace-fd, -1 = none (launcher/trace.h) */
        /* concurrency */
        long max_concurrent; /* slots per tenant, never above the policy's; 0 = none */
        long wait_slot_s;
        /* sealrun's own argv block: sandbox init wipes it (the payload must
         * not read host paths from /proc/1/cmdline) */
        char *arg_area;
        size_t arg_area_len;
        struct config_bind binds_store[CLI_MAX_LIST];
        char workdir_store[4096];
};

/* Resolve c against pol into *ret. Every "the command line may narrow the
 * policy, never widen it" rule is here; a widening flag is refused (77,
 * "policy-violation", "cross-tenant", "scope-over-ceiling",
 * "untrusted-issuer" or "egress-widen"), a malformed one is a usage error
 * (125). *ret is filled as far as it got, so that the task and tenant are
 * known for the report of a refusal; config_free() releases it either way.
 * The policy is not edited. */
int config_resolve(const struct cli *c, const struct policy *pol, struct task_config *ret, struct sr_error *e);
/* Free what config_resolve allocated (idempotent; a zeroed config is fine). */
void config_free(struct task_config *c);
