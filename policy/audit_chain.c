/* Per-tenant audit file: JSON lines, each carrying the previous line's hash and its own.
 *
 * Line (one object, fixed key order, no spaces):
 *   {"seq":N,"prev":HEX,"recv":TIME,"peer":{"uid":U,"gid":G,"pid":P},"event":{...},"hash":HEX}
 * hash = BLAKE2b-256 (unkeyed) of the line's bytes with the trailing
 * `,"hash":"HEX"` member removed (so the body ends in "}"); prev = the
 * previous line's hash, 64 zeros for the first line; seq counts from 1. */
#include "policy/audit_chain.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/audit_proto.h"
#include "policy/jsonx.h"

#define HASH_SUFFIX_HEAD ",\"hash\":\""
#define HASH_SUFFIX_LEN (sizeof HASH_SUFFIX_HEAD - 1 + AUDIT_HASH_HEX + 2) /* ,"hash":"HEX"} */

static const char zero_hash[AUDIT_HASH_HEX + 1] = "0000000000000000000000000000000000000000000000000000000000000000";

static void hash_hex(const char *body, size_t len, char out[AUDIT_HASH_HEX + 1]) {
        unsigned char h[AUDIT_HASH_BYTES];
        crypto_generichash(h, sizeof h, (const unsigned char *)body, len, NULL, 0);
        sodium_bin2hex(out, AUDIT_HASH_HEX + 1, h, sizeof h);
}

/* Copy with truncation (messages are for humans; a cut is fine). */
static void set_why(char *why, size_t size, const char *pre, const char *msg) {
        size_t a = strnlen(pre, size - 1), b = strnlen(msg, size - 1 - a);
        memcpy(why, pre, a);
        memcpy(why + a, msg, b);
        why[a + b] = 0;
}

