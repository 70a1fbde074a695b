/* Revocation list: one entry per line ("tenant=T [profile=P [version=N]]" or "key=ID"), '#' comments. */
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

static int parse_line(char *line, struct revoke_entry *r) {
        char *save = NULL, *tok;
        int field = 0;
        memset(r, 0, sizeof *r);
        for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save), field++) {
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
                } else if (field == 1 && r->kind == REVOKE_TENANT && strcmp(k, "profile") == 0) {
                        if (!profile_name_valid(v))
                                return -EINVAL;
                        snprintf(r->profile, sizeof r->profile, "%s", v);
                } else if (field == 2 && r->kind == REVOKE_TENANT && strcmp(k, "version") == 0) {
                        long long n;
                        char *end;
                        if (!*v || *v == '-' || *v == '+' || *v == ' ')
                                return -EINVAL;
                        errno = 0;
                        n = strtoll(v, &end, 10);
                        if (errno || *end || n < 1 || n > (1LL << 53) - 1)
                                return -EINVAL;
                        r->has_version = true;
                        r->version = (uint64_t)n;
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
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "revocation-list", "%s:%zu: line too long or not text", name, lineno);
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
                                       "%s:%zu: expected \"tenant=T [profile=P [version=N]]\" or \"key=ID\"", name, lineno);
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
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;
        int r;
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "revocation-list", "%s: cannot open revocation list: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "revocation-list", "%s: revocation list is not a regular file", path);
        /* whoever can write the list can un-revoke a profile */
        if ((r = trusted_file_check(fd, path, "revocation list", "revocation-list-permissions", 0, e)) < 0)
                return r;
        r = read_fd_all(fd, REVOKE_MAX_BYTES, &buf, &len);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "revocation-list", "%s: cannot read revocation list: %s", path, strerror(-r));
        return revocation_parse(path, buf, len, ret, e);
}

int revocation_entry_format(const struct revoke_entry *r, char *buf, size_t size) {
        char id[KEY_ID_HEX];
        int n;
        if (r->kind == REVOKE_KEY) {
                key_id_hex(r->key_id, id);
                n = snprintf(buf, size, "key=%s", id);
        } else if (!r->profile[0])
                n = snprintf(buf, size, "tenant=%s", r->tenant);
        else if (!r->has_version)
                n = snprintf(buf, size, "tenant=%s profile=%s", r->tenant, r->profile);
        else
                n = snprintf(buf, size, "tenant=%s profile=%s version=%llu", r->tenant, r->profile,
                             (unsigned long long)r->version);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

bool revocation_match(const struct revocation_list *l, const struct profile_header *h, char *what, size_t what_size) {
        for (size_t i = 0; l && i < l->n; i++) {
                const struct revoke_entry *r = &l->v[i];
                bool hit;
                if (r->kind == REVOKE_KEY)
                        hit = memcmp(r->key_id, h->recipient, KEY_ID_BYTES) == 0 ||
                              memcmp(r->key_id, h->issuer, KEY_ID_BYTES) == 0;
                else
                        hit = strcmp(r->tenant, h->tenant) == 0 && (!r->profile[0] || strcmp(r->profile, h->profile) == 0) &&
                              (!r->has_version || r->version == h->version);
                if (hit) {
                        if (what && revocation_entry_format(r, what, what_size) < 0 && what_size)
                                what[0] = 0;
                        return true;
                }
        }
        return false;
}
