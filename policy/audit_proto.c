/* Audit message protocol: strict encode/decode of events and replies (schema 1, revision 3). */
#include "policy/audit_proto.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "policy/jsonx.h"

void (*audit_proto_observer)(const char *msg, size_t len);

/* JSON integers beyond 2^53 do not survive other JSON readers. */
#define AUDIT_INT_MAX (1LL << 53)
#define AUDIT_PID_MAX 4194304LL /* PID_MAX_LIMIT */

static const char *const event_names[] = {
        [AUDIT_EV_LAUNCH] = "launch",       [AUDIT_EV_INJECT] = "inject", [AUDIT_EV_DENY] = "deny",
        [AUDIT_EV_SCRUB] = "scrub",         [AUDIT_EV_EXIT] = "exit",     [AUDIT_EV_REVOKE] = "revoke",
        [AUDIT_EV_ABANDONED] = "abandoned", [AUDIT_EV_EGRESS] = "egress",
};

const char *audit_event_name(enum audit_event_type t) {
        if (t <= AUDIT_EV_NONE || t > AUDIT_EV_LAST)
                return NULL;
        return event_names[t];
}

int audit_event_rev(enum audit_event_type t) {
        return t == AUDIT_EV_EGRESS ? 3 : t == AUDIT_EV_ABANDONED ? 2 : 1;
}

/* Revision 2 also added an optional "reason" to "exit" (interrupted-setup):
 * a revision-1 collector would refuse it, so such an exit says rev 2. */
static int needed_rev(const struct audit_event *ev) {
        int r = audit_event_rev(ev->type);
        if (ev->type == AUDIT_EV_EXIT && ev->reason && r < 2)
                r = 2;
        /* revision 3: brokered credentials ("brokered", and "host" with
         * "requests" on scrub) */
        for (size_t i = 0; i < ev->n_creds && r < 3; i++)
                if (ev->creds[i].brokered || ev->creds[i].host)
                        r = 3;
        return r;
}

enum audit_event_type audit_event_from_name(const char *s) {
        for (size_t i = AUDIT_EV_LAUNCH; s && i <= AUDIT_EV_LAST; i++)
                if (strcmp(event_names[i], s) == 0)
                        return (enum audit_event_type)i;
        return AUDIT_EV_NONE;
}

/* Fields beyond the four common ones; per event: which are allowed, which required. */
enum {
        F_TENANT = 1u << 0,
        F_POOL = 1u << 1,
        F_TASK = 1u << 2,
        F_PROFILE = 1u << 3,
        F_PVERSION = 1u << 4,
        F_RECIPIENT = 1u << 5,
        F_ISSUER = 1u << 6,
        F_KEY_ID = 1u << 7,
        F_PID = 1u << 8,
        F_SPID = 1u << 9,
        F_CREDS = 1u << 10,
        F_EXIT = 1u << 11,
        F_SIGNAL = 1u << 12,
        F_TIMEDOUT = 1u << 13,
        F_OOM = 1u << 14,
        F_USAGE = 1u << 15,
        F_REASON = 1u << 16,
        F_HOSTS = 1u << 17,
        F_DENIED = 1u << 18,
        F_OMITTED = 1u << 19,
};

static const struct {
        const char *key;
        unsigned bit;
} field_keys[] = {
        { "tenant", F_TENANT },
        { "pool", F_POOL },
        { "task", F_TASK },
        { "profile", F_PROFILE },
        { "profile_version", F_PVERSION },
        { "recipient", F_RECIPIENT },
        { "issuer", F_ISSUER },
        { "key_id", F_KEY_ID },
        { "pid", F_PID },
        { "sandbox_pid", F_SPID },
        { "credentials", F_CREDS },
        { "exit_code", F_EXIT },
        { "signal", F_SIGNAL },
        { "timed_out", F_TIMEDOUT },
        { "oom_killed", F_OOM },
        { "usage", F_USAGE },
        { "reason", F_REASON },
        { "hosts", F_HOSTS },
        { "denied", F_DENIED },
        { "omitted", F_OMITTED },
};

