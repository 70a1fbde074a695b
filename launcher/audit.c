/* Audit client of sealrun: the mode decision and one event per step of the task, names only.
 *
 * The connection is closed again right after the "launch" event, before the
 * clone, so the sandbox never inherits a socket to the collector; later
 * events (sent by the supervisor, outside the sandbox) reconnect, and the
 * connection that carried "inject" stays open until "exit" so the collector
 * sees a sender that vanishes. A task's events are numbered 1, 2, ... across
 * connections: resending one whose ack was lost is safe (the collector
 * deduplicates). Events after the task ended are retried with backoff for at
 * most AUDIT_HOLD_MS, then (root) spooled for the next launch or
 * `sealctl audit-flush`. */
#include "launcher/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy/audit_client.h"
#include "policy/audit_spool.h"

struct audit_ctx {
        enum pol_audit_mode mode;
        const char *socket;
        int timeout_ms;
        const char *tenant;
        struct audit_client *client;
        bool launched;    /* the launch went ahead (acked, or best-effort): exit follows */
        bool quiet;       /* the run ends in a refusal: its one stderr line says it all */
        char notes[1024]; /* unacknowledged events, said on stderr at the end unless quiet */
        char task_buf[64];
        char *profile, *recipient, *issuer;
        long long profile_version;
        uint64_t seq; /* last seq given to one of this task's events */
        int spool_fd; /* root's spool directory, -1 when none */
        struct audit_spool_entry entry;
        int64_t hold_deadline; /* end of the hold after the task ended, 0 = not started */
        bool unsent;           /* the last event surely never reached the collector */
        bool root;             /* spooling is on (root caller with a usable spool) */
};

/* Notes for stderr, said at the end unless the run ends in a refusal. */
__attribute__((format(printf, 2, 3))) static void say(struct audit_ctx *a, const char *fmt, ...) {
        size_t used = strlen(a->notes);
        va_list ap;
        if (a->quiet)
                return;
        va_start(ap, fmt);
        vsnprintf(a->notes + used, sizeof a->notes - used, fmt, ap);
        va_end(ap);
}

/* The spool's fds are closed before the clone (nothing of it crosses into
 * the sandbox) and opened again when an event must be kept. */
static int spool_reopen(struct audit_ctx *a) {
        struct sr_error se = { 0 };
        if (a->spool_fd >= 0)
                return 0;
        return audit_spool_open(NULL, false, &a->spool_fd, &se);
}

/* The mode and socket were resolved with the policy (config_resolve). */
static int decide(struct task *t, struct audit_ctx *a, struct sr_error *e) {
        const struct policy_audit *pa = &t->pol->audit;
        a->mode = t->cfg.audit_mode;
        a->socket = t->cfg.audit_socket ? t->cfg.audit_socket : AUDIT_DEFAULT_SOCKET;
        a->timeout_ms = pa->ack_timeout_ms > 0 ? pa->ack_timeout_ms : POL_AUDIT_DEFAULT_TIMEOUT_MS;
        a->tenant = t->cfg.tenant;
        return 0;
}

/* Root: open the spool, deliver what earlier tasks left for this socket, and
 * refuse a required-mode launch when the spool is full or unusable (its
 * events could not be kept). Unprivileged: no spool (see audit_spool.h). */
static int spool_open(struct task *t, struct audit_ctx *a, struct sr_error *e) {
        struct audit_flush_result fr;
        struct sr_error se = { 0 };
        size_t n = 0;
        int r;
        if (geteuid() != 0)
                return 0;
        r = audit_spool_open(NULL, true, &a->spool_fd, &se);
        if (r == 0) {
                (void)audit_spool_flush(a->spool_fd, a->socket, a->timeout_ms, 1000, 16, &fr);
                if ((r = audit_spool_count(a->spool_fd, &n)) == 0 && n >= AUDIT_SPOOL_MAX_ENTRIES)
                        r = sr_fail(&se, SR_EXIT_TEMPFAIL, ENOSPC, "audit-spool-full",
                                    "audit spool: %zu entries, the limit is %d; deliver them with sealctl audit-flush",
                                    n, AUDIT_SPOOL_MAX_ENTRIES);
        }
        if (r < 0 && a->mode == POL_AUDIT_REQUIRED) {
                *e = se;
                snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg), " (audit mode required)");
                return r;
        }
        if (r < 0 && a->spool_fd >= 0) {
                close(a->spool_fd);
                a->spool_fd = -1;
        }
        a->root = a->spool_fd >= 0;
        return 0;
}

