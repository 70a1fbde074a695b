/* Self-test plants for the brokered exchange: no broker at all (the payload's requests go straight to the bound
 * server), so the server must see a wrong header and every misdirected placeholder must count as forwarded; and the
 * server must say yes to the right header, or its no would mean nothing. */
#include <fcntl.h>
#include <sodium.h>
#include <string.h>

#include "helpers/leaktest/plant.h"

struct lines {
        char *buf;
        size_t len;
};

static void add_line(void *ud, const char *line) {
        struct lines *l = ud;
        size_t n = strlen(line);
        char *b = realloc(l->buf, l->len + n + 2);
        if (!b)
                return;
        memcpy(b + l->len, line, n);
        l->len += n;
        b[l->len++] = '\n';
        b[l->len] = '\0';
        l->buf = b;
}

/* One direct run against a fresh server that wants "Bearer " + the canary
 * C_CRED; the payload's lines in *out, the server's records in f->srv. */
static int direct_run(struct st *s, const char *sent, struct lines *out) {
        struct fleet *f = s->f;
        const struct canary *c = &s->lt->canaries[s->c[C_CRED]];
        free(f->srv.recs);
        f->srv = (struct tls_srv){ .listen_fd = -1, .rec_fd = -1, .stop_fd = -1 };
        if (tls_srv_listen(&f->srv) < 0 || tls_srv_start(&f->srv, &f->pki, c->val, c->len) < 0) {
                tls_srv_stop(&f->srv);
                return -EIO;
        }
        struct eg_cfg cfg = {
                .placeholder = sent, .port = f->srv.port, .direct = true, .ca_file = f->ca_file, .echo_fd = -1
        };
        eg_probe_run(&cfg, add_line, out);
        tls_srv_stop(&f->srv);
        return 0;
}

void plant_egress(struct st *s) {
        struct fleet *f = s->f;
        char ph[64] = "sealrun-ph-";
        uint8_t rnd[16];
        struct lines l = { 0 };

        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(ph + 11, sizeof ph - 11, rnd, sizeof rnd);
        snprintf(f->ca_file, sizeof f->ca_file, "%s/ca.pem", s->lt->dir);
        int fd = -1;
        if (tls_pki_make(&f->pki) < 0 || (fd = open(f->ca_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
            write_all(fd, f->pki.ca_pem, strlen(f->pki.ca_pem)) < 0) {
                if (fd >= 0)
                        close(fd);
                not_applicable(s, "requests that bypass the broker", "cannot make the test CA");
                tls_pki_free(&f->pki);
                return;
        }
        close(fd);

        /* no broker: the placeholder itself reaches the bound server, and
         * each misdirection reaches the server too */
        f->srv_ready = direct_run(s, ph, &l) == 0;
        struct task t = {
                .kind = TK_PROBE, .prof = &s->prof, .tenant = "lt-a", .proxy = true, .exited = true, .rep = l.buf
        };
        snprintf(t.id, sizeof t.id, "self-test-brokered");
        snprintf(t.status, sizeof t.status, "%s/t/none.status", s->lt->dir);
        verdict_egress(f, &t);
        expect(s, R_DELIV_BROKER_TLS, 0, "Authorization check says",
               "a request reaching the bound server with the placeholder instead of the value (no broker)");
        expect(s, R_TRIP_UNBOUND, 0, "forwarded", "the placeholder forwarded to an unbound host over HTTPS");
        expect(s, R_TRIP_PLAIN, 0, "forwarded", "the placeholder forwarded over plain HTTP");
        expect(s, R_TRIP_BODY, 0, "forwarded", "the placeholder forwarded in a request body");
        free(l.buf);

        /* the control of the control: the server accepts the right header */
        struct lines ok = { 0 };
        const struct canary *c = &s->lt->canaries[s->c[C_CRED]];
        char *right = sodium_malloc(c->len + 1);
        bool match = false;
        if (right) {
                memcpy(right, c->val, c->len);
                right[c->len] = '\0';
                if (direct_run(s, right, &ok) == 0 && f->srv.recs)
                        match = strstr(f->srv.recs, " /lt/bound-1 match 0\n") != NULL;
                sodium_free(right);
        }
        if (ok.buf)
                sodium_memzero(ok.buf, ok.len);
        free(ok.buf);
        struct row *r = report_add(&s->lt->report, 13, match ? V_PASS : V_FAIL,
                                   "the bound server says yes to exactly Authorization: Bearer and the sealed value "
                                   "(its no above means something)");
        row_id(&s->lt->report, r, "self-test.bound-server-accepts");
        if (!match)
                row_detail(r, "MISSED: the server did not recognise the right header");
        free(f->srv.recs);
        f->srv.recs = NULL;
        tls_pki_free(&f->pki);
}