#define F_PROF (F_PROFILE | F_PVERSION | F_RECIPIENT | F_ISSUER)
static const struct {
        unsigned allowed, required;
} rules[] = {
        [AUDIT_EV_LAUNCH] = { F_TENANT | F_POOL | F_TASK | F_PROF | F_PID, F_TENANT | F_TASK | F_PID },
        [AUDIT_EV_INJECT] = { F_TENANT | F_POOL | F_TASK | F_PROF | F_PID | F_SPID | F_CREDS,
                              F_TENANT | F_TASK | F_CREDS },
        [AUDIT_EV_DENY] = { F_TENANT | F_POOL | F_TASK | F_PROF | F_PID | F_REASON, F_TENANT | F_REASON },
        [AUDIT_EV_SCRUB] = { F_TENANT | F_POOL | F_TASK | F_PROF | F_PID | F_SPID | F_CREDS, F_TENANT | F_TASK },
        [AUDIT_EV_EXIT] = { F_TENANT | F_POOL | F_TASK | F_PROF | F_PID | F_SPID | F_EXIT | F_SIGNAL | F_TIMEDOUT |
                                    F_OOM | F_USAGE | F_REASON,
                            F_TENANT | F_TASK | F_EXIT },
        [AUDIT_EV_REVOKE] = { F_TENANT | F_POOL | F_PROFILE | F_PVERSION | F_KEY_ID | F_PID | F_REASON, 0 },
        [AUDIT_EV_ABANDONED] = { F_TENANT | F_POOL | F_TASK | F_PROF | F_PID | F_SPID | F_REASON,
                                 F_TENANT | F_TASK | F_REASON },
        [AUDIT_EV_EGRESS] = { F_TENANT | F_POOL | F_TASK | F_PROFILE | F_PVERSION | F_PID | F_SPID | F_HOSTS |
                                      F_DENIED | F_OMITTED,
                              F_TENANT | F_TASK | F_HOSTS | F_DENIED },
};

void audit_event_init(struct audit_event *ev, enum audit_event_type type) {
        memset(ev, 0, sizeof *ev);
        ev->type = type;
        ev->profile_version = -1;
        ev->pid = -1;
        ev->sandbox_pid = -1;
        ev->egress_omitted = -1;
}

void audit_event_free(struct audit_event *ev) {
        if (!ev)
                return;
        json_decref(ev->doc);
        free(ev->creds_owned);
        free(ev->hosts_owned);
        free(ev->denied_owned);
        audit_event_init(ev, AUDIT_EV_NONE);
}

bool audit_key_id_valid(const char *s) {
        if (!s || strlen(s) != 16)
                return false;
        for (size_t i = 0; i < 16; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool charset_valid(const char *s, size_t max, const char *extra, bool any_graph) {
        size_t n;
        if (!s)
                return false;
        n = strlen(s);
        if (n < 1 || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (any_graph ? (c < 0x21 || c > 0x7e) : !(isalnum(c) || strchr(extra, c)))
                        return false;
        }
        return true;
}

bool audit_reason_valid(const char *s) {
        return charset_valid(s, 64, "_.:-", false);
}

bool audit_egress_host_valid(const char *s) {
        if (s && strcmp(s, "?") == 0)
                return true;
        if (!charset_valid(s, 253, ".:-", false))
                return false;
        for (; *s; s++)
                if (isupper((unsigned char)*s))
                        return false;
        return true;
}

bool audit_profile_valid(const char *s) {
        return charset_valid(s, 128, "", true) && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

bool audit_scope_valid(const char *s) {
        return charset_valid(s, 255, "", true);
}

static bool digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|+HH:MM|-HH:MM) */
bool audit_time_valid(const char *s) {
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, mo, d, h, mi, se, oh, om;
        size_t n, i = 19;
        if (!s || (n = strlen(s)) < 20 || n >= AUDIT_TIME_MAX)
                return false;
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
            s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
            !digits(s + 17, 2, &se))
                return false;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
                return false;
        if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                return false;
        if (s[i] == '.') {
                size_t f = ++i;
                while (i < n && s[i] >= '0' && s[i] <= '9')
                        i++;
                if (i == f || i - f > 9)
                        return false;
        }
        if (s[i] == 'Z')
                return i + 1 == n;
        if ((s[i] != '+' && s[i] != '-') || n - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !digits(s + i + 4, 2, &om))
                return false;
        return oh <= 23 && om <= 59;
}

void audit_time_format(const struct timespec *ts, char buf[AUDIT_TIME_MAX]) {
        struct tm tm;
        time_t t = ts->tv_sec;
        char tmp[128];
        gmtime_r(&t, &tm);
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts->tv_nsec / 1000000) % 1000);
        memcpy(buf, tmp, AUDIT_TIME_MAX - 1);
        buf[AUDIT_TIME_MAX - 1] = 0;
}

