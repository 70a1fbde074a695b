/* Unit tests: policy/egress_tls.c, the SNI of a TLS ClientHello (the transparent path's check). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/egress_tls.h"

/* A ClientHello in one or more records: sni NULL for none; extra extension
 * bytes appended verbatim; split > 0 cuts the handshake into records of
 * that many bytes. Returns the length written to out. */
static size_t hello(uint8_t *out, const char *sni, const uint8_t *extra, size_t n_extra, size_t split) {
        uint8_t hs[4096], ext[2048];
        size_t e = 0, h = 4, o = 0;
        /* supported_versions (43): TLS 1.3, as real clients send */
        static const uint8_t sv[] = { 0, 43, 0, 3, 2, 3, 4 };
        memcpy(ext + e, sv, sizeof sv);
        e += sizeof sv;
        if (sni) {
                size_t n = strlen(sni);
                ext[e++] = 0, ext[e++] = 0;                                      /* server_name */
                ext[e++] = (uint8_t)((n + 5) >> 8), ext[e++] = (uint8_t)(n + 5); /* extension length */
                ext[e++] = (uint8_t)((n + 3) >> 8), ext[e++] = (uint8_t)(n + 3); /* list length */
                ext[e++] = 0;                                                    /* host_name */
                ext[e++] = (uint8_t)(n >> 8), ext[e++] = (uint8_t)n;
                memcpy(ext + e, sni, n);
                e += n;
        }
        if (n_extra)
                memcpy(ext + e, extra, n_extra);
        e += n_extra;
        hs[h++] = 3, hs[h++] = 3; /* legacy_version */
        memset(hs + h, 0xab, 32); /* random */
        h += 32;
        hs[h++] = 0;                                              /* session id */
        hs[h++] = 0, hs[h++] = 2, hs[h++] = 0x13, hs[h++] = 0x01; /* one cipher suite */
        hs[h++] = 1, hs[h++] = 0;                                 /* null compression */
        hs[h++] = (uint8_t)(e >> 8), hs[h++] = (uint8_t)e;
        memcpy(hs + h, ext, e);
        h += e;
        hs[0] = 1, hs[1] = 0, hs[2] = (uint8_t)((h - 4) >> 8), hs[3] = (uint8_t)(h - 4);
        for (size_t at = 0; at < h;) {
                size_t n = split && h - at > split ? split : h - at;
                out[o++] = 22, out[o++] = 3, out[o++] = 1, out[o++] = (uint8_t)(n >> 8), out[o++] = (uint8_t)n;
                memcpy(out + o, hs + at, n);
                o += n;
                at += n;
        }
        return o;
}

static void test_sni(void **state) {
        uint8_t b[8192];
        char name[256];
        size_t n = hello(b, "api.example.com", NULL, 0, 0);
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), 0);
        assert_string_equal(name, "api.example.com");
        /* every prefix: more bytes are needed, never another answer */
        for (size_t k = 1; k < n; k++)
                assert_int_equal(egress_tls_sni(b, k, name, sizeof name), -EAGAIN);
        /* the hello split over records of 7 bytes */
        n = hello(b, "API.Example.COM", NULL, 0, 7);
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), 0);
        assert_string_equal(name, "API.Example.COM"); /* canonicalised by the caller */
        /* no SNI at all */
        n = hello(b, NULL, NULL, 0, 0);
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), 0);
        assert_string_equal(name, "");
        /* not TLS: the first byte decides */
        assert_int_equal(egress_tls_sni((const uint8_t *)"GET / HTTP/1.1\r\n", 16, name, sizeof name), -ENOENT);
        assert_int_equal(egress_tls_sni((const uint8_t *)"", 0, name, sizeof name), -EAGAIN);
}

static void test_refused(void **state) {
        uint8_t b[8192];
        char name[256], long_name[300];
        size_t n;
        /* a second server_name extension */
        static const uint8_t dup[] = { 0, 0, 0, 6, 0, 4, 0, 0, 1, 'x' };
        n = hello(b, "a.test", dup, sizeof dup, 0);
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        /* a name over 253 bytes, a name with a space or a NUL */
        memset(long_name, 'a', 254);
        long_name[254] = 0;
        n = hello(b, long_name, NULL, 0, 0);
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        n = hello(b, "a b.test", NULL, 0, 0);
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        n = hello(b, "a.test", NULL, 0, 0);
        b[n - 3] = 0; /* 'e' of "test" → NUL */
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        /* not a ClientHello (a ServerHello), a wrong record version, an empty record */
        n = hello(b, "a.test", NULL, 0, 0);
        b[5] = 2;
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        n = hello(b, "a.test", NULL, 0, 0);
        b[1] = 2;
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        assert_int_equal(egress_tls_sni((const uint8_t[]){ 22, 3, 1, 0, 0 }, 5, name, sizeof name), -EINVAL);
        /* an extension length that runs past the hello */
        n = hello(b, "a.test", NULL, 0, 0);
        b[n - 13] = 0xff; /* the server_name extension's length (type, length, list, type, name) */
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        /* a record of another type in the middle of the hello */
        n = hello(b, "a.test", NULL, 0, 20);
        b[5 + 20] = 23;
        assert_int_equal(egress_tls_sni(b, n, name, sizeof name), -EINVAL);
        /* a name longer than the caller's buffer */
        n = hello(b, "abcdefgh.test", NULL, 0, 0);
        assert_int_equal(egress_tls_sni(b, n, name, 8), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sni),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