static bool hex_valid(const char *s) {
        if (!s || strlen(s) != AUDIT_HASH_HEX)
                return false;
        for (size_t i = 0; i < AUDIT_HASH_HEX; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static int format_line(uint64_t seq, const char *prev, const char *recv, const struct audit_peer *peer,
                       const char *event_json, char **ret, size_t *ret_len, char ret_hash[AUDIT_HASH_HEX + 1]) {
        char hash[AUDIT_HASH_HEX + 1];
        char *body = NULL, *line;
        int n, m;
        n = asprintf(&body,
                     "{\"seq\":%llu,\"prev\":\"%s\",\"recv\":\"%s\",\"peer\":{\"uid\":%u,\"gid\":%u,\"pid\":%d},"
                     "\"event\":%s}",
                     (unsigned long long)seq, prev, recv, (unsigned)peer->uid, (unsigned)peer->gid, (int)peer->pid,
                     event_json);
        if (n < 0)
                return -ENOMEM;
        hash_hex(body, (size_t)n, hash);
        body[n - 1] = 0; /* drop the closing brace; the hash member closes the object */
        m = asprintf(&line, "%s" HASH_SUFFIX_HEAD "%s\"}\n", body, hash);
        free(body);
        if (m < 0)
                return -ENOMEM;
        if ((size_t)m > AUDIT_LINE_MAX) {
                free(line);
                return -EMSGSIZE;
        }
        if (ret_hash)
                memcpy(ret_hash, hash, sizeof hash);
        *ret = line;
        *ret_len = (size_t)m;
        return 0;
}

int audit_chain_format(uint64_t seq, const char *prev, const char *recv, const struct audit_peer *peer,
                       const char *event_json, char **ret, size_t *ret_len) {
        return format_line(seq, prev, recv, peer, event_json, ret, ret_len, NULL);
}

/* Check one line (without its '\n') on its own: layout, JSON, own hash, event.
 * Fills seq, prev and hash; why gets the problem. */
static int check_line(const char *line, size_t len, const char *tenant, uint64_t *ret_seq,
                      char ret_prev[AUDIT_HASH_HEX + 1], char ret_hash[AUDIT_HASH_HEX + 1], char *why,
                      size_t why_size) {
        static const char *const keys[] = { "seq", "prev", "recv", "peer", "event", "hash", NULL };
        static const char *const peer_keys[] = { "uid", "gid", "pid", NULL };
        struct sr_error e = { 0 };
        struct jx x = { .file = "line", .e = &e, .secret = true };
        const char *prev, *recv, *hash;
        long long seq, id;
        json_t *doc = NULL, *peer, *event;
        struct audit_event ev;
        char *ej = NULL, *body = NULL, computed[AUDIT_HASH_HEX + 1];
        int r = -EBADMSG;

        if (len < HASH_SUFFIX_LEN + 2 ||
            memcmp(line + len - HASH_SUFFIX_LEN, HASH_SUFFIX_HEAD, sizeof HASH_SUFFIX_HEAD - 1) ||
            memcmp(line + len - 2, "\"}", 2)) {
                snprintf(why, why_size, "does not end with the \"hash\" member");
                return -EBADMSG;
        }
        if (jx_load(&x, line, len, &doc) < 0 || jx_object(&x, doc, "$", keys) < 0 ||
            jx_int(&x, doc, "$", "seq", true, 1, 1LL << 53, &seq) < 0 ||
            jx_string(&x, doc, "$", "prev", true, &prev) < 0 || jx_string(&x, doc, "$", "recv", true, &recv) < 0 ||
            jx_string(&x, doc, "$", "hash", true, &hash) < 0) {
                set_why(why, why_size, "", e.msg);
                goto out;
        }
        peer = json_object_get(doc, "peer");
        if (jx_object(&x, peer, "$.peer", peer_keys) < 0 ||
            jx_int(&x, peer, "$.peer", "uid", true, 0, 0xffffffffLL, &id) < 0 ||
            jx_int(&x, peer, "$.peer", "gid", true, 0, 0xffffffffLL, &id) < 0 ||
            jx_int(&x, peer, "$.peer", "pid", true, 0, 4194304, &id) < 0) {
                set_why(why, why_size, "", e.msg);
                goto out;
        }
        if (!hex_valid(prev) || !hex_valid(hash) || !audit_time_valid(recv)) {
                snprintf(why, why_size, "line: $.prev, $.hash or $.recv malformed");
                goto out;
        }
        /* the hashed body is the line minus the hash member, closed again */
        if (!(body = malloc(len - HASH_SUFFIX_LEN + 2))) {
                r = -ENOMEM;
                goto out;
        }
        memcpy(body, line, len - HASH_SUFFIX_LEN);
        body[len - HASH_SUFFIX_LEN] = '}';
        hash_hex(body, len - HASH_SUFFIX_LEN + 1, computed);
        if (strcmp(computed, hash) != 0 || memcmp(line + len - 2 - AUDIT_HASH_HEX, hash, AUDIT_HASH_HEX) != 0) {
                snprintf(why, why_size, "hash does not match the line's contents (line edited)");
                goto out;
        }
        event = json_object_get(doc, "event");
        if (!event || !(ej = json_dumps(event, JSON_COMPACT))) {
                snprintf(why, why_size, "line: $.event: missing");
                goto out;
        }
        if (audit_event_decode(ej, strlen(ej), &ev, &e) < 0) {
                set_why(why, why_size, "event: ", e.msg);
                goto out;
        }
        if (tenant && (strcmp(tenant, AUDIT_GLOBAL_NAME) == 0 ? ev.tenant != NULL
                                                              : !ev.tenant || strcmp(ev.tenant, tenant) != 0)) {
                snprintf(why, why_size, "event belongs to another tenant than the file");
                audit_event_free(&ev);
                goto out;
        }
        audit_event_free(&ev);
        *ret_seq = (uint64_t)seq;
        memcpy(ret_prev, prev, AUDIT_HASH_HEX + 1);
        memcpy(ret_hash, hash, AUDIT_HASH_HEX + 1);
        r = 0;
out:
        free(body);
        free(ej);
        json_decref(doc);
        return r;
}

int audit_chain_verify(int fd, const char *tenant, struct audit_verify_result *ret) {
        return audit_chain_verify_from(fd, tenant, 1, zero_hash, ret);
}

int audit_chain_verify_from(int fd, const char *tenant, uint64_t start_seq, const char *start_head,
                            struct audit_verify_result *ret) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        FILE *f;
        int dfd;
        uint64_t expect = start_seq, no = 0;

        memset(ret, 0, sizeof *ret);
        memcpy(ret->head, start_head ? start_head : zero_hash, sizeof ret->head);
        if ((dfd = dup(fd)) < 0)
                return -errno;
        if (lseek(dfd, 0, SEEK_SET) < 0 || !(f = fdopen(dfd, "r"))) {
                int r = -errno;
                close(dfd);
                return r;
        }
        while ((n = getline(&line, &cap, f)) > 0) {
                uint64_t seq;
                char prev[AUDIT_HASH_HEX + 1], hash[AUDIT_HASH_HEX + 1];
                ret->bad_line = ++no;
                if (line[n - 1] != '\n') {
                        snprintf(ret->why, sizeof ret->why, "incomplete line (no newline at the end of the file)");
                        break;
                }
                if ((size_t)n - 1 > AUDIT_LINE_MAX) {
                        snprintf(ret->why, sizeof ret->why, "line longer than %d bytes", AUDIT_LINE_MAX);
                        break;
                }
                if (memchr(line, 0, (size_t)n)) {
                        snprintf(ret->why, sizeof ret->why, "line contains a NUL byte");
                        break;
                }
                if (check_line(line, (size_t)n - 1, tenant, &seq, prev, hash, ret->why, sizeof ret->why) < 0)
                        break;
                if (expect == 0) {
                        /* a rotated file on its own: it continues an earlier one */
                        expect = seq;
                        memcpy(ret->head, prev, sizeof prev);
                }
                if (seq != expect) {
                        snprintf(ret->why, sizeof ret->why, "sequence %llu where %llu was expected (%s)",
                                 (unsigned long long)seq, (unsigned long long)expect,
                                 no == 1 && start_seq > 1
                                         ? "the previous file of the series is missing, or files are out of order"
                                 : no == 1 && start_seq == 1 ? "the series' earlier files are missing"
                                                             : "line missing or moved");
                        break;
                }
                if (strcmp(prev, ret->head) != 0) {
                        snprintf(ret->why, sizeof ret->why,
                                 "\"prev\" does not match the previous %s's hash (%s missing, moved or edited)",
                                 no == 1 ? "file's last line" : "line", no == 1 ? "file" : "line");
                        break;
                }
                memcpy(ret->head, hash, sizeof hash);
                if (no == 1)
                        ret->first_seq = seq;
                ret->last_seq = seq;
                ret->lines = no;
                expect++;
                ret->bad_line = 0;
        }
        if (ferror(f) && ret->bad_line == 0) {
                fclose(f);
                return -EIO;
        }
        fclose(f);
        return 0;
}

static unsigned last_rotated(int dirfd, const char *name);

bool audit_chain_rotate_due(const struct audit_chain *c, int64_t max_bytes, int64_t max_age_ms) {
        if (c->size == 0)
                return false;
        return (max_bytes > 0 && c->size >= max_bytes) ||
               (max_age_ms > 0 && c->first_ms > 0 && now_ms() - c->first_ms >= max_age_ms);
}

int audit_chain_rotate(struct audit_chain *c, struct sr_error *e) {
        char fn[128], rn[160];
        unsigned next = last_rotated(c->dirfd, c->name) + 1;
        int fd, r;
        /* lines written but not yet synced belong to the file being closed */
        if ((r = audit_chain_sync(c, e)) < 0)
                return r;
        snprintf(fn, sizeof fn, "%s.jsonl", c->name);
        snprintf(rn, sizeof rn, "%s.jsonl.%0*u", c->name, AUDIT_ROTATED_DIGITS, next);
        if (next >= 1000000)
                return sr_fail(e, SR_EXIT_TEMPFAIL, EMFILE, "io-error", "%s: too many rotated files", fn);
        /* renameat2 NOREPLACE: never overwrite an earlier file of the series */
        if (renameat2(c->dirfd, fn, c->dirfd, rn, RENAME_NOREPLACE) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "io-error", "%s: cannot rotate to %s: %m", fn, rn);
        fd = openat(c->dirfd, fn, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0 || fsync(c->dirfd) < 0) {
                int err = errno;
                if (fd >= 0)
                        close(fd);
                errno = err;
                return sr_fail(e, SR_EXIT_TEMPFAIL, err, "io-error", "%s: cannot start a new file after rotating: %m",
                               fn);
        }
        close(c->fd);
        c->fd = fd;
        c->size = 0;
        c->first_ms = 0;
        return 0;
}

void audit_chain_close(struct audit_chain *c) {
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

/* Load seq/head from the last line; cut a torn (never acknowledged) tail. */
static int chain_load_tail(struct audit_chain *c, const char *name, struct sr_error *e) {
        const size_t want = 2 * AUDIT_LINE_MAX + 2;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        off_t off;
        size_t len, end, start;
        char prev[AUDIT_HASH_HEX + 1], why[256];
        ssize_t n;

        if (fstat(c->fd, &st) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "io-error", "%s.jsonl: %m", name);
        if (!S_ISREG(st.st_mode))
                return sr_fail(e, SR_EXIT_TEMPFAIL, EINVAL, "io-error", "%s.jsonl: not a regular file", name);
        c->seq = 0;
        memcpy(c->head, zero_hash, sizeof c->head);
        if (st.st_size == 0)
                return 0;
        len = (size_t)st.st_size < want ? (size_t)st.st_size : want;
        off = st.st_size - (off_t)len;
        if (!(buf = malloc(len)))
                return sr_fail(e, SR_EXIT_TEMPFAIL, ENOMEM, "nomem", "out of memory");
        if ((n = pread(c->fd, buf, len, off)) != (ssize_t)len)
                return sr_fail(e, SR_EXIT_TEMPFAIL, n < 0 ? errno : EIO, "io-error", "%s.jsonl: short read", name);
        end = len;
        if (buf[end - 1] != '\n') {
                /* a write cut short (crash, full disk) was never acknowledged: drop it */
                while (end > 0 && buf[end - 1] != '\n')
                        end--;
                if (end == 0 && off > 0)
                        return sr_fail(e, SR_EXIT_TEMPFAIL, EBADMSG, "chain-broken", "%s.jsonl: last line too long",
                                       name);
                if (ftruncate(c->fd, off + (off_t)end) < 0 || fdatasync(c->fd) < 0)
                        return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "io-error",
                                       "%s.jsonl: cannot drop a torn last line: %m", name);
                if (off + (off_t)end == 0)
                        return 0;
        }
        start = end - 1;
        while (start > 0 && buf[start - 1] != '\n')
                start--;
        if (start == 0 && off > 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, EBADMSG, "chain-broken", "%s.jsonl: last line too long", name);
        if (check_line(buf + start, end - 1 - start, name, &c->seq, prev, c->head, why, sizeof why) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, EBADMSG, "chain-broken",
                               "%s.jsonl: last line is broken (%s); not extending the chain, move the file aside", name,
                               why);
        return 0;
}

unsigned audit_chain_rotated_index(const char *fn, const char *name) {
        size_t n = strlen(name);
        unsigned v = 0;
        if (strncmp(fn, name, n) != 0 || strncmp(fn + n, ".jsonl.", 7) != 0 ||
            strlen(fn + n + 7) != AUDIT_ROTATED_DIGITS)
                return 0;
        for (const char *p = fn + n + 7; *p; p++) {
                if (*p < '0' || *p > '9')
                        return 0;
                v = v * 10 + (unsigned)(*p - '0');
        }
        return v;
}

/* Highest rotated file number of name in dirfd (0: none). */
static unsigned last_rotated(int dirfd, const char *name) {
        int dfd = dup(dirfd);
        unsigned best = 0;
        struct dirent *de;
        DIR *d;
        if (dfd < 0 || !(d = fdopendir(dfd))) {
                if (dfd >= 0)
                        close(dfd);
                return 0;
        }
        rewinddir(d);
        while ((de = readdir(d))) {
                unsigned i = audit_chain_rotated_index(de->d_name, name);
                best = i > best ? i : best;
        }
        closedir(d);
        return best;
}

/* Receive time of the live file's first line, in ms (0 when unknown). */
static int64_t first_line_ms(int fd) {
        char buf[512], *p;
        struct tm tm = { 0 };
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        if (!(p = strstr(buf, "\"recv\":\"")) || !strptime(p + 8, "%Y-%m-%dT%H:%M:%S", &tm))
                return 0;
        return (int64_t)timegm(&tm) * 1000;
}

int audit_chain_open(int dirfd, const char *name, struct audit_chain *ret, struct sr_error *e) {
        char fn[128];
        struct audit_chain c = { .fd = -1, .dirfd = dirfd };
        struct stat st;
        unsigned last;
        int r;
        if (snprintf(fn, sizeof fn, "%s.jsonl", name) >= (int)sizeof fn || strlen(name) >= sizeof c.name)
                return sr_fail(e, SR_EXIT_TEMPFAIL, ENAMETOOLONG, "bad-message", "tenant name too long");
        snprintf(c.name, sizeof c.name, "%s", name);
        c.fd = openat(dirfd, fn, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (c.fd < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "io-error", "%s: cannot open: %m", fn);
        if ((r = chain_load_tail(&c, name, e)) < 0) {
                audit_chain_close(&c);
                return r;
        }
        /* an empty live file after a rotation: the chain goes on from the newest rotated file */
        if (c.seq == 0 && (last = last_rotated(dirfd, name)) > 0) {
                struct audit_chain prev = { .fd = -1 };
                char rn[160];
                snprintf(rn, sizeof rn, "%s.jsonl.%0*u", name, AUDIT_ROTATED_DIGITS, last);
                prev.fd = openat(dirfd, rn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                r = prev.fd < 0 ? sr_fail(e, SR_EXIT_TEMPFAIL, errno, "io-error", "%s: cannot open: %m", rn)
                                : chain_load_tail(&prev, name, e);
                audit_chain_close(&prev);
                if (r < 0) {
                        audit_chain_close(&c);
                        return r;
                }
                c.seq = prev.seq;
                memcpy(c.head, prev.head, sizeof c.head);
        }
        if (fstat(c.fd, &st) == 0)
                c.size = st.st_size;
        c.first_ms = c.size > 0 ? first_line_ms(c.fd) : 0;
        /* a new file's directory entry must be durable before its first ack */
        if (c.seq == 0 && fsync(dirfd) < 0) {
                r = sr_fail(e, SR_EXIT_TEMPFAIL, errno, "io-error", "%s: cannot sync the directory: %m", fn);
                audit_chain_close(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int audit_chain_write(struct audit_chain *c, const struct audit_peer *peer, const char *event_json, uint64_t *ret_seq,
                      struct sr_error *e) {
        _cleanup_free_ char *line = NULL;
        char recv[AUDIT_TIME_MAX], hash[AUDIT_HASH_HEX + 1];
        size_t len;
        off_t size;
        int r;

        audit_time_now(recv);
        if ((r = format_line(c->seq + 1, c->head, recv, peer, event_json, &line, &len, hash)) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, -r, r == -EMSGSIZE ? "too-large" : "nomem",
                               "line too large or out of memory");
        if ((size = lseek(c->fd, 0, SEEK_END)) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "io-error", "cannot seek: %m");
        if (!c->pending) {
                /* the state a failed sync goes back to */
                c->synced_size = size;
                c->synced_seq = c->seq;
                memcpy(c->synced_head, c->head, sizeof c->head);
                c->synced_first_ms = c->first_ms;
        }
        if ((r = write_all(c->fd, line, len)) < 0) {
                /* nothing was acknowledged: take the partial line back out (earlier lines stay) */
                if (ftruncate(c->fd, size) == 0 && !c->pending)
                        (void)fdatasync(c->fd);
                errno = -r;
                return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "write-failed", "cannot write the audit line: %m");
        }
        c->seq++;
        c->pending++;
        memcpy(c->head, hash, sizeof hash);
        if (c->size == 0)
                c->first_ms = now_ms();
        c->size = (int64_t)size + (int64_t)len;
        if (ret_seq)
                *ret_seq = c->seq;
        return 0;
}

int audit_chain_sync(struct audit_chain *c, struct sr_error *e) {
        int err;
        if (!c->pending)
                return 0;
        if (fdatasync(c->fd) == 0) {
                c->pending = 0;
                return 0;
        }
        err = errno;
        /* none of the batch may be acknowledged: cut it all back out */
        if (ftruncate(c->fd, c->synced_size) == 0)
                (void)fdatasync(c->fd);
        c->seq = c->synced_seq;
        memcpy(c->head, c->synced_head, sizeof c->head);
        c->size = c->synced_size;
        c->first_ms = c->synced_first_ms;
        c->pending = 0;
        c->rollbacks++;
        errno = err;
        return sr_fail(e, SR_EXIT_TEMPFAIL, err, "write-failed", "cannot sync the audit file: %m");
}

int audit_chain_append(struct audit_chain *c, const struct audit_peer *peer, const char *event_json, uint64_t *ret_seq,
                       struct sr_error *e) {
        int r = audit_chain_write(c, peer, event_json, ret_seq, e);
        if (r == 0)
                r = audit_chain_sync(c, e);
        return r;
}
