/* The run's state: owners and canaries (in locked, never-dumped memory), the scanner, and the sink that turns hits into
 * report places. */
#include "helpers/leaktest/leaktest.h"

#include <sodium.h>
#include <string.h>

int lt_owner_new(struct lt *lt, const char *name, const char *tenant) {
        if (lt->n_owners >= LT_MAX_OWNERS)
                return -ENOSPC;
        struct owner *o = &lt->owners[lt->n_owners];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", name);
        snprintf(o->tenant, sizeof o->tenant, "%s", tenant);
        return (int)lt->n_owners++;
}

int lt_canary_new(struct lt *lt, int owner, const char *name, bool binary) {
        if (lt->n_canaries >= LT_MAX_CANARIES || owner < 0 || (size_t)owner >= lt->n_owners)
                return -ENOSPC;
        struct canary *c = &lt->canaries[lt->n_canaries];
        c->len = binary ? CANARY_BIN_LEN : CANARY_TEXT_LEN;
        /* sodium_malloc: locked, MADV_DONTDUMP, guarded; what we ask of sealrun */
        c->val = sodium_malloc(c->len);
        if (!c->val)
                return -ENOMEM;
        if (binary)
                canary_binary(c->val, c->len);
        else
                canary_text(c->val, c->len);
        c->owner = owner;
        char label[CANARY_LABEL_MAX];
        snprintf(label, sizeof label, "%s/%s", lt->owners[owner].name, name);
        memcpy(c->label, label, sizeof label);
        lt->nowhere[lt->n_canaries] = false;
        lt->broker_only[lt->n_canaries] = false;
        return (int)lt->n_canaries++;
}

int lt_scanner_build(struct lt *lt) {
        if (lt->scanner_ready)
                scanner_free(&lt->scanner);
        int r = scanner_init(&lt->scanner, lt->canaries, lt->n_canaries);
        lt->scanner_ready = r == 0;
        return r;
}

void lt_free(struct lt *lt) {
        for (size_t i = 0; i < lt->n_canaries; i++)
                if (lt->canaries[i].val) {
                        sodium_free(lt->canaries[i].val);
                        lt->canaries[i].val = NULL;
                }
        if (lt->scanner_ready)
                scanner_free(&lt->scanner);
        lt->scanner_ready = false;
        report_free(&lt->report);
}

void sink_init(struct sink *k, struct lt *lt, struct row *row, pid_t pid, const char *what, const char *file,
               int allowed_owner) {
        memset(k, 0, sizeof *k);
        k->lt = lt;
        k->row = row;
        k->allowed_owner = allowed_owner;
        k->base.pid = pid;
        k->base.offset = -1;
        snprintf(k->base.what, sizeof k->base.what, "%s", what ? what : "");
        snprintf(k->base.file, sizeof k->base.file, "%s", file ? file : "");
}

static void add_place(struct row *row, const struct place *p) {
        if (!row)
                return;
        if (row->n_places < LT_PLACES_PER_ROW)
                row_fail_place(row, p);
        else
                row->v = V_FAIL;
}

int sink_hit(void *ud, size_t canary, enum lt_enc enc, uint64_t off) {
        struct sink *k = ud;
        struct lt *lt = k->lt;
        const struct canary *c = &lt->canaries[canary];
        struct owner *o = &lt->owners[c->owner];
        struct place p = k->base;
        const struct map_entry *m = k->maps ? maps_find(k->maps, k->n_maps, off) : NULL;

        p.offset = (int64_t)off;
        snprintf(p.enc, sizeof p.enc, "%s", enc_name(enc));
        snprintf(p.cred, sizeof p.cred, "%s", c->label);
        if (m) {
                snprintf(p.file, sizeof p.file, "%s", m->path[0] ? m->path : "[anon]");
                if (m->flags[0]) {
                        size_t l = strlen(p.what);
                        snprintf(p.what + l, sizeof p.what - l, " (VmFlags %s)", m->flags);
                }
        }
        if (o->hits++ == 0)
                o->first = p;
        if (c->owner == k->allowed_owner && (!lt->nowhere[canary] || k->allow_nowhere) &&
            (!lt->broker_only[canary] || k->allow_broker)) {
                k->allowed++;
                /* the decrypting process may hold its plaintext, but only
                 * in pages that are never dumped and never swapped */
                if (k->row_dd && (!m || !map_has_flag(m, "dd")))
                        add_place(k->row_dd, &p);
                if (k->row_lo && (!m || !map_has_flag(m, "lo")))
                        add_place(k->row_lo, &p);
                return 0;
        }
        k->forbidden++;
        if (lt->forbidden[canary]++ == 0)
                lt->first_forbidden[canary] = p;
        add_place(k->row, &p);
        return 0;
}

void sink_scan(struct sink *k, const void *buf, size_t len) {
        scan_buffer(&k->lt->scanner, buf, len, 0, sink_hit, k);
}

struct redact {
        const struct lt *lt;
        size_t n;
        struct {
                uint64_t at;
                size_t len;
                size_t canary;
                enum lt_enc enc;
        } h[8];
};

static int redact_hit(void *ud, size_t canary, enum lt_enc enc, uint64_t off) {
        struct redact *r = ud;
        uint8_t tmp[ENC_OUT_MAX(CANARY_MAX_LEN)];
        const struct canary *c = &r->lt->canaries[canary];
        if (r->n < ELEMENTSOF(r->h))
                r->h[r->n++] = (typeof(r->h[0])){ off, enc_render(enc, c->val, c->len, tmp), canary, enc };
        sodium_memzero(tmp, sizeof tmp);
        return 0;
}

/* A place may name a file whose name is itself a canary: cut such spans. */
void lt_redact(const struct lt *lt, char *s, size_t size) {
        struct redact r = { .lt = lt };
        char out[4096];
        size_t o = 0, i = 0, len = strlen(s);
        if (!lt->scanner_ready || len == 0)
                return;
        scan_buffer(&lt->scanner, (const uint8_t *)s, len, 0, redact_hit, &r);
        if (r.n == 0)
                return;
        for (size_t k = 0; k < r.n; k++) {
                if (r.h[k].at < i)
                        continue;
                size_t keep = (size_t)r.h[k].at - i;
                o += (size_t)snprintf(out + o, o < sizeof out ? sizeof out - o : 0, "%.*s[%s as %s]", (int)keep, s + i,
                                      lt->canaries[r.h[k].canary].label, enc_name(r.h[k].enc));
                i = (size_t)r.h[k].at + r.h[k].len;
        }
        if (o < sizeof out)
                snprintf(out + o, sizeof out - o, "%s", s + i);
        snprintf(s, size, "%s", out);
        sodium_memzero(out, sizeof out);
}

void lt_redact_report(const struct lt *lt, struct report *rep) {
        for (size_t i = 0; i < rep->n; i++) {
                struct row *row = &rep->rows[i];
                lt_redact(lt, row->check, sizeof row->check);
                lt_redact(lt, row->detail, sizeof row->detail);
                for (size_t k = 0; k < row->n_places; k++) {
                        lt_redact(lt, row->places[k].what, sizeof row->places[k].what);
                        lt_redact(lt, row->places[k].file, sizeof row->places[k].file);
                }
        }
}
