/* The run's state: owners and canaries (in locked, never-dumped memory), the scanner, and the sink that turns hits into report places. */
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

void sink_init(struct sink *k, struct lt *lt, struct row *row, pid_t pid, const char *what, const char *file, int allowed_owner) {
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
        if (c->owner == k->allowed_owner && (!lt->nowhere[canary] || k->allow_nowhere)) {
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
