/* Unit tests: sealed profile envelope v1 — header encoding, keys, crypto round trip, tamper table, committed sample. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "policy/profile.h"

static const char *plain_json =
        "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"github_token\",\"value\":\"CANARY-5f1e\"},"
        "{\"name\":\"OPENAI_API_KEY\",\"value\":\"sk-CANARY\",\"as\":\"env\",\"scope\":\"read:model:*\"}]}";

struct fixture {
        struct secmem *m;
        struct sr_key pool_sk, pool_pk, iss_sk, iss_pk;
        struct profile_envelope *env;
        char *text;
        size_t text_len;
};

static struct profile_header test_header(void) {
        struct profile_header h = { .version = 7 };
        snprintf(h.tenant, sizeof h.tenant, "acme");
        snprintf(h.profile, sizeof h.profile, "agent");
        h.issued_at = (int64_t)time(NULL) - 10;
        h.not_after = (int64_t)time(NULL) + 3600;
        return h;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        struct profile_header h = test_header();
        struct sr_error e = { 0 };
        assert_non_null(f);
        assert_int_equal(secmem_new(8u << 20, &f->m), 0);
        assert_int_equal(key_generate(false, f->m, &f->pool_sk, &f->pool_pk), 0);
        assert_int_equal(key_generate(true, f->m, &f->iss_sk, &f->iss_pk), 0);
        assert_int_equal(
                profile_seal(&h, &f->pool_pk, &f->iss_sk, (const uint8_t *)plain_json, strlen(plain_json), &f->env, &e),
                0);
        assert_int_equal(profile_format(f->env, &f->text, &f->text_len), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        profile_envelope_free(f->env);
        free(f->text);
        secmem_destroy(f->m);
        free(f);
        return 0;
}

/* Full check as sealrun does it: parse, trust + signature, time, decrypt. */
static int open_text(struct fixture *f, const char *text, size_t len, struct sr_error *e) {
        struct profile_envelope *env = NULL;
        uint8_t *pt = NULL;
        size_t pt_len;
        int r = profile_parse("t.sealed", text, len, &env, e);
        if (r == 0)
                r = profile_verify("t.sealed", env, &f->iss_pk, 1, e);
        if (r == 0)
                r = profile_check_time("t.sealed", env, (int64_t)time(NULL), e);
        if (r == 0)
                r = profile_decrypt("t.sealed", env, &f->pool_sk, f->m, &pt, &pt_len, e);
        if (r == 0)
                secmem_release(f->m, pt);
        profile_envelope_free(env);
        return r;
}

static void test_header_encoding_vector(void **state) {
        /* The fixed binary encoding is part of the format: this vector must never change. */
        struct profile_header h = { .version = 0x0102030405060708ULL,
                                    .issued_at = 1700000000,
                                    .not_after = 1800000000 };
        uint8_t out[PROFILE_AD_MAX];
        static const uint8_t want[] = {
                17,   's',  'e',  'a',  'l',  'r',  'u',  'n',  '-',  'p',  'r',  'o',  'f',  'i',
                'l',  'e',  '/',  '1',  4,    'a',  'c',  'm',  'e',  5,    'a',  'g',  'e',  'n',
                't',  1,    2,    3,    4,    5,    6,    7,    8,    0,    0,    0,    0,    0x65,
                0x53, 0xf1, 0x00, 0,    0,    0,    0,    0x6b, 0x49, 0xd2, 0x00, 0xa0, 0xa1, 0xa2,
                0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
        };
        (void)state;
        snprintf(h.tenant, sizeof h.tenant, "acme");
        snprintf(h.profile, sizeof h.profile, "agent");
        for (int i = 0; i < 8; i++) {
                h.recipient[i] = (uint8_t)(0xa0 + i);
                h.issuer[i] = (uint8_t)(0xb0 + i);
        }
        assert_int_equal(profile_header_encode(&h, out), sizeof want);
        assert_memory_equal(out, want, sizeof want);
}

static void test_key_id_rule(void **state) {
        /* key id = first 8 bytes of unkeyed BLAKE2b-256(public key), lowercase hex */
        uint8_t pk[KEY_BYTES] = { 0 }, id[KEY_ID_BYTES], h[32];
        char hex[KEY_ID_HEX];
        (void)state;
        crypto_generichash(h, sizeof h, pk, sizeof pk, NULL, 0);
        key_id_of(pk, id);
        assert_memory_equal(id, h, KEY_ID_BYTES);
        key_id_hex(id, hex);
        assert_int_equal(strlen(hex), 16);
        assert_int_equal(key_id_parse(hex, id), 0);
        assert_int_not_equal(key_id_parse("ABCDEF0123456789", id), 0);
        assert_int_not_equal(key_id_parse("abc", id), 0);
}

