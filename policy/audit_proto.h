/* Audit message protocol: events and replies as one JSON object per SOCK_SEQPACKET message. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "policy/util.h"

/* Major version: a change that an older peer would misread bumps it, and a
 * peer refuses any other major ("bad-schema"). */
#define AUDIT_SCHEMA 1
/* Revision within schema 1: additive changes only (a new event kind, a new
 * optional key). An event carries "rev" when its contents need more than
 * revision 1; a receiver that speaks an older revision refuses what it does
 * not know with "unsupported-rev" and accepts everything else. */
#define AUDIT_REV 3
/* One message (event or reply) never exceeds this; the collector refuses larger ones. */
#define AUDIT_MSG_MAX 16384
#define AUDIT_MAX_CREDS 64
#define AUDIT_DEFAULT_SOCKET "/run/sealrun/audit.sock"
/* RFC 3339 UTC with milliseconds: 2025-01-31T12:34:56.789Z (24 chars). */
#define AUDIT_TIME_MAX 40

enum audit_event_type {
        AUDIT_EV_NONE = 0,
        AUDIT_EV_LAUNCH,
        AUDIT_EV_INJECT,
        AUDIT_EV_DENY,
        AUDIT_EV_SCRUB,
        AUDIT_EV_EXIT,
        AUDIT_EV_REVOKE,
        AUDIT_EV_ABANDONED, /* rev 2: the sender vanished before "exit" */
        AUDIT_EV_EGRESS,    /* rev 3: network mode "proxy": hosts reached and refusals */
};
#define AUDIT_EV_LAST AUDIT_EV_EGRESS
/* Entries per list of an "egress" event: 24 of each at 253-byte names stay
 * under AUDIT_MSG_MAX; the rest are counted in "omitted". */
#define AUDIT_MAX_EGRESS 24

struct audit_cred {
        const char *name;   /* credential name (never its value) */
        const char *scope;  /* or NULL */
        bool brokered;      /* held by the egress broker; the payload has a placeholder */
        const char *host;   /* scrub: a bound host the broker injected it toward, or NULL */
        long long requests; /* with host: requests injected (> 0) */
};

/* egress: one allowed host:port with its tunnels and bytes (both ways). */
struct audit_egress_host {
        const char *host;
        unsigned port;
        long long connections, bytes;
};

/* egress: one refused host:port (port 0: a DNS query) with its reason. */
struct audit_egress_denial {
        const char *host;
        unsigned port;
        const char *reason;
};

struct audit_usage {
        int64_t wall_ms, cpu_user_ms, cpu_sys_ms, max_rss_kb;
};

/* One event. Optional strings are NULL, optional integers -1, when absent.
 * Decoded events point into `doc`, released by audit_event_free(). */
struct audit_event {
        enum audit_event_type type;
        uint64_t seq;              /* sequence number, >= 1: per task for sealrun's events */
        int rev;                   /* protocol revision the event needs (0/1 = 1) */
        char time[AUDIT_TIME_MAX]; /* RFC 3339 */
        const char *tenant;        /* slug; NULL only for a revoke by key id */
        const char *pool;          /* slug or NULL */
        const char *task;          /* task id or NULL */
        const char *profile;       /* profile name or NULL */
        long long profile_version; /* -1 = absent */
        const char *recipient;     /* pool key id (16 hex) or NULL */
        const char *issuer;        /* issuer key id (16 hex) or NULL */
        const char *key_id;        /* revoke: revoked key id or NULL */
        long long pid;             /* sealrun (supervisor) pid, -1 = absent */
        long long sandbox_pid;     /* host pid of the sandbox init, -1 = absent */
        const struct audit_cred *creds;
        size_t n_creds;
        bool has_exit; /* exit: exit_code, signal, timed_out, oom_killed */
        int exit_code;
        int signal;
        bool timed_out;
        bool oom_killed;
        bool has_usage;
        struct audit_usage usage;
        const char *reason; /* deny/revoke/abandoned reason code or NULL */
        /* egress (both lists present, possibly empty) */
        const struct audit_egress_host *egress_hosts;
        size_t n_egress_hosts;
        const struct audit_egress_denial *egress_denied;
        size_t n_egress_denied;
        long long egress_omitted; /* -1 = absent */
        /* decoder's storage */
        void *doc;
        struct audit_cred *creds_owned;
        struct audit_egress_host *hosts_owned;
        struct audit_egress_denial *denied_owned;
};

/* The collector's answer to one event. */
struct audit_reply {
        uint64_t seq; /* the event's seq; 0 when it could not be read */
        bool ok;
        uint64_t line;     /* ok: the line's sequence in the tenant's file */
        char error[48];    /* !ok: reason code ("not-allowed", "bad-message", ...) */
        char message[256]; /* !ok: one line for humans */
};

void audit_event_init(struct audit_event *ev, enum audit_event_type type);
void audit_event_free(struct audit_event *ev);
const char *audit_event_name(enum audit_event_type t);
enum audit_event_type audit_event_from_name(const char *s);
/* The protocol revision that introduced an event kind. */
int audit_event_rev(enum audit_event_type t);

/* Serialise (after validating with the decoder's rules). *ret is malloc'd,
 * NUL-terminated, no trailing newline. -EINVAL/-EMSGSIZE with e filled. */
int audit_event_encode(const struct audit_event *ev, char **ret, size_t *ret_len, struct sr_error *e);
/* Strict parse of one received message: unknown keys, wrong types, fields
 * not allowed for the event, bad slugs, ids or times are errors naming the
 * field ("$.tenant: not a valid tenant slug"); error reason is a code. On
 * failure ret is empty except ret->seq, kept when it was read (for the reply). */
int audit_event_decode(const char *buf, size_t len, struct audit_event *ret, struct sr_error *e);
/* The validated event as a compact JSON string (what the collector stores). */
int audit_event_canonical(const struct audit_event *ev, char **ret);

int audit_reply_encode(const struct audit_reply *r, char *buf, size_t size, size_t *ret_len);
int audit_reply_decode(const char *buf, size_t len, struct audit_reply *ret, struct sr_error *e);

/* Time helpers (UTC, RFC 3339 with milliseconds). */
void audit_time_format(const struct timespec *ts, char buf[AUDIT_TIME_MAX]);
void audit_time_now(char buf[AUDIT_TIME_MAX]);
bool audit_time_valid(const char *s);
/* 16 lowercase hex chars (docs/profiles.md "Keys and key files"). */
bool audit_key_id_valid(const char *s);
/* Reason codes: [A-Za-z0-9_.:-]{1,64}. */
bool audit_reason_valid(const char *s);
/* Egress host: a canonical name or address ([a-z0-9.:-], 1..253), or "?". */
bool audit_egress_host_valid(const char *s);
/* Profile name: printable ASCII without spaces or '/', 1..128. */
bool audit_profile_valid(const char *s);
/* Scope: printable ASCII without spaces, 1..255. */
bool audit_scope_valid(const char *s);

/* Test hook: when set, called with every encoded event (unit tests scan
 * them for canaries). NULL in production. */
extern void (*audit_proto_observer)(const char *msg, size_t len);