void audit_time_now(char buf[AUDIT_TIME_MAX]) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        audit_time_format(&ts, buf);
}

static int proto_fail(struct sr_error *e, const char *path, const char *what) {
        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "bad-message", "message: %s: %s", path, what);
}

static int get_str(struct jx *x, json_t *o, const char *key, bool (*ok)(const char *), const char *what,
                   const char **ret) {
        char p[64];
        int r = jx_string(x, o, "$", key, false, ret);
        if (r < 0 || !*ret)
                return r;
        if (ok && !ok(*ret))
                return proto_fail(x->e, jx_path(p, sizeof p, "$", key), what);
        return 0;
}

/* A binding's host as the broker reports it: lower-case name characters,
 * an optional leading "*." (never free text). */
static bool audit_host_valid(const char *s) {
        size_t n = strlen(s);
        if (strncmp(s, "*.", 2) == 0)
                s += 2;
        if (n == 0 || n > 255 || !*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
                        return false;
        return true;
}

static int decode_creds(struct jx *x, json_t *arr, struct audit_event *ev) {
        static const char *const keys[] = { "name", "scope", "brokered", "host", "requests", NULL };
        size_t n = json_array_size(arr);
        char p[64], q[64];
        int r;
        if (n > AUDIT_MAX_CREDS)
                return proto_fail(x->e, "$.credentials", "more than 64 entries");
        ev->creds_owned = calloc(n ? n : 1, sizeof *ev->creds_owned);
        if (!ev->creds_owned)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "message: out of memory");
        for (size_t i = 0; i < n; i++) {
                json_t *c = json_array_get(arr, i);
                struct audit_cred *ac = &ev->creds_owned[i];
                jx_index(p, sizeof p, "$.credentials", i);
                if ((r = jx_object(x, c, p, keys)) < 0 || (r = jx_string(x, c, p, "name", true, &ac->name)) < 0 ||
                    (r = jx_string(x, c, p, "scope", false, &ac->scope)) < 0 ||
                    (r = jx_bool(x, c, p, "brokered", false, &ac->brokered)) < 0 ||
                    (r = jx_string(x, c, p, "host", false, &ac->host)) < 0 ||
                    (r = jx_int(x, c, p, "requests", !!ac->host, 1, 1ll << 40, &ac->requests)) < 0)
                        return r;
                if (!ac->host && json_object_get(c, "requests"))
                        return proto_fail(x->e, jx_path(q, sizeof q, p, "requests"), "only with \"host\"");
                if (ac->host && !audit_host_valid(ac->host))
                        return proto_fail(x->e, jx_path(q, sizeof q, p, "host"), "not a host name or *.suffix");
                if (!cred_name_valid(ac->name))
                        return proto_fail(x->e, jx_path(q, sizeof q, p, "name"), "not a valid credential name");
                if (ac->scope && !audit_scope_valid(ac->scope))
                        return proto_fail(x->e, jx_path(q, sizeof q, p, "scope"), "not a valid scope");
                /* one entry per credential, or per (credential, host) for request counts */
                for (size_t j = 0; j < i; j++)
                        if (strcmp(ev->creds_owned[j].name, ac->name) == 0 &&
                            (!ac->host || !ev->creds_owned[j].host || strcmp(ev->creds_owned[j].host, ac->host) == 0))
                                return proto_fail(x->e, jx_path(q, sizeof q, p, "name"), "duplicate credential name");
        }
        ev->creds = ev->creds_owned;
        ev->n_creds = n;
        return 0;
}

