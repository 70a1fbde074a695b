/* Revocation list: one entry per line ("tenant=T [profile=P [version=N|version<N]]" or "key=ID", then [reason=CODE]),
 * '#' comments. */
#include "policy/profile.h"
#include "policy/trusted_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define REVOKE_MAX_BYTES (16u << 20)

void revocation_free(struct revocation_list *l) {
        if (!l)
                return;
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

bool revocation_reason_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 64)
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr("_.:-", *c)))
                        return false;
        return true;
}

/* A version bound: decimal, no sign or leading zero, 1..2^53-1. */
static int parse_version(const char *v, uint64_t *ret) {
        long long n;
        char *end;
        if (!*v || *v < '1' || *v > '9')
                return -EINVAL;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || *end || n < 1 || n > (1LL << 53) - 1)
                return -EINVAL;
        *ret = (uint64_t)n;
        return 0;
}

/* Fields in a fixed order: the selector (key= or tenant= [profile= [version=
 * or version<]]), then an optional reason= last. Anything else is an error:
 * a list that parses loosely can revoke less than its author meant. */
static int parse_line(char *line, struct revoke_entry *r) {
        char *save = NULL, *tok;
        int field = 0;
        bool reason = false;
        memset(r, 0, sizeof *r);
        for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save), field++) {
                if (reason)
                        return -EINVAL; /* reason= is the last field */
                if (field == 2 && r->kind == REVOKE_TENANT && r->profile[0] && strncmp(tok, "version<", 8) == 0) {
                        if (parse_version(tok + 8, &r->version) < 0 || r->version < 2)
                                return -EINVAL; /* version<1 would revoke nothing */
                        r->has_version = r->version_below = true;
                        continue;
                }
                char *eq = strchr(tok, '=');
                if (!eq)
                        return -EINVAL;
                *eq = 0;
                const char *k = tok, *v = eq + 1;
                if (field == 0 && strcmp(k, "key") == 0) {
                        r->kind = REVOKE_KEY;
                        if (key_id_parse(v, r->key_id) < 0)
                                return -EINVAL;
                } else if (field == 0 && strcmp(k, "tenant") == 0) {
                        r->kind = REVOKE_TENANT;
                        if (!slug_valid(v))
                                return -EINVAL;
                        snprintf(r->tenant, sizeof r->tenant, "%s", v);
                } else if (field > 0 && strcmp(k, "reason") == 0) {
                        if (!revocation_reason_valid(v))
                                return -EINVAL;
                        snprintf(r->reason, sizeof r->reason, "%s", v);
                        reason = true;
                } else if (field == 1 && r->kind == REVOKE_TENANT && strcmp(k, "profile") == 0) {
                        if (!profile_name_valid(v))
                                return -EINVAL;
                        snprintf(r->profile, sizeof r->profile, "%s", v);
                } else if (field == 2 && r->kind == REVOKE_TENANT && strcmp(k, "version") == 0) {
                        if (parse_version(v, &r->version) < 0)
                                return -EINVAL;
                        r->has_version = true;
                } else
                        return -EINVAL;
        }
        return field == 0 ? -ENODATA : 0;
}

int revocation_parse(const char *name, const char *buf, size_t len, struct revocation_list *ret, struct sr_error *e) {
        struct revocation_list l = { 0 };
        size_t cap = 0, lineno = 0;
        const char *p = buf, *end = buf + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                char line[512];
                struct revoke_entry r;
                int k;
                lineno++;
                if (n >= sizeof line || memchr(p, 0, n)) {
                        revocation_free(&l);
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "revocation-list",
                                       "%s:%zu: line too long or not text", name, lineno);
                }
                memcpy(line, p, n);
                line[n] = 0;
                p += n + 1;
                if (line[strspn(line, " \t")] == '#')
                        continue;
                k = parse_line(line, &r);
                if (k == -ENODATA)
                        continue;
                if (k < 0) {
                        revocation_free(&l);
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "revocation-list",
                                       "%s:%zu: expected \"tenant=T [profile=P [version=N|version<N]]\" or \"key=ID\", "
                                       "then an optional \"reason=CODE\"",
                                       name, lineno);
                }
                if (l.n == cap) {
                        struct revoke_entry *nv;
                        cap = cap ? cap * 2 : 16;
                        nv = realloc(l.v, cap * sizeof *nv);
                        if (!nv) {
                                revocation_free(&l);
                                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
                        }
                        l.v = nv;
                }
                l.v[l.n++] = r;
        }
        *ret = l;
        return 0;
}

