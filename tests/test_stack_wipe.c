/* Unit tests: no secret is left in dead stack frames by key loading, sealing, decryption or the plaintext parse, with
 * libsodium's portable implementations forced (the ones a CPU without SSSE3, such as qemu's TCG CPU, gets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "policy/profile.h"

/* libsodium asks these through its PLT when sodium_init picks its
 * implementations; defined here, they interpose its own, and it picks the
 * portable ChaCha20, Poly1305, BLAKE2b and Salsa20 code. That is what the
 * systemd VM tier (qemu -accel tcg, CPU qemu64) runs, where the leak test's
 * vector 4 found the last block of the plaintext on the decrypting
 * process's stack. test_control checks that the portable code is in use. */
int sodium_runtime_has_ssse3(void) {
        return 0;
}
int sodium_runtime_has_sse41(void) {
        return 0;
}
int sodium_runtime_has_avx(void) {
        return 0;
}
int sodium_runtime_has_avx2(void) {
        return 0;
}
int sodium_runtime_has_avx512f(void) {
        return 0;
}

/* The dead stack looked at: this much below the test function's frame. It is
 * touched once (stack_clean) so every page of it is mapped. */
#define DEAD_SPAN (128u * 1024)
#define NEEDLE_LEN 32 /* hex of 16 random bytes */

struct fixture {
        struct secmem *m;
        struct sr_key pool_sk, pool_pk, iss_sk, iss_pk;
        char needle[NEEDLE_LEN + 1];
        char *plain; /* profile plaintext whose last, partial 64-byte block holds the needle */
        size_t plain_len;
        struct profile_envelope *env;
};

/* Zero the dead stack below the caller (the test's own, independent of the
 * function under test), so that a hit comes from the call that follows. */
static __attribute__((noinline, no_sanitize_address)) void stack_clean(void) {
        volatile uint8_t dead[DEAD_SPAN + 4096];
        for (size_t i = 0; i < sizeof dead; i++)
                dead[i] = 0;
}

/* Where, in bytes below this frame, the dead stack holds `needle`; 0 when it
 * does not. No calls (they would write over what is looked at), raw reads. */
static __attribute__((noinline, no_sanitize_address)) size_t stack_find(const char *needle, size_t n) {
        const volatile uint8_t *top = (const volatile uint8_t *)__builtin_frame_address(0) - 256;
        for (size_t d = n; d < DEAD_SPAN - 4096; d++) {
                const volatile uint8_t *p = top - d;
                size_t k = 0;
                while (k < n && p[k] == (uint8_t)needle[k])
                        k++;
                if (k == n)
                        return d + 256;
        }
        return 0;
}

static struct profile_header test_header(void) {
        struct profile_header h = { .version = 1 };
        snprintf(h.tenant, sizeof h.tenant, "acme");
        snprintf(h.profile, sizeof h.profile, "stack");
        h.issued_at = (int64_t)time(NULL) - 10;
        h.not_after = (int64_t)time(NULL) + 3600;
        return h;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        struct profile_header h = test_header();
        struct sr_error e = { 0 };
        uint8_t rnd[NEEDLE_LEN / 2];
        static const char pre[] = "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"", mid[] = "\",\"value\":\"",
                          post[] = "\"}]}";
        size_t name_len = 1;
        assert_non_null(f);
        assert_int_equal(sodium_init() >= 0, 1);
        assert_int_equal(secmem_new(8u << 20, &f->m), 0);
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(f->needle, sizeof f->needle, rnd, sizeof rnd);
        /* a name long enough that the needle and the end share the last, partial block */
        for (;; name_len++) {
                size_t start = strlen(pre) + name_len + strlen(mid), len = start + NEEDLE_LEN + strlen(post);
                if (len % 64 != 0 && start / 64 == (len - 1) / 64)
                        break;
        }
        assert_non_null(f->plain = secmem_alloc(f->m, 256));
        char name[64] = { 0 };
        assert_true(name_len < sizeof name);
        memset(name, 't', name_len);
        f->plain_len = (size_t)snprintf(f->plain, 256, "%s%s%s%s%s", pre, name, mid, f->needle, post);
        assert_int_equal(key_generate(false, f->m, &f->pool_sk, &f->pool_pk), 0);
        assert_int_equal(key_generate(true, f->m, &f->iss_sk, &f->iss_pk), 0);
        assert_int_equal(
                profile_seal(&h, &f->pool_pk, &f->iss_sk, (const uint8_t *)f->plain, f->plain_len, &f->env, &e), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        profile_envelope_free(f->env);
        secmem_destroy(f->m);
        free(f);
        return 0;
}

/* The control: libsodium's AEAD called directly, without the wipe. Its
 * portable ChaCha20 leaves the needle (in the last partial block) on the
 * dead stack, so the check below can fail, and the portable code is the one
 * in use. The key is profile.c's derivation, done here the same way. */
static __attribute__((noinline)) void decrypt_unwiped(struct fixture *f, uint8_t *pt) {
        uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES], ad[PROFILE_AD_MAX];
        unsigned long long pt_len = 0;
        crypto_aead_xchacha20poly1305_ietf_keygen(key);
        size_t adl = profile_header_encode(&f->env->h, ad);
        uint8_t *ct = malloc(f->plain_len + crypto_aead_xchacha20poly1305_ietf_ABYTES);
        unsigned long long ct_len = 0;
        assert_non_null(ct);
        /* encrypt, then wipe what that left, so that only the decryption counts */
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, (const uint8_t *)f->plain, f->plain_len, ad, adl, NULL,
                                                   f->env->nonce, key);
        secmem_wipe_stack();
        assert_int_equal(
                crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &pt_len, NULL, ct, ct_len, ad, adl, f->env->nonce, key),
                0);
        sodium_memzero(key, sizeof key);
        free(ct);
}