/* egress: "hosts" [{host, port, connections, bytes}] and "denied" [{host, port, reason}]. */
static int decode_egress(struct jx *x, json_t *hosts, json_t *denied, struct audit_event *ev) {
        static const char *const hkeys[] = { "host", "port", "connections", "bytes", NULL };
        static const char *const dkeys[] = { "host", "port", "reason", NULL };
        size_t nh = json_array_size(hosts), nd = json_array_size(denied);
        char p[64], q[64];
        long long port, v;
        int r;
        if (nh > AUDIT_MAX_EGRESS)
                return proto_fail(x->e, "$.hosts", "more than 24 entries");
        if (nd > AUDIT_MAX_EGRESS)
                return proto_fail(x->e, "$.denied", "more than 24 entries");
        ev->hosts_owned = calloc(nh ? nh : 1, sizeof *ev->hosts_owned);
        ev->denied_owned = calloc(nd ? nd : 1, sizeof *ev->denied_owned);
        if (!ev->hosts_owned || !ev->denied_owned)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "message: out of memory");
        for (size_t i = 0; i < nh; i++) {
                json_t *o = json_array_get(hosts, i);
                struct audit_egress_host *h = &ev->hosts_owned[i];
                jx_index(p, sizeof p, "$.hosts", i);
                if ((r = jx_object(x, o, p, hkeys)) < 0 || (r = jx_string(x, o, p, "host", true, &h->host)) < 0 ||
                    (r = jx_int(x, o, p, "port", true, 1, 65535, &port)) < 0 ||
                    (r = jx_int(x, o, p, "connections", true, 0, AUDIT_INT_MAX, &h->connections)) < 0 ||
                    (r = jx_int(x, o, p, "bytes", true, 0, AUDIT_INT_MAX, &h->bytes)) < 0)
                        return r;
                if (!audit_egress_host_valid(h->host))
                        return proto_fail(x->e, jx_path(q, sizeof q, p, "host"), "not a host name or address");
                h->port = (unsigned)port;
        }
        for (size_t i = 0; i < nd; i++) {
                json_t *o = json_array_get(denied, i);
                struct audit_egress_denial *d = &ev->denied_owned[i];
                jx_index(p, sizeof p, "$.denied", i);
                if ((r = jx_object(x, o, p, dkeys)) < 0 || (r = jx_string(x, o, p, "host", true, &d->host)) < 0 ||
                    (r = jx_int(x, o, p, "port", true, 0, 65535, &v)) < 0 ||
                    (r = jx_string(x, o, p, "reason", true, &d->reason)) < 0)
                        return r;
                if (!audit_egress_host_valid(d->host))
                        return proto_fail(x->e, jx_path(q, sizeof q, p, "host"), "not a host name or address");
                if (!audit_reason_valid(d->reason))
                        return proto_fail(x->e, jx_path(q, sizeof q, p, "reason"), "not a reason code");
                d->port = (unsigned)v;
        }
        ev->egress_hosts = ev->hosts_owned;
        ev->n_egress_hosts = nh;
        ev->egress_denied = ev->denied_owned;
        ev->n_egress_denied = nd;
        return 0;
}

static int decode_usage(struct jx *x, json_t *u, struct audit_event *ev) {
        static const char *const keys[] = { "wall_ms", "cpu_user_ms", "cpu_sys_ms", "max_rss_kb", NULL };
        long long w, cu, cs, rss;
        int r;
        if ((r = jx_object(x, u, "$.usage", keys)) < 0 ||
            (r = jx_int(x, u, "$.usage", "wall_ms", true, 0, AUDIT_INT_MAX, &w)) < 0 ||
            (r = jx_int(x, u, "$.usage", "cpu_user_ms", true, 0, AUDIT_INT_MAX, &cu)) < 0 ||
            (r = jx_int(x, u, "$.usage", "cpu_sys_ms", true, 0, AUDIT_INT_MAX, &cs)) < 0 ||
            (r = jx_int(x, u, "$.usage", "max_rss_kb", true, 0, AUDIT_INT_MAX, &rss)) < 0)
                return r;
        ev->has_usage = true;
        ev->usage = (struct audit_usage){ w, cu, cs, rss };
        return 0;
}

