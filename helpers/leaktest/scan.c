/* The canary scanner: every encoding of every canary, found in one pass over a buffer or a stream of chunks. */
#include "helpers/leaktest/leaktest.h"

#include <sodium.h>
#include <string.h>

#define HASH_BITS 16
#define NO_PAT UINT32_MAX
/* Patterns are looked up by their first KEY bytes; every pattern is at least this long. */
#define KEY 4

struct pattern {
        const uint8_t *b;
        uint32_t len;
        uint32_t canary;
        uint32_t next; /* next pattern in the same bucket */
        enum lt_enc enc;
};

static uint32_t key_hash(const uint8_t *p) {
        uint32_t x;
        memcpy(&x, p, sizeof x);
        return (x * 0x9E3779B1u) >> (32 - HASH_BITS);
}

int scanner_init(struct scanner *s, const struct canary *c, size_t n) {
        size_t total = 0, np = 0;

        memset(s, 0, sizeof *s);
        for (size_t i = 0; i < n; i++)
                total += ENC__MAX * ENC_OUT_MAX(c[i].len);
        s->pats = calloc(n * ENC__MAX + 1, sizeof *s->pats);
        s->heads = malloc(sizeof(uint32_t) << HASH_BITS);
        s->bits = calloc((1u << HASH_BITS) / 64, sizeof(uint64_t));
        /* the rendered patterns are as secret as the canaries */
        s->bytes = sodium_malloc(total + 1);
        if (!s->pats || !s->heads || !s->bits || !s->bytes) {
                scanner_free(s);
                return -ENOMEM;
        }
        s->bytes_size = total + 1;
        memset(s->heads, 0xff, sizeof(uint32_t) << HASH_BITS);
        s->n_canaries = n;
        s->minlen = SIZE_MAX;

        uint8_t *w = s->bytes;
        for (size_t i = 0; i < n; i++) {
                size_t first = np;
                for (int e = 0; e < ENC__MAX; e++) {
                        size_t len = enc_render((enum lt_enc)e, c[i].val, c[i].len, w);
                        bool dup = false;
                        if (len < 8) /* too short to be told from chance */
                                continue;
                        for (size_t k = first; k < np && !dup; k++)
                                dup = s->pats[k].len == len && memcmp(s->pats[k].b, w, len) == 0;
                        if (dup)
                                continue;
                        s->pats[np] = (struct pattern){
                                .b = w, .len = (uint32_t)len, .canary = (uint32_t)i, .enc = (enum lt_enc)e
                        };
                        w += len;
                        if (len < s->minlen)
                                s->minlen = len;
                        if (len > s->maxlen)
                                s->maxlen = len;
                        np++;
                }
        }
        s->n_pats = np;
        /* Buckets keep longer patterns first, so a full copy is reported
         * before the half-canary inside it (which is then suppressed). */
        for (size_t k = np; k-- > 0;) {
                uint32_t h = key_hash(s->pats[k].b);
                uint32_t *link = &s->heads[h];
                while (*link != NO_PAT && s->pats[*link].len > s->pats[k].len)
                        link = &s->pats[*link].next;
                s->pats[k].next = *link;
                *link = (uint32_t)k;
                s->bits[h / 64] |= 1ull << (h % 64);
        }
        if (np == 0)
                s->minlen = s->maxlen = KEY;
        return 0;
}

void scanner_free(struct scanner *s) {
        if (s->bytes)
                sodium_free(s->bytes);
        free(s->pats);
        free(s->heads);
        free(s->bits);
        memset(s, 0, sizeof *s);
}

/* Try the positions [0, limit) of buf[0..len), whose first byte is at
 * stream offset base (bytes past limit are lookahead). */
