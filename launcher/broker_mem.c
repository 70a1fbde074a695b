/* OpenSSL's allocator for sealrun: every block wiped on free; in the broker, large blocks locked and never dumped. */
#include "launcher/broker_mem.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/secmem.h"

#define HDR_MAGIC_HEAP 0x4d524248u   /* "HBRM" */
#define HDR_MAGIC_LOCKED 0x4d52424cu /* "LBRM" */

/* In front of every block; 16 bytes keep malloc's alignment for the block. */
struct hdr {
        size_t size; /* the caller's bytes */
        uint32_t magic;
        uint32_t map_pages; /* locked: the mapping's length in pages */
};
_Static_assert(sizeof(struct hdr) == 16, "header keeps 16-byte alignment");

/* Freed locked mappings, wiped, kept for the next block of the same size:
 * an mmap, mlock and munmap per block (each munmap likely a TLB shootdown
 * across the broker's threads) measured about +15 ms per brokered request
 * on a loaded 2-vCPU VM without the cache. At most CACHE_MAX bytes; dropped
 * first when a new mapping cannot be locked, so the cache never refuses a
 * connection. */
#define CACHE_MAX (1024u * 1024)
struct cached {
        struct cached *next;
        size_t len;
};
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached *cache;
static size_t cache_bytes;

static atomic_bool lock_on;
static atomic_size_t locked, locked_peak;
static _Thread_local bool lock_failed;

static size_t page_size(void) {
        static size_t page;
        if (!page)
                page = (size_t)sysconf(_SC_PAGESIZE);
        return page;
}

static void wipe(void *p, size_t n) {
        OPENSSL_cleanse(p, n); /* not optimised away */
}

static struct hdr *hdr_of(const void *p) {
        struct hdr *h = (struct hdr *)p - 1;
        /* a block not ours would be freed into the wrong allocator: stop */
        if (h->magic != HDR_MAGIC_HEAP && h->magic != HDR_MAGIC_LOCKED)
                abort();
        return h;
}

static struct hdr *cache_take(size_t len) {
        struct hdr *h = NULL;
        pthread_mutex_lock(&cache_lock);
        for (struct cached **pp = &cache; *pp; pp = &(*pp)->next)
                if ((*pp)->len == len) {
                        h = (struct hdr *)*pp;
                        *pp = (*pp)->next;
                        cache_bytes -= len;
                        break;
                }
        pthread_mutex_unlock(&cache_lock);
        if (h)
                wipe(h, sizeof(struct cached));
        return h;
}

/* A wiped mapping: into the cache, or unmapped (which unlocks it). */
static void cache_put(struct hdr *h, size_t len) {
        struct cached *c = (struct cached *)h;
        pthread_mutex_lock(&cache_lock);
        if (cache_bytes + len <= CACHE_MAX) {
                c->len = len;
                c->next = cache;
                cache = c;
                cache_bytes += len;
                c = NULL;
        }
        pthread_mutex_unlock(&cache_lock);
        if (c)
                munmap(h, len);
}

void broker_mem_trim(void) {
        pthread_mutex_lock(&cache_lock);
        while (cache) {
                struct cached *c = cache;
                cache = c->next;
                cache_bytes -= c->len;
                munmap(c, c->len);
        }
        pthread_mutex_unlock(&cache_lock);
}

static void *alloc_locked(size_t n) {
        size_t len = (n + sizeof(struct hdr) + page_size() - 1) / page_size() * page_size();
        struct hdr *h = cache_take(len);
        size_t now;
        if (!h) {
                h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (h == MAP_FAILED)
                        return NULL;
                /* no room: give the cache's locked pages back, then once more */
                if (secmem_mlock(h, len) < 0 && (broker_mem_trim(), secmem_mlock(h, len) < 0)) {
                        munmap(h, len);
                        lock_failed = true;
                        errno = ENOMEM;
                        return NULL;
                }
                (void)madvise(h, len, MADV_DONTDUMP);
        }
        h->size = n;
        h->magic = HDR_MAGIC_LOCKED;
        h->map_pages = (uint32_t)(len / page_size());
        now = atomic_fetch_add(&locked, len) + len;
        for (size_t peak = atomic_load(&locked_peak); now > peak;)
                if (atomic_compare_exchange_weak(&locked_peak, &peak, now))
                        break;
        return h + 1;
}

void *broker_mem_malloc(size_t n, const char *file, int line) {
        struct hdr *h;
        (void)file, (void)line;
        if (n > SIZE_MAX / 2)
                return NULL;
        if (n >= BROKER_MEM_LOCK_MIN && atomic_load_explicit(&lock_on, memory_order_relaxed))
                return alloc_locked(n);
        h = malloc(sizeof *h + n);
        if (!h)
                return NULL;
        h->size = n;
        h->magic = HDR_MAGIC_HEAP;
        h->map_pages = 0;
        return h + 1;
}

void broker_mem_free(void *p, const char *file, int line) {
        struct hdr *h;
        (void)file, (void)line;
        if (!p)
                return;
        h = hdr_of(p);
        wipe(p, h->size);
        if (h->magic == HDR_MAGIC_LOCKED) {
                size_t len = (size_t)h->map_pages * page_size();
                atomic_fetch_sub(&locked, len);
                wipe(h, sizeof *h);
                cache_put(h, len);
                return;
        }
        wipe(h, sizeof *h);
        free(h);
}

/* Always a new block: the old one is wiped, never left behind by a move. */
void *broker_mem_realloc(void *p, size_t n, const char *file, int line) {
        void *q;
        if (!p)
                return broker_mem_malloc(n, file, line);
        if (n == 0) {
                broker_mem_free(p, file, line);
                return NULL;
        }
        q = broker_mem_malloc(n, file, line);
        if (!q)
                return NULL; /* the old block stays valid, as realloc's */
        memcpy(q, p, hdr_of(p)->size < n ? hdr_of(p)->size : n);
        broker_mem_free(p, file, line);
        return q;
}

size_t broker_mem_size(const void *p) {
        return p ? hdr_of(p)->size : 0;
}

bool broker_mem_is_locked(const void *p) {
        return p && hdr_of(p)->magic == HDR_MAGIC_LOCKED;
}

int broker_mem_install(void) {
        return CRYPTO_set_mem_functions(broker_mem_malloc, broker_mem_realloc, broker_mem_free) == 1 ? 0 : -EBUSY;
}

void broker_mem_lock_on(void) {
        atomic_store(&lock_on, true);
}

size_t broker_mem_locked(void) {
        return atomic_load(&locked);
}

size_t broker_mem_locked_peak(void) {
        return atomic_load(&locked_peak);
}

bool broker_mem_lock_failed(void) {
        bool f = lock_failed;
        lock_failed = false;
        return f;
}

int broker_mem_try_lock(size_t bytes) {
        size_t len = (bytes + page_size() - 1) / page_size() * page_size();
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        int r = 0;
        if (m == MAP_FAILED)
                return -ENOMEM;
        if (secmem_mlock(m, len) < 0)
                r = -errno;
        munmap(m, len);
        return r;
}