int revocation_load(const char *path, struct revocation_list *ret, struct sr_error *e) {
        /* whoever can write the list can un-revoke a profile */
        static const struct trusted_read how = { .what = "revocation list",
                                                 .reason = "revocation-list",
                                                 .perm_reason = "revocation-list-permissions",
                                                 .open_flags = O_NOFOLLOW,
                                                 .max = REVOKE_MAX_BYTES };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = trusted_file_read(path, &how, &buf, &len, e);
        return r < 0 ? r : revocation_parse(path, buf, len, ret, e);
}

int revocation_entry_format(const struct revoke_entry *r, char *buf, size_t size) {
        char id[KEY_ID_HEX], sel[256];
        int n;
        if (r->kind == REVOKE_KEY) {
                key_id_hex(r->key_id, id);
                n = snprintf(sel, sizeof sel, "key=%s", id);
        } else if (!r->profile[0])
                n = snprintf(sel, sizeof sel, "tenant=%s", r->tenant);
        else if (!r->has_version)
                n = snprintf(sel, sizeof sel, "tenant=%s profile=%s", r->tenant, r->profile);
        else
                n = snprintf(sel, sizeof sel, "tenant=%s profile=%s version%c%llu", r->tenant, r->profile,
                             r->version_below ? '<' : '=', (unsigned long long)r->version);
        if (n < 0 || (size_t)n >= sizeof sel)
                return -ENOBUFS;
        n = snprintf(buf, size, "%s%s%s", sel, r->reason[0] ? " reason=" : "", r->reason);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

/* The versions an entry reaches: [lo, hi), hi 0 = no upper bound. */
static void version_range(const struct revoke_entry *r, uint64_t *lo, uint64_t *hi) {
        *lo = r->has_version && !r->version_below ? r->version : 0;
        *hi = !r->has_version ? 0 : r->version_below ? r->version : r->version + 1;
}

bool revocation_entry_covers(const struct revoke_entry *a, const struct revoke_entry *b) {
        uint64_t alo, ahi, blo, bhi;
        if (a->kind != b->kind)
                return false;
        if (a->kind == REVOKE_KEY)
                return memcmp(a->key_id, b->key_id, KEY_ID_BYTES) == 0;
        if (strcmp(a->tenant, b->tenant) != 0)
                return false;
        if (!a->profile[0])
                return true;
        if (strcmp(a->profile, b->profile) != 0)
                return false;
        version_range(a, &alo, &ahi);
        version_range(b, &blo, &bhi);
        return alo <= blo && (ahi == 0 || (bhi != 0 && bhi <= ahi));
}

bool revocation_match(const struct revocation_list *l, const struct profile_header *h, char *what, size_t what_size) {
        for (size_t i = 0; l && i < l->n; i++) {
                const struct revoke_entry *r = &l->v[i];
                bool hit;
                if (r->kind == REVOKE_KEY)
                        hit = memcmp(r->key_id, h->recipient, KEY_ID_BYTES) == 0 ||
                              memcmp(r->key_id, h->issuer, KEY_ID_BYTES) == 0;
                else
                        hit = strcmp(r->tenant, h->tenant) == 0 &&
                              (!r->profile[0] || strcmp(r->profile, h->profile) == 0) &&
                              (!r->has_version ||
                               (r->version_below ? h->version < r->version : r->version == h->version));
                if (hit) {
                        if (what && revocation_entry_format(r, what, what_size) < 0 && what_size)
                                what[0] = 0;
                        return true;
                }
        }
        return false;
}