int audit_open(struct task *t, struct sr_error *e) {
        struct audit_ctx *a = calloc(1, sizeof *a);
        struct sr_error ce = { 0 };
        int r;
        if (!a)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        a->profile_version = -1;
        a->spool_fd = -1;
        a->entry.fd = -1;
        t->audit = a;
        if ((r = decide(t, a, e)) < 0)
                return r;
        t->status.audit_mode = pol_audit_mode_name(a->mode);
        if (a->mode == POL_AUDIT_OFF)
                return 0;
        /* events name the task; make one up when the caller gave none */
        if (!t->status.task) {
                snprintf(a->task_buf, sizeof a->task_buf, "sealrun-%d-%lld", (int)getpid(), (long long)now_ms());
                t->status.task = status_own(&t->status, a->task_buf);
        }
        if ((r = spool_open(t, a, e)) < 0)
                return r;
        r = audit_client_connect(a->socket, a->timeout_ms, &a->client, &ce);
        /* a collector restarting (socket briefly gone) is not "down": retry for a second */
        for (int64_t until = now_ms() + 1000; r < 0 && now_ms() < until;) {
                nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
                r = audit_client_connect(a->socket, a->timeout_ms, &a->client, &ce);
        }
        if (r < 0 && a->mode == POL_AUDIT_REQUIRED) {
                *e = ce;
                snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg), " (audit mode required)");
                return r;
        }
        /* best-effort: each event tries again and is reported missing if it fails */
        return 0;
}

static void fill(struct task *t, struct audit_event *ev) {
        struct audit_ctx *a = t->audit;
        ev->tenant = a->tenant;
        ev->pool = t->pol->audit.pool;
        ev->task = t->status.task;
        ev->pid = getpid();
        if (a->profile && audit_profile_valid(a->profile)) {
                ev->profile = a->profile;
                ev->profile_version = a->profile_version;
        } else if (t->status.has_profile && t->status.profile && audit_profile_valid(t->status.profile)) {
                ev->profile = t->status.profile;
                ev->profile_version = t->status.profile_version >= 0 ? t->status.profile_version : -1;
        }
        if (ev->type == AUDIT_EV_LAUNCH || ev->type == AUDIT_EV_INJECT || ev->type == AUDIT_EV_DENY) {
                ev->recipient = audit_key_id_valid(a->recipient) ? a->recipient : NULL;
                ev->issuer = audit_key_id_valid(a->issuer) ? a->issuer : NULL;
        }
        if (t->pid > 0 && ev->type != AUDIT_EV_LAUNCH && ev->type != AUDIT_EV_DENY)
                ev->sandbox_pid = t->pid;
}

/* audit.missing: surely not in the log (never left); audit.unconfirmed: left
 * without an ack (a collector that was only stopped may still write it);
 * audit.spooled: kept in the spool, delivered later exactly once. */
static void note(const char **list, size_t *n, size_t max, enum audit_event_type type) {
        if (*n < max)
                list[(*n)++] = audit_event_name(type);
}

/* One attempt on the task's connection (reconnecting when it is gone). */
static int attempt(struct audit_ctx *a, const char *msg, size_t len, const struct audit_event *ev, int timeout_ms,
                   struct sr_error *ce) {
        int r = 0;
        if (!a->client && (r = audit_client_connect(a->socket, timeout_ms, &a->client, ce)) < 0)
                return sr_fail(ce, SR_EXIT_TEMPFAIL, -r, "audit-unavailable",
                               "audit: event \"%s\" not recorded: collector unreachable at %s: %s",
                               audit_event_name(ev->type), a->socket, strerror(-r));
        return audit_client_send_msg(a->client, msg, len, ev->seq, audit_event_name(ev->type), timeout_ms, NULL, ce);
}

