/* Unit tests: OpenSSL's allocator (wipe on free, realloc keeps contents, sizes, locked large blocks, TLS record buffers
 * locked, fail closed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher/broker_mem.h"

/* Read a block after it was freed: ASan would stop a plain read (the block
 * sits in its quarantine, not reused, so the bytes are what free left). */
__attribute__((no_sanitize("address"))) static size_t nonzero_after_free(const volatile uint8_t *p, size_t n) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += p[i] != 0;
        return k;
}

/* The VmFlags of the mapping holding p: "lo" (locked) and "dd" (not dumped)? */
static int smaps_flags(const void *p, bool *locked, bool *dontdump) {
        FILE *f = fopen("/proc/self/smaps", "re");
        char line[512];
        bool in = false;
        uintptr_t a = (uintptr_t)p;
        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                char perms[8];
                if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
                        in = a >= lo && a < hi;
                        continue;
                }
                if (in && strncmp(line, "VmFlags:", 8) == 0) {
                        *locked = strstr(line, " lo") != NULL;
                        *dontdump = strstr(line, " dd") != NULL;
                        fclose(f);
                        return 0;
                }
        }
        fclose(f);
        return -ENOENT;
}

static void test_sizes_and_wipe(void **state) {
        (void)state;
        uint8_t *p = OPENSSL_malloc(100);
        assert_non_null(p);
        assert_int_equal(broker_mem_size(p), 100);
        assert_true(((uintptr_t)p & 15) == 0);
        assert_false(broker_mem_is_locked(p)); /* not switched on in this process yet */
        memset(p, 0xA5, 100);
        OPENSSL_free(p);
        assert_int_equal(nonzero_after_free(p, 100), 0);
        p = OPENSSL_zalloc(0);
        assert_non_null(p);
        assert_int_equal(broker_mem_size(p), 0);
        OPENSSL_free(p);
        OPENSSL_free(NULL);
        assert_int_equal(broker_mem_size(NULL), 0);
}

static void test_realloc_keeps(void **state) {
        (void)state;
        uint8_t *p = OPENSSL_malloc(64), *q;
        for (int i = 0; i < 64; i++)
                p[i] = (uint8_t)(i + 1);
        q = OPENSSL_realloc(p, 1000); /* grow: contents kept, the old block wiped */
        assert_non_null(q);
        assert_int_equal(broker_mem_size(q), 1000);
        for (int i = 0; i < 64; i++)
                assert_int_equal(q[i], i + 1);
        if (q != p)
                assert_int_equal(nonzero_after_free(p, 64), 0);
        p = OPENSSL_realloc(q, 10); /* shrink: the first bytes kept */
        assert_non_null(p);
        for (int i = 0; i < 10; i++)
                assert_int_equal(p[i], i + 1);
        assert_null(OPENSSL_realloc(p, 0)); /* size 0 frees */
        p = OPENSSL_realloc(NULL, 32);      /* NULL: a malloc */
        assert_non_null(p);
        OPENSSL_free(p);
}

/* Runs after test_realloc_keeps: from here on this process is "the broker". */
static void test_locked_blocks(void **state) {
        bool lo = false, dd = false;
        size_t before;
        uint8_t *small, *big, *grown;
        (void)state;
        broker_mem_lock_on();
        before = broker_mem_locked();
        small = OPENSSL_malloc(BROKER_MEM_LOCK_MIN - 1);
        big = OPENSSL_malloc(17 * 1024 + 5); /* a record buffer's size */
        assert_non_null(small);
        assert_non_null(big);
        assert_false(broker_mem_is_locked(small));
        assert_true(broker_mem_is_locked(big));
        assert_int_equal(broker_mem_size(big), 17 * 1024 + 5);
        assert_true(((uintptr_t)big & 15) == 0);
        assert_int_equal(smaps_flags(big, &lo, &dd), 0);
        assert_true(lo);
        assert_true(dd);
        assert_int_equal(broker_mem_locked() - before, 20 * 1024); /* header + 17 KiB + 5, whole pages */
        assert_true(broker_mem_locked_peak() >= broker_mem_locked());
        /* crossing the threshold by realloc: moved into locked memory, contents kept */
        memset(small, 0x5A, BROKER_MEM_LOCK_MIN - 1);
        grown = OPENSSL_realloc(small, 2 * BROKER_MEM_LOCK_MIN);
        assert_true(broker_mem_is_locked(grown));
        for (size_t i = 0; i < BROKER_MEM_LOCK_MIN - 1; i++)
                assert_int_equal(grown[i], 0x5A);
        assert_int_equal(nonzero_after_free(small, BROKER_MEM_LOCK_MIN - 1), 0);
        OPENSSL_free(grown);
        OPENSSL_free(big);
        assert_int_equal(broker_mem_locked(), before);
        /* kept for reuse, wiped (but for the cache's link), handed out again */
        assert_int_equal(nonzero_after_free(big + 32, 17 * 1024 + 5 - 32), 0);
        grown = OPENSSL_malloc(17 * 1024);
        assert_ptr_equal(grown, big);
        OPENSSL_free(grown);
        /* trimmed: the mapping is gone */
        broker_mem_trim();
        {
                unsigned char v;
                long page = sysconf(_SC_PAGESIZE);
                assert_int_equal(mincore((void *)((uintptr_t)big & ~(uintptr_t)(page - 1)), 1, &v), -1);
                assert_int_equal(errno, ENOMEM);
        }
}