static void test_round_trip(void **state) {
        struct fixture *f = *state;
        struct profile_envelope *env = NULL;
        struct profile_plain p;
        struct sr_error e = { 0 };
        uint8_t *pt;
        size_t len;
        assert_int_equal(profile_parse("t", f->text, f->text_len, &env, &e), 0);
        assert_string_equal(env->h.tenant, "acme");
        assert_string_equal(env->h.profile, "agent");
        assert_int_equal(env->h.version, 7);
        assert_memory_equal(env->h.recipient, f->pool_pk.id, KEY_ID_BYTES);
        assert_memory_equal(env->h.issuer, f->iss_pk.id, KEY_ID_BYTES);
        assert_int_equal(profile_verify("t", env, &f->iss_pk, 1, &e), 0);
        assert_int_equal(profile_decrypt("t", env, &f->pool_sk, f->m, &pt, &len, &e), 0);
        assert_int_equal(len, strlen(plain_json));
        assert_memory_equal(pt, plain_json, len);
        assert_int_equal(profile_plain_parse("t", f->m, pt, len, 77, &p, &e), 0);
        assert_int_equal(p.n_creds, 2);
        assert_string_equal(p.creds[0].name, "github_token");
        assert_int_equal(p.creds[0].as, CRED_FILE);
        assert_memory_equal(p.creds[0].value, "CANARY-5f1e", 11);
        assert_int_equal(p.creds[1].as, CRED_ENV);
        assert_string_equal(p.creds[1].scope, "read:model:*");
        /* re-serialising a parsed envelope gives the same bytes (canonical form) */
        char *again;
        size_t again_len;
        assert_int_equal(profile_format(env, &again, &again_len), 0);
        assert_int_equal(again_len, f->text_len);
        assert_memory_equal(again, f->text, again_len);
        free(again);
        profile_envelope_free(env);
}

static void test_tamper_every_byte(void **state) {
        /* Every byte of header, ciphertext and signature flipped in turn
         * (two different flips): refused, with exit code 77, every time. */
        struct fixture *f = *state;
        char *copy = malloc(f->text_len);
        static const uint8_t flips[] = { 0x01, 0x80, 0xff };
        assert_non_null(copy);
        for (size_t k = 0; k < sizeof flips; k++)
                for (size_t i = 0; i < f->text_len; i++) {
                        struct sr_error e = { 0 };
                        memcpy(copy, f->text, f->text_len);
                        copy[i] ^= (char)flips[k];
                        int r = open_text(f, copy, f->text_len, &e);
                        if (r == 0)
                                fail_msg("byte %zu ^ 0x%02x was accepted", i, flips[k]);
                        assert_int_equal(e.exit_code, 77);
                        assert_null(strstr(e.msg, "CANARY"));
                }
        free(copy);
}

static void test_truncated_and_garbage(void **state) {
        struct fixture *f = *state;
        static const char *bad[] = {
                "",
                "{",
                "[]",
                "null",
                "\"x\"",
                "{}",
                "{\"header\":1}",
                "not json at all",
                "{\"header\":{},\"epk\":\"\",\"nonce\":\"\",\"ciphertext\":\"\",\"signature\":\"\"}",
        };
        for (size_t n = 0; n < f->text_len; n += 7) {
                struct sr_error e = { 0 };
                assert_int_not_equal(open_text(f, f->text, n, &e), 0);
                assert_int_equal(e.exit_code, 77);
        }
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct sr_error e = { 0 };
                assert_int_not_equal(open_text(f, bad[i], strlen(bad[i]), &e), 0);
                assert_int_equal(e.exit_code, 77);
                assert_string_equal(e.reason, "malformed");
        }
}

static void test_wrong_types(void **state) {
        struct fixture *f = *state;
        static const char *const swaps[][2] = {
                { "\"version\":7", "\"version\":\"7\"" },
                { "\"version\":7", "\"version\":7.0" },
                { "\"version\":7", "\"version\":0" },
                { "\"tenant\":\"acme\"", "\"tenant\":[\"acme\"]" },
                { "\"tenant\":\"acme\"", "\"tenant\":\"ACME\"" },
                { "\"format\":\"sealrun-profile/1\"", "\"format\":\"sealrun-profile/2\"" },
                { "{\"header\":{", "{\"extra\":1,\"header\":{" },
        };
        for (size_t i = 0; i < sizeof swaps / sizeof *swaps; i++) {
                struct sr_error e = { 0 };
                char *p = strstr(f->text, swaps[i][0]), *t;
                assert_non_null(p);
                assert_true(asprintf(&t, "%.*s%s%s", (int)(p - f->text), f->text, swaps[i][1],
                                     p + strlen(swaps[i][0])) > 0);
                assert_int_not_equal(open_text(f, t, strlen(t), &e), 0);
                assert_int_equal(e.exit_code, 77);
                free(t);
        }
}

