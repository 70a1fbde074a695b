/* Locked, never-dumped memory for plaintext: an arena of sodium_malloc chunks that wipes on free. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* An arena of page-aligned sodium_malloc chunks, each mlock'ed (checked: a
 * chunk that cannot be locked is an allocation failure, not a silent swap
 * risk) and marked MADV_DONTDUMP. Blocks are wiped when released; releasing
 * the most recent block of a chunk gives its space back. Destroying the arena
 * wipes and unmaps every chunk. `limit` caps the total bytes of all chunks. */
struct secmem;

int secmem_new(size_t limit, struct secmem **ret);
void *secmem_alloc(struct secmem *m, size_t n);
/* Wipe and release a block from secmem_alloc (NULL is a no-op). */
void secmem_release(struct secmem *m, void *p);
/* Copy n bytes into a new block with a NUL after them (for strings). */
char *secmem_strndup(struct secmem *m, const char *s, size_t n);
void secmem_destroy(struct secmem *m);
static inline void secmem_destroyp(struct secmem **m) {
        if (*m)
                secmem_destroy(*m);
}

/* mlock(2) by its system call: AddressSanitizer's interceptor makes mlock a
 * silent no-op, and the sanitizer build (make check's) must lock exactly as
 * the release build does, or the tests would check what never ships. */
int secmem_mlock(const void *addr, size_t len);

/* Point jansson's allocator at the arena for the duration of a parse of
 * secret JSON (json_set_alloc_funcs is process-wide), and back to the libc
 * allocator. Every json_t made in between must be freed before pop. */
void secmem_json_push(struct secmem *m);
void secmem_json_pop(void);

/* Zero SECMEM_STACK_WIPE bytes of the stack below the caller's frame: the
 * dead frames of the functions it called. Libraries leave copies of what
 * they computed there; libsodium's portable ChaCha20 (the implementation a
 * CPU without SSSE3 gets, such as qemu's default TCG CPU) keeps the last
 * partial block of a decryption in a stack array it never wipes. Called
 * before returning by every function that handles secrets through a library
 * (key_read_fd, profile_seal, profile_decrypt, profile_plain_parse). */
#define SECMEM_STACK_WIPE (32u * 1024)
void secmem_wipe_stack(void);

/* Read all of fd (up to max bytes) into a block of m; *ret_len excludes the
 * NUL that follows. -EFBIG when larger than max. */
int secmem_read_fd(struct secmem *m, int fd, size_t max, uint8_t **ret, size_t *ret_len);