/* Validate a parsed document into ev (pointers into doc). */
static int decode_doc(struct jx *x, json_t *doc, struct audit_event *ev) {
        static const char *const keys[] = {
                "schema",      "rev",       "seq",    "time",      "event",
                "tenant",      "pool",      "task",   "profile",   "profile_version",
                "recipient",   "issuer",    "key_id", "pid",       "sandbox_pid",
                "credentials", "exit_code", "signal", "timed_out", "oom_killed",
                "usage",       "reason",    "hosts",  "denied",    "omitted",
                NULL,
        };
        const char *name = NULL, *time_s = NULL;
        long long schema, seq, v, rev = 1;
        unsigned present = 0;
        json_t *arr = NULL, *u, *hosts = NULL, *denied = NULL;
        int r;

        if (!json_is_object(doc))
                return jx_object(x, doc, "$", keys);
        if ((r = jx_int(x, doc, "$", "schema", true, 0, 1000, &schema)) < 0)
                return r;
        if (schema != AUDIT_SCHEMA)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, EPROTONOSUPPORT, "bad-schema",
                               "message: $.schema: unsupported schema %lld (this side speaks %d)", schema,
                               AUDIT_SCHEMA);
        if ((r = jx_int(x, doc, "$", "rev", false, 1, 1000, &rev)) < 0)
                return r;
        if ((r = jx_object(x, doc, "$", keys)) == 0 && (r = jx_string(x, doc, "$", "event", true, &name)) == 0 &&
            audit_event_from_name(name) == AUDIT_EV_NONE)
                r = 1;
        if (r != 0) {
                /* from a newer peer: say so instead of calling it malformed */
                if (rev > AUDIT_REV)
                        return sr_fail(
                                x->e, SR_EXIT_LAUNCHER, EPROTONOSUPPORT, "unsupported-rev",
                                "message: $.rev: needs protocol revision %lld; this side speaks revisions 1 to %d", rev,
                                AUDIT_REV);
                return r < 0 ? r
                             : proto_fail(
                                       x->e, "$.event",
                                       "unknown event (launch, inject, deny, scrub, exit, revoke, abandoned, egress)");
        }
        if ((r = jx_int(x, doc, "$", "seq", true, 1, AUDIT_INT_MAX, &seq)) < 0 ||
            (r = jx_string(x, doc, "$", "time", true, &time_s)) < 0)
                return r;
        ev->seq = (uint64_t)seq;
        ev->rev = (int)rev;
        if (!audit_time_valid(time_s))
                return proto_fail(x->e, "$.time", "not an RFC 3339 time");
        snprintf(ev->time, sizeof ev->time, "%s", time_s);
        ev->type = audit_event_from_name(name);
        if (audit_event_rev(ev->type) > rev)
                return proto_fail(x->e, "$.rev", "the event needs a higher \"rev\"");
        for (size_t i = 0; i < ELEMENTSOF(field_keys); i++) {
                if (!json_object_get(doc, field_keys[i].key))
                        continue;
                present |= field_keys[i].bit;
                if (!(rules[ev->type].allowed & field_keys[i].bit)) {
                        char p[64], m[96];
                        snprintf(m, sizeof m, "not allowed in a \"%s\" event", name);
                        return proto_fail(x->e, jx_path(p, sizeof p, "$", field_keys[i].key), m);
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(field_keys); i++)
                if ((rules[ev->type].required & field_keys[i].bit) && !(present & field_keys[i].bit)) {
                        char p[64];
                        return proto_fail(x->e, jx_path(p, sizeof p, "$", field_keys[i].key), "missing required key");
                }

        if ((r = get_str(x, doc, "tenant", slug_valid, "not a valid tenant slug", &ev->tenant)) < 0 ||
            (r = get_str(x, doc, "pool", slug_valid, "not a valid pool slug", &ev->pool)) < 0 ||
            (r = get_str(x, doc, "task", task_id_valid, "not a valid task id", &ev->task)) < 0 ||
            (r = get_str(x, doc, "profile", audit_profile_valid, "not a valid profile name", &ev->profile)) < 0 ||
            (r = get_str(x, doc, "recipient", audit_key_id_valid, "not a key id (16 hex)", &ev->recipient)) < 0 ||
            (r = get_str(x, doc, "issuer", audit_key_id_valid, "not a key id (16 hex)", &ev->issuer)) < 0 ||
            (r = get_str(x, doc, "key_id", audit_key_id_valid, "not a key id (16 hex)", &ev->key_id)) < 0 ||
            (r = get_str(x, doc, "reason", audit_reason_valid, "not a reason code", &ev->reason)) < 0 ||
            (r = jx_int(x, doc, "$", "profile_version", false, 0, AUDIT_INT_MAX, &ev->profile_version)) < 0 ||
            (r = jx_int(x, doc, "$", "pid", false, 1, AUDIT_PID_MAX, &ev->pid)) < 0 ||
            (r = jx_int(x, doc, "$", "sandbox_pid", false, 1, AUDIT_PID_MAX, &ev->sandbox_pid)) < 0 ||
            (r = jx_array(x, doc, "$", "credentials", false, &arr)) < 0)
                return r;
        if (arr && (r = decode_creds(x, arr, ev)) < 0)
                return r;
        if ((present & F_PVERSION) && !(present & F_PROFILE))
                return proto_fail(x->e, "$.profile_version", "given without $.profile");
        if (needed_rev(ev) > ev->rev)
                return proto_fail(x->e, "$.rev", "the event needs a higher \"rev\"");
        if (ev->type == AUDIT_EV_REVOKE) {
                if (!(present & (F_TENANT | F_KEY_ID)))
                        return proto_fail(x->e, "$", "a revoke names a tenant or a key_id");
                if ((present & F_PROFILE) && !(present & F_TENANT))
                        return proto_fail(x->e, "$.profile", "given without $.tenant");
        }
        if (present & F_EXIT) {
                v = 0;
                if ((r = jx_int(x, doc, "$", "exit_code", true, 0, 255, &v)) < 0)
                        return r;
                ev->has_exit = true;
                ev->exit_code = (int)v;
                v = 0;
                if ((r = jx_int(x, doc, "$", "signal", false, 0, 64, &v)) < 0 ||
                    (r = jx_bool(x, doc, "$", "timed_out", false, &ev->timed_out)) < 0 ||
                    (r = jx_bool(x, doc, "$", "oom_killed", false, &ev->oom_killed)) < 0)
                        return r;
                ev->signal = (int)v;
        }
        if ((u = json_object_get(doc, "usage")) && (r = decode_usage(x, u, ev)) < 0)
                return r;
        if (ev->type == AUDIT_EV_EGRESS) {
                if ((r = jx_array(x, doc, "$", "hosts", true, &hosts)) < 0 ||
                    (r = jx_array(x, doc, "$", "denied", true, &denied)) < 0 ||
                    (r = jx_int(x, doc, "$", "omitted", false, 0, AUDIT_INT_MAX, &ev->egress_omitted)) < 0 ||
                    (r = decode_egress(x, hosts, denied, ev)) < 0)
                        return r;
        }
        return 0;
}

