/* One task's state, shared by the supervisor and (copied by clone) the child. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "launcher/config.h"
#include "policy/policy.h"
#include "policy/status.h"

/* Per-module state: each module defines its own struct in its .c file. */
struct creds_ctx;
struct audit_ctx;
struct seccomp_ctx;
struct cgroup_ctx;
struct net_ctx;
struct slot_ctx;
struct mounts_ctx;
struct egress_ctx;
struct broker_creds;

struct task {
        /* The command line, a heap copy (cli_dup): read only by the policy
         * step, which resolves it into cfg and clears this pointer. */
        const struct cli *cli;
        struct task_config cfg;   /* resolved once (config_resolve) */
        const struct policy *pol; /* parsed once by the policy step, never edited after */

        uid_t caller_uid;
        gid_t caller_gid;
        bool as_root;   /* caller has CAP_SETUID/SETGID in the host userns */
        bool no_userns; /* "user": "optional" took effect: no user namespace */
        /* The host ids the sandbox maps to as root (sandbox_prepare_ids):
         * the tenant's block, else the policy's host_uid/host_gid. The
         * parsed policy is never edited. */
        uid_t host_uid;
        gid_t host_gid;
        bool tenant_ids; /* host_uid/gid are the tenant's block */

        int sync_parent; /* supervisor's end of the sync socket */
        int sync_child;  /* child's end */
        pid_t pid;       /* host pid of sandbox init */
        int pidfd;
        bool reaped; /* init was waited for */

        /* pre-built sandbox (--prepare, launcher/prepared.c) */
        bool prepared;                 /* built ahead; the task comes with a claim */
        bool claimed;                  /* a claim was taken: its steps run, then GO */
        const struct cli *prepare_cli; /* the --prepare command line (supervisor) */
        struct cli *claim_cli;         /* the claim's, merged with it (owned) */
        char *claim_args;              /* the claim's records (owned; the strings above point into it) */
        int claim_sock;                /* the claimer's connection, or -1 */
        int claim_listen;              /* --claim-socket's or --claim-fd's listening socket, or -1 */
        struct task_config cfg_built;  /* the build's config, kept until the end (owned) */
        int exec_report; /* payload: write end of init's close-on-exec pipe (a byte = setup or exec failed), or -1 */

        char **envp; /* payload environment, built by the supervisor */

        /* The mount plan, built and owned by launcher/mounts.c (mounts_plan)
         * before the clone: the policy's entries, then the command line's
         * binds, then what network contributes; entries are shallow copies. */
        struct mount_entry *plan;
        size_t n_plan;

        struct creds_ctx *creds;
        struct audit_ctx *audit;
        struct seccomp_ctx *seccomp;
        struct cgroup_ctx *cgroup;
        struct net_ctx *net;
        struct slot_ctx *slot;
        struct mounts_ctx *mounts;
        struct egress_ctx *egress; /* network mode "proxy" */

        struct status status;
        int64_t start_ms;
        struct broker_creds *broker; /* the egress proxy process only: its bound credentials (broker_creds.h) */
};