/* A self-signed P-256 certificate for the in-process TLS pair. */
static void make_cert(EVP_PKEY **ret_key, X509 **ret_x) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        assert_non_null(k);
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, k);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        assert_true(X509_sign(x, k, EVP_sha256()) > 0);
        *ret_key = k;
        *ret_x = x;
}

/* Drive both ends of a handshake over a socketpair in one thread. */
static int handshake(SSL *c, SSL *s) {
        int done_c = 0, done_s = 0;
        for (int i = 0; i < 100 && !(done_c && done_s); i++) {
                if (!done_c) {
                        int r = SSL_connect(c);
                        done_c = r == 1;
                        if (r <= 0 && SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
                                return -1;
                }
                if (!done_s) {
                        int r = SSL_accept(s);
                        done_s = r == 1;
                        if (r <= 0 && SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
                                return -1;
                }
        }
        return done_c && done_s ? 0 : -1;
}

/* One TLS pair over a socketpair, a record each way; returns the bytes
 * locked while both ends were alive. */
static size_t tls_pair(void) {
        static const char secret[] = "Authorization: Bearer sk-unit-test-secret\r\n";
        EVP_PKEY *k;
        X509 *x;
        SSL_CTX *sc, *cc;
        SSL *s, *c;
        int sv[2];
        char buf[128];
        size_t before = broker_mem_locked(), during, n = 0;
        make_cert(&k, &x);
        sc = SSL_CTX_new(TLS_server_method());
        cc = SSL_CTX_new(TLS_client_method());
        assert_int_equal(SSL_CTX_use_certificate(sc, x), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey(sc, k), 1);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        s = SSL_new(sc);
        c = SSL_new(cc);
        SSL_set_fd(s, sv[0]);
        SSL_set_fd(c, sv[1]);
        assert_int_equal(handshake(c, s), 0);
        assert_int_equal(SSL_write_ex(c, secret, sizeof secret - 1, &n), 1);
        n = 0;
        assert_int_equal(SSL_read_ex(s, buf, sizeof buf, &n), 1);
        assert_memory_equal(buf, secret, sizeof secret - 1);
        during = broker_mem_locked() - before;
        SSL_free(s);
        SSL_free(c);
        SSL_CTX_free(sc);
        SSL_CTX_free(cc);
        X509_free(x);
        EVP_PKEY_free(k);
        close(sv[0]);
        close(sv[1]);
        return during;
}

/* Runs after test_locked_blocks (locking on): the four record buffers of a
 * TLS pair, which hold the plaintext written and read, are locked, and all
 * of a connection's locked memory goes when it is freed. */
static void test_tls_records_locked(void **state) {
        size_t before, during;
        (void)state;
        (void)tls_pair(); /* OpenSSL's lazily made process-wide tables stay */
        before = broker_mem_locked();
        during = tls_pair();
        print_message("locked by one TLS pair after a record each way: %zu KiB (peak %zu KiB)\n", during / 1024,
                      broker_mem_locked_peak() / 1024);
        /* read and write buffers of both ends: 4 x about 17 KiB */
        assert_true(during >= 4 * 16 * 1024);
        assert_int_equal(broker_mem_locked(), before);
}

/* Fail closed: with no room under RLIMIT_MEMLOCK a large block is refused
 * (NULL, flagged), never handed out unlocked. In a child: the limit and the
 * dropped CAP_IPC_LOCK (root's exemption) stay there. */
static void test_fail_closed(void **state) {
        pid_t pid;
        int st = 0;
        (void)state;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rlimit none = { 0, 0 };
                cap_t caps = cap_get_proc();
                cap_value_t lock = CAP_IPC_LOCK;
                void *p;
                if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 1, &lock, CAP_CLEAR) < 0 || cap_set_proc(caps) < 0 ||
                    setrlimit(RLIMIT_MEMLOCK, &none) < 0)
                        _exit(2);
                cap_free(caps);
                (void)broker_mem_lock_failed();
                p = OPENSSL_malloc(64 * 1024);
                if (p)
                        _exit(3); /* served unlocked */
                if (!broker_mem_lock_failed())
                        _exit(4); /* not reported */
                if (broker_mem_lock_failed())
                        _exit(5);        /* not cleared */
                p = OPENSSL_malloc(100); /* small blocks: heap, still wiped on free */
                if (!p)
                        _exit(6);
                OPENSSL_free(p);
                _exit(broker_mem_try_lock(4096) < 0 ? 0 : 7);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        /* first, as sealrun's tls_load() does: before OpenSSL's first allocation */
        if (broker_mem_install() < 0) {
                fprintf(stderr, "broker_mem_install failed\n");
                return 1;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sizes_and_wipe), cmocka_unit_test(test_realloc_keeps),
                cmocka_unit_test(test_locked_blocks),  cmocka_unit_test(test_tls_records_locked),
                cmocka_unit_test(test_fail_closed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