int audit_event_decode(const char *buf, size_t len, struct audit_event *ret, struct sr_error *e) {
        /* secret: a client may misbehave; never quote its bytes in errors or logs */
        struct jx x = { .file = "message", .e = e, .exit_code = SR_EXIT_LAUNCHER, .secret = true };
        json_t *doc = NULL;
        int r;
        audit_event_init(ret, AUDIT_EV_NONE);
        if (len > AUDIT_MSG_MAX)
                return sr_fail(e, SR_EXIT_LAUNCHER, EMSGSIZE, "too-large", "message: larger than %d bytes",
                               AUDIT_MSG_MAX);
        if (len == 0 || memchr(buf, 0, len))
                return proto_fail(e, "$", "empty or contains a NUL byte");
        if ((r = jx_load(&x, buf, len, &doc)) < 0) {
                if (e)
                        snprintf(e->reason, sizeof e->reason, "bad-json");
                return r;
        }
        ret->doc = doc;
        if ((r = decode_doc(&x, doc, ret)) < 0) {
                uint64_t seq = ret->seq; /* kept so the error reply can name it */
                if (e && strcmp(e->reason, "bad-input") == 0)
                        snprintf(e->reason, sizeof e->reason, "bad-message");
                audit_event_free(ret);
                ret->seq = seq;
                return r;
        }
        return 0;
}