/* Send one event, retrying with backoff until its deadline: the ack timeout
 * for events before the payload runs, the hold bound for those after. An
 * unacknowledged event is spooled (root) or listed; in required mode the
 * failure is returned (with e filled when given), otherwise only reported
 * (at the end of the run, and not at all when it ends in a refusal). */
static int emit(struct task *t, struct audit_event *ev, struct sr_error *e) {
        struct audit_ctx *a = t->audit;
        struct sr_error ce = { 0 };
        _cleanup_free_ char *msg = NULL;
        bool after = ev->type == AUDIT_EV_SCRUB || ev->type == AUDIT_EV_EXIT || ev->type == AUDIT_EV_EGRESS;
        int64_t deadline;
        int backoff = 50, r;
        bool sent = false, sent_any = false, keep, spooled = false;
        size_t len;
        if (!a || a->mode == POL_AUDIT_OFF || a->mode == POL_AUDIT_UNSET)
                return 0;
        a->unsent = false;
        fill(t, ev);
        ev->seq = ++a->seq;
        audit_time_now(ev->time);
        if ((r = audit_event_encode(ev, &msg, &len, &ce)) < 0)
                goto failed;
        if (after && !a->hold_deadline)
                a->hold_deadline = now_ms() + AUDIT_HOLD_MS;
        /* scrub may use half the hold: exit, the event that closes the trail, keeps the rest */
        deadline = !after                                                      ? now_ms() + a->timeout_ms
                   : ev->type == AUDIT_EV_SCRUB || ev->type == AUDIT_EV_EGRESS ? a->hold_deadline - AUDIT_HOLD_MS / 2
                                                                               : a->hold_deadline;
        for (;;) {
                int64_t left = deadline - now_ms();
                r = attempt(a, msg, len, ev, (int)(left < a->timeout_ms ? (left > 0 ? left : 1) : a->timeout_ms), &ce);
                /* any copy that left may still be written, unless the collector answered with a refusal */
                sent_any |= audit_client_sent(a->client);
                sent = sent_any && strcmp(ce.reason, "audit-refused") != 0;
                if (r == 0)
                        return 0;
                /* refused for what it is (not for a full disk): sending again changes nothing */
                if (strcmp(ce.reason, "audit-refused") == 0 && !strstr(ce.msg, "write-failed") &&
                    !strstr(ce.msg, "io-error"))
                        break;
                if ((left = deadline - now_ms()) <= 0)
                        break;
                nanosleep(&(struct timespec){ 0, (long)(backoff < left ? backoff : left) * 1000000L }, NULL);
                backoff = backoff < 500 ? backoff * 2 : 1000;
        }
failed:
        /* keep it for later, except an inject (the payload never got what it
         * would claim) and a launch that surely never left in required mode
         * (no task, no trail); a launch that left unanswered is kept so the
         * trail it may have opened gets its launch and exit */
        keep = ev->type != AUDIT_EV_INJECT && (ev->type != AUDIT_EV_LAUNCH || sent || a->mode != POL_AUDIT_REQUIRED);
        if (msg && a->root && keep && spool_reopen(a) == 0) {
                struct sr_error se = { 0 };
                if (a->entry.fd < 0 && audit_spool_reopen(a->spool_fd, &a->entry, &se) < 0)
                        a->entry.name[0] = 0;
                if (a->entry.fd < 0)
                        (void)audit_spool_begin(a->spool_fd, a->socket, NULL, &a->entry, &se);
                spooled = audit_spool_add(&a->entry, msg, len, &se) == 0;
        }
        a->unsent = !sent && !spooled;
        if (spooled)
                note(t->status.audit_spooled, &t->status.n_audit_spooled, ELEMENTSOF(t->status.audit_spooled),
                     ev->type);
        else if (sent)
                note(t->status.audit_unconfirmed, &t->status.n_audit_unconfirmed,
                     ELEMENTSOF(t->status.audit_unconfirmed), ev->type);
        else
                note(t->status.audit_missing, &t->status.n_audit_missing, ELEMENTSOF(t->status.audit_missing),
                     ev->type);
        /* a spooled event is delivered later, but a required launch still needs its ack now */
        if (spooled && !(ev->type == AUDIT_EV_LAUNCH && a->mode == POL_AUDIT_REQUIRED)) {
                say(a, "sealrun: %s (spooled: delivered by the next launch or sealctl audit-flush)\n", ce.msg);
                return 0;
        }
        if (a->mode == POL_AUDIT_REQUIRED && e) {
                *e = ce;
                return r < 0 ? r : -EIO;
        }
        /* Said at the end (audit_close), so that a run which then ends in a
         * refusal or failure still prints exactly its one line. */
        say(a, "sealrun: %s (audit %s: recorded as %s)\n", ce.msg, pol_audit_mode_name(a->mode),
            spooled ? "spooled"
            : sent  ? "unconfirmed"
                    : "missing");
        return a->mode == POL_AUDIT_REQUIRED ? (r < 0 ? r : -EIO) : 0;
}

