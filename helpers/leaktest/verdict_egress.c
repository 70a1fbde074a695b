/* The brokered task's exchange, judged: what the payload got back, what the bound server recorded, what the status
 * JSON and the audit stream say. The server compared the header itself; here only its verdicts are read. */
#include <fcntl.h>
#include <jansson.h>
#include <string.h>

#include "helpers/leaktest/fleet.h"

struct answer {
        int status;
        char echo[16], why[64];
};

/* The payload's "egress NAME STATUS ECHO WHY" line for name. */
static bool payload_answer(const struct task *t, const char *name, struct answer *a) {
        size_t nl = strlen(name);
        memset(a, 0, sizeof *a);
        for (const char *l = t->rep; l && *l;) {
                const char *e = strchr(l, '\n');
                size_t ll = e ? (size_t)(e - l) : strlen(l);
                if (ll > 8 + nl && strncmp(l, "egress ", 7) == 0 && strncmp(l + 7, name, nl) == 0 && l[7 + nl] == ' ')
                        return sscanf(l + 8 + nl, "%d %15s %63s", &a->status, a->echo, a->why) == 3;
                l = e ? e + 1 : l + ll;
        }
        return false;
}

struct record {
        int tls, ph;
        char host[96], auth[16];
};

/* The server's "req TLS HOST /lt/NAME AUTH PH" record for name. */
static bool server_record(const struct fleet *f, const char *name, struct record *r) {
        char path[80];
        snprintf(path, sizeof path, "/lt/%s", name);
        memset(r, 0, sizeof *r);
        for (const char *l = f->srv.recs; l && *l;) {
                const char *e = strchr(l, '\n');
                char p[96];
                struct record x = { 0 };
                if (sscanf(l, "req %d %95s %95s %15s %d", &x.tls, x.host, p, x.auth, &x.ph) == 5 &&
                    strcmp(p, path) == 0) {
                        *r = x;
                        return true;
                }
                l = e ? e + 1 : NULL;
        }
        return false;
}

static void fail_row(struct fleet *f, enum rid r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail_row(struct fleet *f, enum rid r, const char *fmt, ...) {
        struct place p = { .offset = -1 };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p.what, sizeof p.what, fmt, ap);
        va_end(ap);
        row_fail_place(f->rows[r], &p);
}

/* The final status object: the last line of the status file. */
static json_t *status_load(const struct task *t) {
        char *text = NULL, *last;
        size_t n = 0;
        int fd = open(t->status, O_RDONLY | O_CLOEXEC);
        json_t *j = NULL;
        if (fd < 0)
                return NULL;
        if (read_fd_all(fd, 1u << 20, &text, &n) == 0) {
                while (n && text[n - 1] == '\n')
                        text[--n] = '\0';
                last = strrchr(text, '\n');
                j = json_loads(last ? last + 1 : text, 0, NULL);
        }
        free(text);
        close(fd);
        return j;
}

static long long injections(json_t *st, const char *host) {
        json_t *inj = json_object_get(json_object_get(st, "credentials"), "injections"), *e;
        size_t i;
        json_array_foreach(inj, i, e) {
                if (json_is_string(json_object_get(e, "name")) &&
                    strcmp(json_string_value(json_object_get(e, "name")), EG_CRED) == 0 &&
                    json_is_string(json_object_get(e, "host")) &&
                    strcmp(json_string_value(json_object_get(e, "host")), host) == 0)
                        return json_integer_value(json_object_get(e, "requests"));
        }
        return -1;
}

static bool denied(json_t *st, const char *host) {
        json_t *d = json_object_get(json_object_get(st, "egress"), "denied"), *e;
        size_t i;
        json_array_foreach(d, i, e) {
                const char *h = json_string_value(json_object_get(e, "host")),
                           *r = json_string_value(json_object_get(e, "reason")),
                           *c = json_string_value(json_object_get(e, "credential"));
                if (h && r && c && strcmp(h, host) == 0 && strcmp(r, "placeholder-misdirected") == 0 &&
                    strcmp(c, EG_CRED) == 0)
                        return true;
        }
        return false;
}