static void scan_range(struct scan_stream *st, const uint8_t *buf, size_t len, size_t limit, uint64_t base) {
        const struct scanner *s = st->s;
        if (len < s->minlen || limit == 0 || st->stopped)
                return;
        size_t last = len - s->minlen;
        if (limit <= last)
                last = limit - 1;
        for (size_t i = 0; i <= last; i++) {
                uint32_t h = key_hash(buf + i);
                if (!(s->bits[h / 64] & (1ull << (h % 64))))
                        continue;
                for (uint32_t k = s->heads[h]; k != NO_PAT; k = s->pats[k].next) {
                        const struct pattern *p = &s->pats[k];
                        uint64_t at = base + i;
                        if (p->len > len - i || memcmp(buf + i, p->b, p->len) != 0)
                                continue;
                        /* positions only grow: a hit ending within the last
                         * one of its canary lies inside it (a half-canary) */
                        if (at + p->len <= st->last_end[p->canary])
                                continue; /* inside a hit already reported */
                        st->last_end[p->canary] = at + p->len;
                        st->hits++;
                        if (st->cb && st->cb(st->ud, p->canary, p->enc, at)) {
                                st->stopped = true;
                                return;
                        }
                }
        }
}

int scan_stream_init(struct scan_stream *st, const struct scanner *s, scan_hit_fn cb, void *ud) {
        memset(st, 0, sizeof *st);
        st->s = s;
        st->cb = cb;
        st->ud = ud;
        st->carry = malloc(2 * s->maxlen + 1);
        st->last_end = calloc(s->n_canaries + 1, sizeof *st->last_end);
        if (!st->carry || !st->last_end) {
                scan_stream_free(st);
                return -ENOMEM;
        }
        return 0;
}

void scan_stream_reset(struct scan_stream *st, uint64_t base) {
        if (st->carry)
                sodium_memzero(st->carry, 2 * st->s->maxlen + 1);
        st->n_carry = 0;
        st->pos = base;
        st->hits = 0;
        st->stopped = false;
        memset(st->last_end, 0, (st->s->n_canaries + 1) * sizeof *st->last_end);
}

/* A position is decided once maxlen bytes from it are known (or the stream
 * ended): then every pattern starting there is tried at once, longest first,
 * and hits come out in stream order. The undecided tail is carried over. */
void scan_stream_feed(struct scan_stream *st, const uint8_t *buf, size_t len) {
        const struct scanner *s = st->s;
        size_t keep = s->maxlen - 1;

        if (len == 0 || st->stopped)
                return;
        if (st->n_carry > 0) {
                size_t add = len < keep ? len : keep;
                size_t decided = st->n_carry + len >= s->maxlen ? st->n_carry + len - s->maxlen + 1 : 0;
                if (decided > st->n_carry)
                        decided = st->n_carry;
                memcpy(st->carry + st->n_carry, buf, add);
                scan_range(st, st->carry, st->n_carry + add, decided, st->pos - st->n_carry);
        }
        scan_range(st, buf, len, len >= s->maxlen ? len - s->maxlen + 1 : 0, st->pos);
        st->pos += len;
        /* new tail: the last `keep` bytes of (old tail ‖ buf) */
        if (len >= keep) {
                memcpy(st->carry, buf + len - keep, keep);
                st->n_carry = keep;
        } else {
                size_t from_old = st->n_carry + len > keep ? keep - len : st->n_carry;
                memmove(st->carry, st->carry + st->n_carry - from_old, from_old);
                memcpy(st->carry + from_old, buf, len);
                st->n_carry = from_old + len;
        }
}

void scan_stream_finish(struct scan_stream *st) {
        if (st->n_carry > 0 && !st->stopped)
                scan_range(st, st->carry, st->n_carry, st->n_carry, st->pos - st->n_carry);
        st->n_carry = 0;
}

void scan_stream_free(struct scan_stream *st) {
        if (st->carry && st->s)
                sodium_memzero(st->carry, 2 * st->s->maxlen + 1);
        free(st->carry);
        free(st->last_end);
        st->carry = NULL;
        st->last_end = NULL;
}

size_t scan_buffer(const struct scanner *s, const uint8_t *buf, size_t len, uint64_t base, scan_hit_fn cb, void *ud) {
        struct scan_stream st;
        size_t hits;
        if (scan_stream_init(&st, s, cb, ud) < 0)
                return 0;
        st.pos = base;
        scan_stream_feed(&st, buf, len);
        scan_stream_finish(&st);
        hits = st.hits;
        scan_stream_free(&st);
        return hits;
}