static void test_oversized(void **state) {
        struct fixture *f = *state;
        struct sr_error e = { 0 };
        size_t n = PROFILE_MAX_BYTES + 1;
        char *big = malloc(n);
        (void)f;
        assert_non_null(big);
        memset(big, ' ', n);
        struct profile_envelope *env = NULL;
        assert_int_not_equal(profile_parse("big", big, n, &env, &e), 0);
        assert_int_equal(e.exit_code, 77);
        /* through a file descriptor too */
        int fd = memfd_create("big", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, big, n), 0);
        lseek(fd, 0, SEEK_SET);
        memset(&e, 0, sizeof e);
        assert_int_not_equal(profile_load_fd(fd, "big", PROFILE_MAX_BYTES, &env, &e), 0);
        assert_int_equal(e.exit_code, 77);
        assert_string_equal(e.reason, "oversized");
        close(fd);
        free(big);
}

static void test_wrong_key_untrusted_expired(void **state) {
        struct fixture *f = *state;
        struct profile_envelope *env = NULL;
        struct sr_key other_sk, other_pk;
        struct sr_error e = { 0 };
        uint8_t *pt;
        size_t len;
        assert_int_equal(profile_parse("t", f->text, f->text_len, &env, &e), 0);

        assert_int_equal(key_generate(false, f->m, &other_sk, &other_pk), 0);
        assert_int_not_equal(profile_decrypt("t", env, &other_sk, f->m, &pt, &len, &e), 0);
        assert_int_equal(e.exit_code, 77);
        assert_string_equal(e.reason, "wrong-recipient");

        /* a key claiming the right id but holding another secret: the AEAD refuses */
        memcpy(other_sk.id, f->pool_sk.id, KEY_ID_BYTES);
        memset(&e, 0, sizeof e);
        assert_int_not_equal(profile_decrypt("t", env, &other_sk, f->m, &pt, &len, &e), 0);
        assert_int_equal(e.exit_code, 77);

        assert_int_equal(key_generate(true, f->m, &other_sk, &other_pk), 0);
        memset(&e, 0, sizeof e);
        assert_int_not_equal(profile_verify("t", env, &other_pk, 1, &e), 0);
        assert_string_equal(e.reason, "untrusted-issuer");
        /* same id, different key: the signature check fails */
        memcpy(other_pk.id, f->iss_pk.id, KEY_ID_BYTES);
        memset(&e, 0, sizeof e);
        assert_int_not_equal(profile_verify("t", env, &other_pk, 1, &e), 0);
        assert_string_equal(e.reason, "bad-signature");

        memset(&e, 0, sizeof e);
        assert_int_not_equal(profile_check_time("t", env, env->h.not_after, &e), 0);
        assert_string_equal(e.reason, "expired");
        assert_int_equal(e.exit_code, 77);
        memset(&e, 0, sizeof e);
        assert_int_not_equal(profile_check_time("t", env, env->h.issued_at - PROFILE_SKEW_S - 1, &e), 0);
        assert_string_equal(e.reason, "not-yet-valid");
        assert_int_equal(profile_check_time("t", env, env->h.not_after - 1, &e), 0);
        profile_envelope_free(env);
}