int audit_launch(struct task *t, struct sr_error *e) {
        struct audit_event ev;
        int r;
        if (!t->audit)
                return 0;
        audit_event_init(&ev, AUDIT_EV_LAUNCH);
        if (t->audit->spool_fd >= 0 && t->audit->mode != POL_AUDIT_OFF) {
                /* the marker: if this process dies unfinished, a later drain says so */
                struct audit_event ab;
                struct sr_error se = { 0 };
                audit_event_init(&ab, AUDIT_EV_ABANDONED);
                fill(t, &ab);
                ab.seq = 1;
                ab.reason = "supervisor-vanished";
                audit_time_now(ab.time);
                r = audit_spool_begin(t->audit->spool_fd, t->audit->socket, &ab, &t->audit->entry, &se);
                if (r < 0 && t->audit->mode == POL_AUDIT_REQUIRED) {
                        if (e)
                                *e = se;
                        return r;
                }
        }
        r = emit(t, &ev, e);
        /* "exit" closes a trail that may exist: not when required mode stops
         * here and the launch surely never reached the collector */
        t->audit->launched = !(r < 0 && t->audit->mode == POL_AUDIT_REQUIRED && t->audit->unsent);
        /* A launch refused before it left launches nothing: no exit is due
         * and the log lacks nothing, so it is not "missing" either. */
        if (!t->audit->launched && t->status.n_audit_missing > 0)
                t->status.n_audit_missing--;
        /* no audit socket, and no spool fd, may cross into the sandbox */
        audit_client_free(t->audit->client);
        t->audit->client = NULL;
        audit_spool_suspend(&t->audit->entry);
        if (t->audit->spool_fd >= 0)
                close(t->audit->spool_fd);
        t->audit->spool_fd = -1;
        return r;
}

/* Reason codes come from sr_error.reason; keep them within the protocol's charset. */
static void reason_code(const char *in, char out[65]) {
        size_t n = 0;
        for (; in && in[n] && n < 64; n++)
                out[n] = audit_reason_valid((char[]){ in[n], 0 }) ? in[n] : '-';
        if (n == 0)
                out[n++] = '-';
        out[n] = 0;
}

int audit_deny(struct task *t, const char *reason) {
        struct audit_event ev;
        char code[65];
        audit_event_init(&ev, AUDIT_EV_DENY);
        reason_code(reason, code);
        ev.reason = code;
        return emit(t, &ev, NULL);
}

int audit_inject_brokered(struct task *t, const char *const *names, const char *const *scopes, const bool *brokered,
                          size_t n, struct sr_error *e) {
        struct audit_cred creds[AUDIT_MAX_CREDS];
        struct audit_event ev;
        if (n > AUDIT_MAX_CREDS)
                return sr_fail(e, SR_EXIT_LAUNCHER, E2BIG, "audit", "audit: more than %d credentials in one task",
                               AUDIT_MAX_CREDS);
        for (size_t i = 0; i < n; i++)
                creds[i] = (struct audit_cred){ names[i], scopes ? scopes[i] : NULL, brokered && brokered[i], NULL, 0 };
        audit_event_init(&ev, AUDIT_EV_INJECT);
        ev.creds = creds;
        ev.n_creds = n;
        return emit(t, &ev, e);
}

