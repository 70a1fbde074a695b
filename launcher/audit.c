/* Audit client of sealrun: the mode decision and one event per step of the task, names only.
 *
 * The connection is closed again right after the "launch" event, before the
 * clone, so the sandbox never inherits a socket to the collector; later
 * events (sent by the supervisor, outside the sandbox) reconnect. */
#include "launcher/audit.h"

#include <stdio.h>
#include <string.h>

#include "policy/audit_client.h"

struct audit_ctx {
        enum pol_audit_mode mode;
        const char *socket;
        int timeout_ms;
        const char *tenant;
        struct audit_client *client;
        bool launched;               /* the launch went ahead (acked, or best-effort): exit follows */
        bool quiet;                  /* the run ends in a refusal: its one stderr line says it all */
        char notes[1024];            /* unacknowledged events, said on stderr at the end unless quiet */
        char task_buf[64];
        char *profile, *recipient, *issuer;
        long long profile_version;
};

static enum pol_audit_mode from_cli(enum audit_mode_opt m) {
        switch (m) {
        case AUDIT_OFF: return POL_AUDIT_OFF;
        case AUDIT_BEST_EFFORT: return POL_AUDIT_BEST_EFFORT;
        case AUDIT_REQUIRED: return POL_AUDIT_REQUIRED;
        default: return POL_AUDIT_UNSET;
        }
}

static int decide(struct task *t, struct audit_ctx *a, struct sr_error *e) {
        const struct policy_audit *pa = &t->pol->audit;
        enum pol_audit_mode cli = from_cli(t->cli->audit_mode);

        if (pa->mode != POL_AUDIT_UNSET && cli != POL_AUDIT_UNSET && cli < pa->mode)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--audit %s: the policy %s requires audit mode \"%s\"", pol_audit_mode_name(cli),
                               t->pol->file, pol_audit_mode_name(pa->mode));
        if (cli != POL_AUDIT_UNSET)
                a->mode = cli;
        else if (pa->mode != POL_AUDIT_UNSET)
                a->mode = pa->mode;
        else if (t->cli->profile)
                a->mode = POL_AUDIT_REQUIRED;
        else
                a->mode = t->cli->audit_socket ? POL_AUDIT_BEST_EFFORT : POL_AUDIT_OFF;

        if (pa->socket && t->cli->audit_socket && strcmp(pa->socket, t->cli->audit_socket) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--audit-socket %s: the policy %s pins the audit socket to %s", t->cli->audit_socket,
                               t->pol->file, pa->socket);
        a->socket = t->cli->audit_socket ? t->cli->audit_socket : pa->socket ? pa->socket : AUDIT_DEFAULT_SOCKET;
        a->timeout_ms = pa->ack_timeout_ms > 0 ? pa->ack_timeout_ms : POL_AUDIT_DEFAULT_TIMEOUT_MS;
        a->tenant = t->cli->tenant ? t->cli->tenant : t->pol->tenant;
        if (a->mode != POL_AUDIT_OFF && !a->tenant)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "--audit %s: audit events need --tenant SLUG",
                               pol_audit_mode_name(a->mode));
        if (a->mode != POL_AUDIT_OFF && !slug_valid(a->tenant))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "--tenant: not a valid tenant slug (^[a-z0-9][a-z0-9_-]{1,62}$)");
        return 0;
}