static void bound(struct fleet *f, const struct task *t, json_t *st) {
        char host[96];
        unsigned ok = 0;
        snprintf(host, sizeof host, "%s:%u", EG_BOUND_HOST, (unsigned)f->srv.port);
        for (int i = 1; i <= 2; i++) {
                char name[16];
                struct answer a;
                struct record r;
                snprintf(name, sizeof name, "bound-%d", i);
                if (!payload_answer(t, name, &a)) {
                        fail_row(f, R_DELIV_BROKER_TLS, "%s: the payload did not report this request", name);
                        continue;
                }
                if (a.status != 200)
                        fail_row(f, R_DELIV_BROKER_TLS, "%s: the payload got %d through the broker (%s)", name,
                                 a.status, a.why);
                else if (strcmp(a.echo, "placeholder") != 0)
                        fail_row(f, R_DELIV_BROKER_TLS,
                                 "%s: the header the server quoted back reached the payload as %s, not as its "
                                 "placeholder",
                                 name, a.echo);
                if (!server_record(f, name, &r)) {
                        fail_row(f, R_DELIV_BROKER_TLS, "%s: the bound server received no such request", name);
                        continue;
                }
                if (!r.tls || strcmp(r.host, host) != 0)
                        fail_row(f, R_DELIV_BROKER_TLS, "%s: the server got it %s for Host %s", name,
                                 r.tls ? "over TLS" : "over plain HTTP", r.host);
                if (strcmp(r.auth, "match") != 0)
                        fail_row(f, R_DELIV_BROKER_TLS,
                                 "%s: the bound server's Authorization check says \"%s\" (wanted: exactly one, "
                                 "Bearer and the sealed value)",
                                 name, r.auth);
                if (r.ph)
                        fail_row(f, R_DELIV_BROKER_TLS, "%s: the bound server received a placeholder", name);
                ok += a.status == 200 && strcmp(a.echo, "placeholder") == 0 && r.tls && strcmp(r.auth, "match") == 0 &&
                      !r.ph;
        }
        long long n = st ? injections(st, EG_BOUND_HOST) : -1;
        if (n != 2)
                fail_row(f, R_DELIV_BROKER_TLS,
                         "task %s: the status JSON counts %lld injected request(s) of %s to %s, not 2", t->id, n,
                         EG_CRED, EG_BOUND_HOST);
        note(f, R_DELIV_BROKER_TLS,
             "%u of 2 requests: the server on 127.0.0.1:%u (test CA in the binding) found the sealed value in "
             "Authorization, the payload read its placeholder in the answer quoting it",
             ok, (unsigned)f->srv.port);
        mark(f, R_DELIV_BROKER_TLS);
}

static void misdirected(struct fleet *f, const struct task *t, json_t *st, enum rid row, const char *what,
                        const char *host, bool tls) {
        char name[32];
        struct answer a;
        struct record r;
        unsigned refused = 0;

        /* the control: the same way, without the placeholder, is open */
        snprintf(name, sizeof name, "control-%s", what);
        if (!payload_answer(t, name, &a) || a.status != 200 || !server_record(f, name, &r) || r.tls != tls) {
                why_not(f, row,
                        "the control (%s: the same request without the placeholder) did not reach the server "
                        "(payload got %d, %s): a refusal would prove nothing",
                        name, a.status, a.why[0] ? a.why : "no report");
                return;
        }
        for (int i = 1; i <= EG_TRIES; i++) {
                snprintf(name, sizeof name, "trip-%s-%d", what, i);
                if (!payload_answer(t, name, &a))
                        fail_row(f, row, "%s: the payload did not report this attempt", name);
                else if (a.status != 403)
                        fail_row(f, row, "%s: the payload got %d, not 403 (%s)", name, a.status, a.why);
                if (server_record(f, name, &r))
                        fail_row(f, row, "%s: forwarded: the server received it (%s, placeholder %s)", name,
                                 r.tls ? "TLS" : "plain HTTP", r.ph ? "in it" : "not seen");
                else if (a.status == 403)
                        refused++;
        }
        if (!st || !denied(st, host))
                fail_row(f, row,
                         "task %s: the status JSON has no egress.denied entry placeholder-misdirected for %s and %s",
                         t->id, EG_CRED, host);
        if (t->trip_denies == 0)
                fail_row(f, row, "task %s: no audit \"deny\" with reason placeholder-misdirected", t->id);
        note(f, row,
             "%u of %d attempts answered 403 and none reached the server; the control reached it; the status "
             "names %s and %s; %u audit deny event(s)",
             refused, EG_TRIES, EG_CRED, host, t->trip_denies);
        mark(f, row);
}

void verdict_egress(struct fleet *f, const struct task *t) {
        static const enum rid rows[] = { R_DELIV_BROKER_TLS, R_TRIP_UNBOUND, R_TRIP_PLAIN, R_TRIP_BODY };
        const char *why = !f->srv_ready                ? "the bound TLS server did not start"
                          : !t->exited                 ? "sealrun did not run the brokered task"
                          : !t->rep                    ? "the brokered payload never reported"
                          : !strstr(t->rep, "egress ") ? "the brokered payload made no request"
                                                       : NULL;
        if (why) {
                for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                        why_not(f, rows[i], "%s", why);
                return;
        }
        const char *err = strstr(t->rep, "egress-error ");
        if (err) {
                const char *e = strchr(err, '\n');
                fail_row(f, R_DELIV_BROKER_TLS, "%.*s", (int)(e ? e - err : (long)strlen(err)), err);
        }
        for (const char *l = f->srv.recs; l && (l = strstr(l, "handshake-failed")); l++)
                note(f, R_DELIV_BROKER_TLS, "a TLS handshake with the server failed");
        json_t *st = status_load(t);
        bound(f, t, st);
        misdirected(f, t, st, R_TRIP_UNBOUND, "unbound", EG_OTHER_HOST, true);
        misdirected(f, t, st, R_TRIP_PLAIN, "plain", EG_BOUND_HOST, false);
        misdirected(f, t, st, R_TRIP_BODY, "body", EG_OTHER_HOST, true);
        json_decref(st);
}