int audit_inject_scoped(struct task *t, const char *const *names, const char *const *scopes, size_t n,
                        struct sr_error *e) {
        return audit_inject_brokered(t, names, scopes, NULL, n, e);
}

int audit_inject(struct task *t, const char *const *names, size_t n, struct sr_error *e) {
        return audit_inject_scoped(t, names, NULL, n, e);
}

int audit_scrub(struct task *t) {
        struct audit_cred creds[AUDIT_MAX_CREDS];
        struct audit_event ev;
        size_t n = 0;
        audit_event_init(&ev, AUDIT_EV_SCRUB);
        /* the broker's request counts per (brokered credential, bound host) */
        for (size_t i = 0; i < t->status.n_injections && n < AUDIT_MAX_CREDS; i++)
                creds[n++] = (struct audit_cred){ t->status.injections[i].name, NULL, true,
                                                  t->status.injections[i].host, t->status.injections[i].requests };
        if (n) {
                ev.creds = creds;
                ev.n_creds = n;
        }
        return emit(t, &ev, NULL);
}

int audit_egress(struct task *t, const struct audit_egress_host *hosts, size_t n_hosts,
                 const struct audit_egress_denial *denied, size_t n_denied, long long omitted) {
        struct audit_event ev;
        if (!t->audit || !t->audit->launched)
                return 0;
        audit_event_init(&ev, AUDIT_EV_EGRESS);
        ev.egress_hosts = hosts;
        ev.n_egress_hosts = n_hosts;
        ev.egress_denied = denied;
        ev.n_egress_denied = n_denied;
        ev.egress_omitted = omitted > 0 ? omitted : -1;
        return emit(t, &ev, NULL);
}

int audit_exit(struct task *t, const char *reason) {
        struct audit_event ev;
        const struct status *s = &t->status;
        char code[65];
        if (!t->audit || !t->audit->launched)
                return 0;
        audit_event_init(&ev, AUDIT_EV_EXIT);
        if (reason) {
                reason_code(reason, code);
                ev.reason = code;
        }
        ev.has_exit = true;
        ev.exit_code = s->exit_code & 0xff;
        ev.signal = s->signal > 0 && s->signal <= 64 ? s->signal : 0;
        ev.timed_out = s->timed_out;
        ev.oom_killed = s->oom_killed;
        if (s->cpu_user_ms >= 0 && s->cpu_sys_ms >= 0 && s->max_rss_kb >= 0) {
                ev.has_usage = true;
                ev.usage = (struct audit_usage){ now_ms() - t->start_ms, s->cpu_user_ms, s->cpu_sys_ms, s->max_rss_kb };
        }
        return emit(t, &ev, NULL);
}

bool audit_launched(const struct task *t) {
        return t->audit && t->audit->launched;
}

void audit_quiet(struct task *t) {
        if (t->audit)
                t->audit->quiet = true;
}

void audit_note_profile(struct task *t, const char *profile, long long version, const char *recipient,
                        const char *issuer) {
        struct audit_ctx *a = t->audit;
        if (!a)
                return;
        free(a->profile);
        free(a->recipient);
        free(a->issuer);
        a->profile = profile ? strdup(profile) : NULL;
        a->profile_version = version;
        a->recipient = recipient ? strdup(recipient) : NULL;
        a->issuer = issuer ? strdup(issuer) : NULL;
}

void audit_close(struct task *t) {
        struct audit_ctx *a = t->audit;
        if (!a)
                return;
        if (a->entry.name[0] && spool_reopen(a) == 0) {
                struct sr_error se = { 0 };
                if (audit_spool_reopen(a->spool_fd, &a->entry, &se) < 0 || audit_spool_finish(&a->entry, &se) < 0)
                        say(a, "sealrun: %s\n", se.msg);
        }
        if (a->spool_fd >= 0)
                close(a->spool_fd);
        if (!a->quiet && a->notes[0])
                fputs(a->notes, stderr);
        audit_client_free(a->client);
        free(a->profile);
        free(a->recipient);
        free(a->issuer);
        free(a);
        t->audit = NULL;
}