int audit_open(struct task *t, struct sr_error *e) {
        struct audit_ctx *a = calloc(1, sizeof *a);
        struct sr_error ce = { 0 };
        int r;
        if (!a)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        a->profile_version = -1;
        t->audit = a;
        if ((r = decide(t, a, e)) < 0)
                return r;
        t->status.audit_mode = pol_audit_mode_name(a->mode);
        if (a->mode == POL_AUDIT_OFF)
                return 0;
        /* events name the task; make one up when the caller gave none */
        if (!t->status.task) {
                snprintf(a->task_buf, sizeof a->task_buf, "sealrun-%d-%lld", (int)getpid(), (long long)now_ms());
                t->status.task = a->task_buf;
        }
        r = audit_client_connect(a->socket, a->timeout_ms, &a->client, &ce);
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

static void note_missing(struct task *t, enum audit_event_type type) {
        struct status *s = &t->status;
        if (s->n_audit_missing < ELEMENTSOF(s->audit_missing))
                s->audit_missing[s->n_audit_missing++] = audit_event_name(type);
}

/* Send one event. A failure is recorded as missing; in required mode it is
 * returned (with e filled when given), otherwise only reported on stderr
 * (at the end of the run, and not at all when it ends in a refusal). */
static int emit(struct task *t, struct audit_event *ev, struct sr_error *e) {
        struct audit_ctx *a = t->audit;
        struct sr_error ce = { 0 };
        int r;
        if (!a || a->mode == POL_AUDIT_OFF || a->mode == POL_AUDIT_UNSET)
                return 0;
        fill(t, ev);
        r = 0;
        if (!a->client && (r = audit_client_connect(a->socket, a->timeout_ms, &a->client, &ce)) < 0)
                sr_fail(&ce, SR_EXIT_TEMPFAIL, -r, "audit-unavailable", "audit: event \"%s\" not recorded: collector unreachable at %s: %s",
                        audit_event_name(ev->type), a->socket, strerror(-r));
        if (r == 0)
                r = audit_client_send(a->client, ev, NULL, &ce);
        if (r == 0)
                return 0;
        note_missing(t, ev->type);
        if (a->mode == POL_AUDIT_REQUIRED && e) {
                *e = ce;
                return r;
        }
        /* Said at the end (audit_close), so that a run which then ends in a
         * refusal or failure still prints exactly its one line. */
        if (!a->quiet) {
                size_t used = strlen(a->notes);
                snprintf(a->notes + used, sizeof a->notes - used, "sealrun: %s (audit %s: recorded as missing)\n", ce.msg,
                         pol_audit_mode_name(a->mode));
        }
        return a->mode == POL_AUDIT_REQUIRED ? r : 0;
}

int audit_launch(struct task *t, struct sr_error *e) {
        struct audit_event ev;
        int r;
        if (!t->audit)
                return 0;
        audit_event_init(&ev, AUDIT_EV_LAUNCH);
        r = emit(t, &ev, e);
        /* A refused launch (required mode) launches nothing: no exit event
         * is due, and the log lacks nothing, so launch is not "missing". */
        if (r < 0 && t->status.n_audit_missing > 0)
                t->status.n_audit_missing--;
        t->audit->launched = r >= 0;
        /* no audit socket may cross into the sandbox: the next event reconnects */
        audit_client_free(t->audit->client);
        t->audit->client = NULL;
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

int audit_inject_scoped(struct task *t, const char *const *names, const char *const *scopes, size_t n,
                        struct sr_error *e) {
        struct audit_cred creds[AUDIT_MAX_CREDS];
        struct audit_event ev;
        if (n > AUDIT_MAX_CREDS)
                return sr_fail(e, SR_EXIT_LAUNCHER, E2BIG, "audit", "audit: more than %d credentials in one task", AUDIT_MAX_CREDS);
        for (size_t i = 0; i < n; i++)
                creds[i] = (struct audit_cred){ names[i], scopes ? scopes[i] : NULL };
        audit_event_init(&ev, AUDIT_EV_INJECT);
        ev.creds = creds;
        ev.n_creds = n;
        return emit(t, &ev, e);
}

int audit_inject(struct task *t, const char *const *names, size_t n, struct sr_error *e) {
        return audit_inject_scoped(t, names, NULL, n, e);
}

int audit_scrub(struct task *t) {
        struct audit_event ev;
        audit_event_init(&ev, AUDIT_EV_SCRUB);
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
        if (!a->quiet && a->notes[0])
                fputs(a->notes, stderr);
        audit_client_free(a->client);
        free(a->profile);
        free(a->recipient);
        free(a->issuer);
        if (t->status.task == a->task_buf)
                t->status.task = NULL;
        free(a);
        t->audit = NULL;
}