static int write_tmp(const char *line, size_t len, mode_t mode, char *path) {
        strcpy(path, "/tmp/sealrun-test-key.XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, line, len), 0);
        assert_int_equal(fchmod(fd, mode), 0);
        return fd;
}

static void test_key_files(void **state) {
        struct fixture *f = *state;
        struct sr_error e = { 0 };
        struct sr_key k;
        uint8_t id[KEY_ID_BYTES];
        char path[64], *line;
        size_t len;
        int fd;

        assert_int_equal(key_format(&f->pool_sk, f->m, &line, &len), 0);
        assert_int_equal(strncmp(line, "sealrun-key/1 pool-secret ", 26), 0);
        fd = write_tmp(line, len, 0600, path);
        assert_int_equal(key_load_fd(fd, path, KEY_POOL_SECRET, f->m, &k, &e), 0);
        assert_memory_equal(k.id, f->pool_sk.id, KEY_ID_BYTES);
        assert_memory_equal(k.pub, f->pool_pk.pub, KEY_BYTES);
        assert_memory_equal(k.secret, f->pool_sk.secret, KEY_BYTES);
        assert_int_equal(key_peek_id(fd, path, id, &e), 0);
        assert_memory_equal(id, f->pool_sk.id, KEY_ID_BYTES);
        /* the wrong kind is refused */
        assert_int_not_equal(key_load_fd(fd, path, KEY_ISSUER_SECRET, f->m, &k, &e), 0);
        assert_int_equal(e.exit_code, 125);
        /* group- or world-readable secret keys are refused (77) */
        for (mode_t mode = 0640; mode <= 0644; mode += 4) {
                fchmod(fd, mode);
                memset(&e, 0, sizeof e);
                assert_int_not_equal(key_load_fd(fd, path, KEY_POOL_SECRET, f->m, &k, &e), 0);
                assert_int_equal(e.exit_code, 77);
                assert_string_equal(e.reason, "key-permissions");
                assert_int_not_equal(key_peek_id(fd, path, id, &e), 0);
        }
        /* once unlinked, mode bits grant nothing: accepted (memfd, O_TMPFILE) */
        unlink(path);
        assert_int_equal(key_load_fd(fd, path, KEY_POOL_SECRET, f->m, &k, &e), 0);
        close(fd);
        secmem_release(f->m, line);

        /* a tampered id, bad base64, trailing garbage: refused */
        assert_int_equal(key_format(&f->pool_pk, NULL, &line, &len), 0);
        static const struct {
                size_t at;
                char c;
        } edits[] = { { 26, 'x' }, { 27, '0' }, { 60, '!' }, { 0, 'S' } };
        for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
                char *l = strdup(line);
                l[edits[i].at] = l[edits[i].at] == edits[i].c ? 'f' : edits[i].c;
                fd = write_tmp(l, len, 0644, path);
                memset(&e, 0, sizeof e);
                assert_int_not_equal(key_load_fd(fd, path, KEY_POOL_PUBLIC, NULL, &k, &e), 0);
                assert_int_equal(e.exit_code, 125);
                close(fd);
                unlink(path);
                free(l);
        }
        fd = write_tmp(line, len, 0644, path);
        assert_int_equal(key_load_fd(fd, path, KEY_POOL_PUBLIC, NULL, &k, &e), 0);
        fchmod(fd, 0664); /* a writable trust anchor is refused */
        assert_int_not_equal(key_load_fd(fd, path, KEY_POOL_PUBLIC, NULL, &k, &e), 0);
        assert_int_equal(e.exit_code, 77);
        close(fd);
        unlink(path);
        free(line);
}

static const char *data_path(const char *name) {
        static char buf[4][4096];
        static int i;
        const char *src = getenv("SEALRUN_SRC");
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof buf[i], "%s/tests/data/%s", src ? src : ".", name);
        return buf[i];
}

static void test_committed_sample_still_opens(void **state) {
        /* tests/data/sample.sealed was made once with sealctl; if this fails the
         * format changed and every deployed profile would stop opening. */
        struct fixture *f = *state;
        struct profile_envelope *env = NULL;
        struct profile_plain p;
        struct sr_key iss, pool;
        struct sr_error e = { 0 };
        uint8_t *pt;
        size_t len;
        int fd;

        assert_int_equal(key_load_path(data_path("sample-issuer.pub"), KEY_ISSUER_PUBLIC, f->m, &iss, &e), 0);
        /* git does not keep the 0600 mode: load the secret through an unlinked copy */
        fd = open(data_path("sample-pool.key"), O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        char buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        assert_true(n > 0);
        fd = memfd_create("k", MFD_CLOEXEC);
        assert_int_equal(write_all(fd, buf, (size_t)n), 0);
        sodium_memzero(buf, sizeof buf);
        assert_int_equal(key_load_fd(fd, "sample-pool.key", KEY_POOL_SECRET, f->m, &pool, &e), 0);
        close(fd);

        fd = open(data_path("sample.sealed"), O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(profile_load_fd(fd, "sample.sealed", 0, &env, &e), 0);
        close(fd);
        assert_string_equal(env->h.tenant, "sample");
        assert_int_equal(profile_verify("sample.sealed", env, &iss, 1, &e), 0);
        assert_int_equal(profile_check_time("sample.sealed", env, (int64_t)time(NULL), &e), 0);
        assert_int_equal(profile_decrypt("sample.sealed", env, &pool, f->m, &pt, &len, &e), 0);
        assert_int_equal(profile_plain_parse("sample", f->m, pt, len, 77, &p, &e), 0);
        assert_string_equal(p.tenant, "sample");
        assert_int_equal(p.n_creds, 3);
        assert_string_equal(p.creds[0].name, "sample_token");
        assert_int_equal(p.creds[0].value_len, strlen("sealrun-sample-value-1"));
        assert_memory_equal(p.creds[0].value, "sealrun-sample-value-1", p.creds[0].value_len);
        assert_int_equal(p.creds[2].value_len, 4);
        assert_memory_equal(p.creds[2].value, "\x00\x01\x02\xff", 4);
        profile_envelope_free(env);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_encoding_vector),
                cmocka_unit_test(test_key_id_rule),
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tamper_every_byte, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncated_and_garbage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
                cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_key_untrusted_expired, setup, teardown),
                cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_committed_sample_still_opens, setup, teardown),
        };
        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