static void set_str(json_t *o, const char *k, const char *v) {
        if (v)
                json_object_set_new(o, k, json_string(v));
}

static void set_int(json_t *o, const char *k, long long v) {
        if (v >= 0)
                json_object_set_new(o, k, json_integer(v));
}

static json_t *build(const struct audit_event *ev) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        json_object_set_new(o, "schema", json_integer(AUDIT_SCHEMA));
        if (ev->rev > 1 || needed_rev(ev) > 1)
                json_object_set_new(o, "rev", json_integer(ev->rev > needed_rev(ev) ? ev->rev : needed_rev(ev)));
        json_object_set_new(o, "seq", json_integer((json_int_t)ev->seq));
        set_str(o, "time", ev->time);
        set_str(o, "event", audit_event_name(ev->type));
        set_str(o, "tenant", ev->tenant);
        set_str(o, "pool", ev->pool);
        set_str(o, "task", ev->task);
        set_str(o, "profile", ev->profile);
        set_int(o, "profile_version", ev->profile_version);
        set_str(o, "recipient", ev->recipient);
        set_str(o, "issuer", ev->issuer);
        set_str(o, "key_id", ev->key_id);
        set_int(o, "pid", ev->pid);
        set_int(o, "sandbox_pid", ev->sandbox_pid);
        if (ev->type == AUDIT_EV_INJECT || ev->n_creds) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < ev->n_creds; i++) {
                        json_t *c = json_object();
                        set_str(c, "name", ev->creds[i].name);
                        set_str(c, "scope", ev->creds[i].scope);
                        if (ev->creds[i].brokered)
                                json_object_set_new(c, "brokered", json_true());
                        if (ev->creds[i].host) {
                                set_str(c, "host", ev->creds[i].host);
                                json_object_set_new(c, "requests", json_integer(ev->creds[i].requests));
                        }
                        json_array_append_new(a, c);
                }
                json_object_set_new(o, "credentials", a);
        }
        if (ev->has_exit) {
                json_object_set_new(o, "exit_code", json_integer(ev->exit_code));
                json_object_set_new(o, "signal", json_integer(ev->signal));
                json_object_set_new(o, "timed_out", json_boolean(ev->timed_out));
                json_object_set_new(o, "oom_killed", json_boolean(ev->oom_killed));
        }
        if (ev->has_usage)
                json_object_set_new(o, "usage",
                                    json_pack("{s:I,s:I,s:I,s:I}", "wall_ms", (json_int_t)ev->usage.wall_ms,
                                              "cpu_user_ms", (json_int_t)ev->usage.cpu_user_ms, "cpu_sys_ms",
                                              (json_int_t)ev->usage.cpu_sys_ms, "max_rss_kb",
                                              (json_int_t)ev->usage.max_rss_kb));
        set_str(o, "reason", ev->reason);
        if (ev->type == AUDIT_EV_EGRESS) {
                json_t *h = json_array(), *d = json_array();
                for (size_t i = 0; h && i < ev->n_egress_hosts; i++)
                        json_array_append_new(h, json_pack("{s:s,s:i,s:I,s:I}", "host", ev->egress_hosts[i].host,
                                                           "port", (int)ev->egress_hosts[i].port, "connections",
                                                           (json_int_t)ev->egress_hosts[i].connections, "bytes",
                                                           (json_int_t)ev->egress_hosts[i].bytes));
                for (size_t i = 0; d && i < ev->n_egress_denied; i++)
                        json_array_append_new(d, json_pack("{s:s,s:i,s:s}", "host", ev->egress_denied[i].host, "port",
                                                           (int)ev->egress_denied[i].port, "reason",
                                                           ev->egress_denied[i].reason));
                json_object_set_new(o, "hosts", h);
                json_object_set_new(o, "denied", d);
                set_int(o, "omitted", ev->egress_omitted);
        }
        return o;
}

