/* OpenSSL's allocator for sealrun: every block wiped on free; in the broker, large blocks locked and never dumped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* OpenSSL copies what the broker writes and reads (the injected header, a
 * response quoting the secret) into its own record buffers, so the broker's
 * locked buffers alone would not keep the secret off swap. tls_load()
 * (launcher/tls.h) installs these functions with CRYPTO_set_mem_functions
 * in the supervisor, before OpenSSL's first allocation (the supervisor makes
 * the task CA before the broker forks, so the broker could not install them
 * itself):
 *   - every block carries its size and is wiped when freed or moved by a
 *     realloc, in every process of sealrun;
 *   - once broker_mem_lock_on() ran (the broker process, right after its
 *     fork), a block of BROKER_MEM_LOCK_MIN bytes or more is its own mapping,
 *     mlock'ed and MADV_DONTDUMP (a freed one is wiped and kept for reuse,
 *     up to 1 MiB): the record buffers (about 17 KiB each, two
 *     per TLS side), handshake buffers and certificate chains. A block that
 *     cannot be locked (RLIMIT_MEMLOCK) is an allocation failure: OpenSSL
 *     fails the operation and the connection is refused, never run unlocked.
 * Blocks made before the switch (the task CA's key, in the supervisor) keep
 * their heap home and are still wiped when the broker frees them. */
#define BROKER_MEM_LOCK_MIN 4096u

/* 0, or -EBUSY when OpenSSL already allocated (too late to install). */
int broker_mem_install(void);
/* Lock large OpenSSL blocks from now on (this process; call single-threaded). */
void broker_mem_lock_on(void);
/* Unmap the cache of freed locked mappings (kept for reuse, wiped, at most
 * 1 MiB; dropped by itself when a new mapping cannot be locked). */
void broker_mem_trim(void);
/* Locked bytes in use now and at most so far (whole pages, this process;
 * the cache not counted). */
size_t broker_mem_locked(void);
size_t broker_mem_locked_peak(void);
/* Did an allocation on this thread fail to lock since the last call? (clears) */
bool broker_mem_lock_failed(void);
/* Can `bytes` more be locked now? 0 or -errno (ENOMEM, EPERM: RLIMIT_MEMLOCK). */
int broker_mem_try_lock(size_t bytes);

/* The three functions installed (exposed for the unit test). */
void *broker_mem_malloc(size_t n, const char *file, int line);
void *broker_mem_realloc(void *p, size_t n, const char *file, int line);
void broker_mem_free(void *p, const char *file, int line);
/* Usable size of a block from broker_mem_malloc (unit test), 0 for NULL. */
size_t broker_mem_size(const void *p);
/* Is the block its own locked mapping? (unit test) */
bool broker_mem_is_locked(const void *p);
