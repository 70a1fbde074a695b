/* Locked, never-dumped arena for plaintext and keys; wipes on every release. */
#include "policy/secmem.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK_MIN (64u * 1024)
#define ALIGN 16u

struct chunk {
        struct chunk *next;
        uint8_t *base; /* sodium_malloc'd, page aligned */
        size_t size, used;
};

/* Sits in front of every block; 16 bytes so blocks stay 16-byte aligned. */
struct block_hdr {
        struct chunk *chunk;
        size_t size;
};

struct secmem {
        struct chunk *chunks; /* newest first */
        size_t total, limit;
};

int secmem_mlock(const void *addr, size_t len) {
        return (int)syscall(SYS_mlock, addr, len);
}

int secmem_new(size_t limit, struct secmem **ret) {
        struct secmem *m;
        if (sodium_init() < 0)
                return -EIO;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->limit = limit;
        *ret = m;
        return 0;
}

static size_t round_up(size_t n, size_t a) {
        return (n + a - 1) / a * a;
}

static struct chunk *chunk_new(struct secmem *m, size_t need) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t size = need < CHUNK_MIN ? CHUNK_MIN : need;
        struct chunk *c;
        /* grow geometrically so a big document takes few chunks */
        if (m->chunks && m->chunks->size * 2 > size)
                size = m->chunks->size * 2;
        size = round_up(size, page);
        if (m->total + size > m->limit) {
                size = round_up(need, page);
                if (m->total + size > m->limit) {
                        errno = ENOMEM;
                        return NULL;
                }
        }
        c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        /* A page-multiple size makes sodium_malloc return the page-aligned
         * start of its unprotected region, so madvise below applies. */
        c->base = sodium_malloc(size);
        if (!c->base) {
                free(c);
                errno = ENOMEM;
                return NULL;
        }
        /* sodium_malloc tries mlock but ignores a failure (RLIMIT_MEMLOCK):
         * plaintext must not reach swap, so a failure here is fatal. */
        if (secmem_mlock(c->base, size) < 0) {
                int err = errno;
                sodium_free(c->base);
                free(c);
                errno = err;
                return NULL;
        }
        (void)madvise(c->base, size, MADV_DONTDUMP);
        c->size = size;
        c->next = m->chunks;
        m->chunks = c;
        m->total += size;
        return c;
}

void *secmem_alloc(struct secmem *m, size_t n) {
        size_t need;
        struct chunk *c;
        struct block_hdr *h;
        if (!m || n > m->limit)
                return NULL;
        need = sizeof *h + round_up(n ? n : 1, ALIGN);
        c = m->chunks;
        if (!c || c->size - c->used < need) {
                c = chunk_new(m, need);
                if (!c)
                        return NULL;
        }
        h = (struct block_hdr *)(c->base + c->used);
        h->chunk = c;
        h->size = need - sizeof *h;
        c->used += need;
        return h + 1;
}

void secmem_release(struct secmem *m, void *p) {
        struct block_hdr *h;
        struct chunk *c;
        if (!m || !p)
                return;
        h = (struct block_hdr *)p - 1;
        c = h->chunk;
        sodium_memzero(p, h->size);
        if ((uint8_t *)p + h->size == c->base + c->used) {
                c->used -= h->size + sizeof *h;
                sodium_memzero(h, sizeof *h);
        }
}

char *secmem_strndup(struct secmem *m, const char *s, size_t n) {
        char *d = secmem_alloc(m, n + 1);
        if (!d)
                return NULL;
        memcpy(d, s, n);
        d[n] = 0;
        return d;
}

void secmem_destroy(struct secmem *m) {
        if (!m)
                return;
        for (struct chunk *c = m->chunks, *next; c; c = next) {
                next = c->next;
                sodium_free(c->base); /* wipes before unmapping */
                free(c);
        }
        free(m);
}

/* noinline: its frame must lie below the caller's, over the callees' dead
 * frames; not instrumented, so that the array is on the real stack (never on
 * a sanitizer's fake stack) and the wipe is not a use of poisoned bytes. */
__attribute__((noinline, no_sanitize_address)) void secmem_wipe_stack(void) {
        uint8_t dead[SECMEM_STACK_WIPE];
        sodium_memzero(dead, sizeof dead);
        __asm__ __volatile__("" : : "r"(dead) : "memory");
}

static struct secmem *json_arena;

static void *json_arena_malloc(size_t n) {
        return secmem_alloc(json_arena, n);
}

static void json_arena_free(void *p) {
        secmem_release(json_arena, p);
}

void secmem_json_push(struct secmem *m) {
        json_arena = m;
        json_set_alloc_funcs(json_arena_malloc, json_arena_free);
}

void secmem_json_pop(void) {
        json_set_alloc_funcs(malloc, free);
        json_arena = NULL;
}

int secmem_read_fd(struct secmem *m, int fd, size_t max, uint8_t **ret, size_t *ret_len) {
        /* One block of max+1 bytes: no realloc, so no unwiped copies. */
        uint8_t *buf = secmem_alloc(m, max + 1);
        size_t len = 0;
        if (!buf)
                return errno == EAGAIN || errno == EPERM ? -errno : -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + len, max + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        secmem_release(m, buf);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        secmem_release(m, buf);
                        return -EFBIG;
                }
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}