int audit_event_canonical(const struct audit_event *ev, char **ret) {
        json_t *o = build(ev);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int audit_event_encode(const struct audit_event *ev, char **ret, size_t *ret_len, struct sr_error *e) {
        struct audit_event check;
        char *s = NULL;
        size_t n;
        int r;
        if (!audit_event_name(ev->type))
                return proto_fail(e, "$.event", "no event type");
        if (audit_event_canonical(ev, &s) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "audit: out of memory");
        n = strlen(s);
        /* the same rules as the collector's: what we send is what it accepts */
        if ((r = audit_event_decode(s, n, &check, e)) < 0) {
                free(s);
                return r;
        }
        audit_event_free(&check);
        if (audit_proto_observer)
                audit_proto_observer(s, n);
        *ret = s;
        if (ret_len)
                *ret_len = n;
        return 0;
}

int audit_reply_encode(const struct audit_reply *rp, char *buf, size_t size, size_t *ret_len) {
        json_t *o = rp->ok ? json_pack("{s:i,s:I,s:s,s:I}", "schema", AUDIT_SCHEMA, "seq", (json_int_t)rp->seq,
                                       "status", "ok", "line", (json_int_t)rp->line)
                           : json_pack("{s:i,s:I,s:s,s:s,s:s}", "schema", AUDIT_SCHEMA, "seq", (json_int_t)rp->seq,
                                       "status", "error", "error", rp->error, "message", rp->message);
        size_t n;
        if (!o)
                return -ENOMEM;
        n = json_dumpb(o, buf, size, JSON_COMPACT);
        json_decref(o);
        if (n == 0 || n >= size)
                return -EMSGSIZE;
        buf[n] = 0;
        *ret_len = n;
        return 0;
}

int audit_reply_decode(const char *buf, size_t len, struct audit_reply *ret, struct sr_error *e) {
        static const char *const keys[] = { "schema", "seq", "status", "line", "error", "message", NULL };
        struct jx x = { .file = "reply", .e = e, .exit_code = SR_EXIT_TEMPFAIL, .secret = true };
        const char *status = NULL, *err = NULL, *msg = NULL;
        long long schema, seq, line = 0;
        json_t *doc = NULL;
        int r;
        memset(ret, 0, sizeof *ret);
        if (len == 0 || len > AUDIT_MSG_MAX || memchr(buf, 0, len))
                return sr_fail(e, SR_EXIT_TEMPFAIL, EPROTO, "bad-reply", "reply: empty, oversized or NUL byte");
        if ((r = jx_load(&x, buf, len, &doc)) < 0)
                return r;
        if ((r = jx_object(&x, doc, "$", keys)) < 0 || (r = jx_int(&x, doc, "$", "schema", true, 1, 1, &schema)) < 0 ||
            (r = jx_int(&x, doc, "$", "seq", true, 0, AUDIT_INT_MAX, &seq)) < 0 ||
            (r = jx_string(&x, doc, "$", "status", true, &status)) < 0 ||
            (r = jx_int(&x, doc, "$", "line", false, 1, AUDIT_INT_MAX, &line)) < 0 ||
            (r = jx_string(&x, doc, "$", "error", false, &err)) < 0 ||
            (r = jx_string(&x, doc, "$", "message", false, &msg)) < 0)
                goto out;
        ret->seq = (uint64_t)seq;
        if (strcmp(status, "ok") == 0 && line > 0 && !err && !msg) {
                ret->ok = true;
                ret->line = (uint64_t)line;
        } else if (strcmp(status, "error") == 0 && err && audit_reason_valid(err) && line == 0) {
                snprintf(ret->error, sizeof ret->error, "%s", err);
                /* shown to the user: keep printable ASCII only */
                snprintf(ret->message, sizeof ret->message, "%s", msg ? msg : "");
                for (char *c = ret->message; *c; c++)
                        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                                *c = '?';
        } else
                r = sr_fail(e, SR_EXIT_TEMPFAIL, EPROTO, "bad-reply", "reply: $.status: inconsistent reply");
out:
        json_decref(doc);
        return r;
}