static void test_control(void **state) {
        struct fixture *f = *state;
        uint8_t *pt = secmem_alloc(f->m, f->plain_len + 1);
        size_t at;
        assert_non_null(pt);
        stack_clean();
        decrypt_unwiped(f, pt);
        at = stack_find(f->needle, NEEDLE_LEN);
        assert_memory_equal(pt, f->plain, f->plain_len);
        print_message("control: libsodium's portable ChaCha20 left the plaintext %zu bytes below the caller\n", at);
        assert_int_not_equal(at, 0);
        secmem_release(f->m, pt);
}

static __attribute__((noinline)) int decrypt(struct fixture *f, uint8_t **pt, size_t *len) {
        struct sr_error e = { 0 };
        return profile_decrypt("t.sealed", f->env, &f->pool_sk, f->m, pt, len, &e);
}

static void test_profile_decrypt(void **state) {
        struct fixture *f = *state;
        uint8_t *pt = NULL;
        size_t len = 0, at;
        stack_clean();
        assert_int_equal(decrypt(f, &pt, &len), 0);
        at = stack_find(f->needle, NEEDLE_LEN);
        assert_int_equal(len, f->plain_len);
        assert_memory_equal(pt, f->plain, len);
        if (at)
                print_message("profile_decrypt left the plaintext %zu bytes below the caller\n", at);
        assert_int_equal(at, 0);
        secmem_release(f->m, pt);
}

static __attribute__((noinline)) int seal(struct fixture *f, struct profile_envelope **env) {
        struct profile_header h = test_header();
        struct sr_error e = { 0 };
        return profile_seal(&h, &f->pool_pk, &f->iss_sk, (const uint8_t *)f->plain, f->plain_len, env, &e);
}

static void test_profile_seal(void **state) {
        struct fixture *f = *state;
        struct profile_envelope *env = NULL;
        size_t at;
        stack_clean();
        assert_int_equal(seal(f, &env), 0);
        at = stack_find(f->needle, NEEDLE_LEN);
        if (at)
                print_message("profile_seal left the plaintext %zu bytes below the caller\n", at);
        assert_int_equal(at, 0);
        profile_envelope_free(env);
}

static __attribute__((noinline)) int parse(struct fixture *f, struct profile_plain *p) {
        struct sr_error e = { 0 };
        return profile_plain_parse("t.sealed", f->m, (const uint8_t *)f->plain, f->plain_len, 77, p, &e);
}

static void test_profile_plain_parse(void **state) {
        struct fixture *f = *state;
        struct profile_plain p;
        size_t at;
        stack_clean();
        assert_int_equal(parse(f, &p), 0);
        at = stack_find(f->needle, NEEDLE_LEN);
        assert_int_equal(p.n_creds, 1);
        assert_memory_equal(p.creds[0].value, f->needle, NEEDLE_LEN);
        if (at)
                print_message("profile_plain_parse left the value %zu bytes below the caller\n", at);
        assert_int_equal(at, 0);
}

static __attribute__((noinline)) int load_key(struct fixture *f, int fd, struct sr_key *k) {
        struct sr_error e = { 0 };
        return key_read_fd(fd, "pool.key", KEY_POOL_SECRET, f->m, k, &e);
}

/* The pool key file's line (base64) and the secret it decodes to. */
static void test_key_read_fd(void **state) {
        struct fixture *f = *state;
        struct sr_key k;
        char *line, b64[sodium_base64_ENCODED_LEN(KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        size_t len, at_line, at_raw;
        int fd = memfd_create("pool.key", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(key_format(&f->pool_sk, f->m, &line, &len), 0);
        assert_int_equal(write(fd, line, len), (ssize_t)len);
        sodium_bin2base64(b64, sizeof b64, f->pool_sk.secret, KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
        stack_clean();
        assert_int_equal(load_key(f, fd, &k), 0);
        at_line = stack_find(b64, 24);
        at_raw = stack_find((const char *)f->pool_sk.secret, KEY_BYTES);
        assert_memory_equal(k.secret, f->pool_sk.secret, KEY_BYTES);
        if (at_line || at_raw)
                print_message("key_read_fd left the key %zu (base64) / %zu (raw) bytes below the caller\n", at_line,
                              at_raw);
        assert_int_equal(at_line, 0);
        assert_int_equal(at_raw, 0);
        sodium_memzero(b64, sizeof b64);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_control, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_decrypt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_seal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_plain_parse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_key_read_fd, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
