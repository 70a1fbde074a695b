/* The status JSON of one task (docs/status.md), filled by the
 * supervisor and serialised here so that launcher/ never touches jansson. */
#pragma once

/* 2: "pid" is null when no sandbox was created (1 said 0); everything else
 * since 1 is additive. */
#define STATUS_VERSION 2

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define STATUS_MAX_NAMES 64

/* One refused egress request (network mode "proxy"): names and reason codes only. */
struct status_egress_denial {
        char *host;
        unsigned port;
        const char *reason; /* egress_reason_name() */
        char *credential;   /* placeholder-misdirected: the credential's name, else NULL */
};

/* Requests the broker put one credential into, toward one of its bound
 * hosts (as the binding writes it: a name or "*.suffix"). */
struct status_injection {
        const char *name, *host;
        long long requests;
};

struct status {
        const char *task;
        const char *tenant;
        pid_t pid;     /* host pid of the sandbox init; 0 (JSON null) before the clone */
        int exit_code; /* what sealrun exits with */
        int signal;    /* signal that killed the payload, or 0 */
        bool timed_out;
        bool oom_killed;
        int64_t wall_ms;
        int64_t cpu_user_ms, cpu_sys_ms;
        int64_t max_rss_kb;
        int64_t memory_peak_kb;  /* -1 when unknown */
        int64_t pids_peak;       /* -1 when unknown */
        const char *refused;     /* NULL, or the reason code */
        const char *error;       /* one-line message for non-task exits */
        const char *failed_step; /* child step that failed, or NULL */
        const char *network;     /* "none", "veth", "host" */
        const char *cgroup;      /* "v2", "v1", "none" */
        /* credentials (names only, never values) */
        bool has_profile;
        const char *profile;
        long long profile_version;
        const char *injected[STATUS_MAX_NAMES];
        size_t n_injected;
        const char *skipped[STATUS_MAX_NAMES];
        const char *skipped_reason[STATUS_MAX_NAMES]; /* reason code of each skipped[i] */
        size_t n_skipped;
        bool scrubbed;
        /* audit */
        const char *audit_mode;
        const char *audit_missing[8]; /* events the collector did not ack */
        size_t n_audit_missing;
        /* syscall names of the seccomp profile that libseccomp does not know,
         * left out of rules that allow */
        const char *const *seccomp_skipped;
        size_t n_seccomp_skipped;
        const char *audit_spooled[8]; /* kept in the spool, delivered later */
        size_t n_audit_spooled;
        const char *audit_unconfirmed[8]; /* sent, never acked (may still be written) */
        size_t n_audit_unconfirmed;
        /* protections the policy marked optional and that were not applied */
        const char *not_enforced[16];
        size_t n_not_enforced;
        /* sealrun itself was interrupted by this signal before the payload
         * ran (0: not interrupted), at this setup step */
        int interrupted_signal;
        const char *interrupted_step;
        /* egress (mode "proxy"): owned by launcher/egress.c */
        bool egress;
        const struct status_egress_denial *egress_denied;
        size_t n_egress_denied;
        long long egress_connections, egress_bytes;
        /* brokered credentials: names delivered as placeholders (creds.c),
         * and requests the broker injected them into, per (credential,
         * bound host) with a count > 0 (egress.c, from the broker's report) */
        const char *brokered[STATUS_MAX_NAMES];
        size_t n_brokered;
        const struct status_injection *injections;
        size_t n_injections;
        /* Ownership: every string above is either a constant (a mode or
         * step name, a reason code literal) or a copy the status owns,
         * made with status_own() and freed by status_free(). */
        char **owned;
        size_t n_owned;
};

void status_init(struct status *s);
/* A copy of text the status owns (and that the caller may edit in place),
 * or NULL on ENOMEM; text NULL gives NULL. */
char *status_own(struct status *s, const char *text);
/* Free the copies; the status then holds constants only. */
void status_free(struct status *s);
/* First line, once the payload's execve succeeded:
 * {"version":1,"task":..,"tenant":..,"pid":N,"state":"running"}. */
int status_write_started(int fd, const struct status *s);
/* Final object, one line. */
int status_write_final(int fd, const struct status *s);
/* The final object as a malloc'd string (tests). */
char *status_format_final(const struct status *s);
