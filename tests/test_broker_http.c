/* Unit tests of the broker's HTTP engine (policy/broker_http.c): injection
 * only in the bound header of requests to bound hosts, the tripwire, refused
 * framing, chunked decoding, and the response scrub across chunk boundaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/broker_http.h"

#define PH_A "sealrun-ph-0123456789abcdef0123456789abcdef"
#define PH_B "sealrun-ph-fedcba9876543210fedcba9876543210"
#define SECRET_A "sk-live-AAAAsecretAAAA"
#define SECRET_B "tok-BBBBsecretBBBB"

static struct cred_binding bind_a = {
        .hosts = { "api.example.com" }, .n_hosts = 1, .port = 443, .inject = BIND_BEARER
};
static struct cred_binding bind_b = {
        .hosts = { "*.other.net" }, .n_hosts = 1, .port = 443, .inject = BIND_BASIC, .user = "x-access-token"
};
static struct cred_binding bind_h = {
        .hosts = { "h.example.org" }, .n_hosts = 1, .port = 443, .inject = BIND_HEADER, .header = "x-api-key"
};
static struct bhttp_cred creds[3];
static char out[BHTTP_OUT_MAX];

static int setup(void **state) {
        creds[0] = (struct bhttp_cred){ "A", PH_A, (const uint8_t *)SECRET_A, strlen(SECRET_A), &bind_a };
        creds[1] = (struct bhttp_cred){ "B", PH_B, (const uint8_t *)SECRET_B, strlen(SECRET_B), &bind_b };
        creds[2] = (struct bhttp_cred){ "H", "sealrun-ph-11111111111111111111111111111111",
                                        (const uint8_t *)"header-secret-value", 19, &bind_h };
        return sodium_init() < 0;
}

static int req(const char *host, uint16_t port, bool tls, const char *s, struct bhttp_req *r) {
        struct bhttp_conn c;
        assert_int_equal(bhttp_conn_init(&c, creds, 3, host, port, tls, false), 0);
        return bhttp_request(&c, s, strlen(s), out, sizeof out, r);
}

static bool out_has(const char *needle) {
        return memmem(out, sizeof out, needle, strlen(needle)) != NULL;
}

static void test_bound(void **state) {
        struct egress_host h;
        egress_host_canon("api.example.com", &h);
        assert_true(bhttp_bound(&bind_a, &h, 443));
        assert_false(bhttp_bound(&bind_a, &h, 8443));
        egress_host_canon("a.other.net", &h);
        assert_true(bhttp_bound(&bind_b, &h, 443));
        egress_host_canon("other.net", &h);
        assert_false(bhttp_bound(&bind_b, &h, 443));
        egress_host_canon("evilother.net", &h);
        assert_false(bhttp_bound(&bind_b, &h, 443));
        egress_host_canon("127.0.0.1", &h);
        assert_false(bhttp_bound(&bind_a, &h, 443));
}

static void test_inject_bearer(void **state) {
        struct bhttp_req r;
        memset(out, 0, sizeof out);
        assert_int_equal(req("api.example.com", 443, true,
                             "GET /v1/x?q=1 HTTP/1.1\r\nHost: API.example.com\r\nAuthorization: Bearer " PH_A
                             "\r\nAccept-Encoding: gzip\r\n\r\n",
                             &r),
                         0);
        assert_int_equal(r.injected, 0);
        assert_true(r.keep_alive);
        assert_int_equal(r.body, BODY_NONE);
        out[r.out_len] = 0;
        assert_true(out_has("GET /v1/x?q=1 HTTP/1.1\r\n"));
        assert_true(out_has("Authorization: Bearer " SECRET_A "\r\n"));
        assert_false(out_has(PH_A));
        assert_false(out_has("gzip"));
        assert_true(out_has("Accept-Encoding: identity\r\n"));
}

static void test_inject_basic_and_header(void **state) {
        struct bhttp_req r;
        char b64[256], want[300];
        const char *raw = "anyone:" PH_B, *sec = "x-access-token:" SECRET_B;
        char s[512];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)raw, strlen(raw), sodium_base64_VARIANT_ORIGINAL);
        snprintf(s, sizeof s,
                 "POST /p HTTP/1.1\r\nHost: git.other.net\r\nAuthorization: Basic %s\r\nContent-Length: 3\r\n\r\n",
                 b64);
        memset(out, 0, sizeof out);
        assert_int_equal(req("git.other.net", 443, true, s, &r), 0);
        assert_int_equal(r.injected, 1);
        assert_int_equal(r.body, BODY_LENGTH);
        assert_int_equal(r.length, 3);
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)sec, strlen(sec), sodium_base64_VARIANT_ORIGINAL);
        snprintf(want, sizeof want, "Authorization: Basic %s\r\n", b64);
        assert_true(out_has(want));
        memset(out, 0, sizeof out);
        assert_int_equal(req("h.example.org", 443, true,
                             "GET / HTTP/1.1\r\nHost: h.example.org\r\nX-Api-Key: "
                             "sealrun-ph-11111111111111111111111111111111\r\n\r\n",
                             &r),
                         0);
        assert_true(out_has("X-Api-Key: header-secret-value\r\n"));
}

/* The placeholder anywhere it may not go: 403, never forwarded. */
static void test_tripwire(void **state) {
        struct bhttp_req r;
        /* to an unbound host */
        assert_int_equal(req("evil.example.com", 443, true,
                             "GET / HTTP/1.1\r\nHost: evil.example.com\r\nAuthorization: Bearer " PH_A "\r\n\r\n", &r),
                         -EACCES);
        assert_int_equal(r.tripped, 0);
        /* in the URL, to the bound host */
        assert_int_equal(
                req("api.example.com", 443, true, "GET /?k=" PH_A " HTTP/1.1\r\nHost: api.example.com\r\n\r\n", &r),
                -EACCES);
        /* in another header, to the bound host */
        assert_int_equal(req("api.example.com", 443, true,
                             "GET / HTTP/1.1\r\nHost: api.example.com\r\nX-Echo: " PH_A "\r\n\r\n", &r),
                         -EACCES);
        /* B's placeholder in A's host */
        assert_int_equal(req("api.example.com", 443, true,
                             "GET / HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer " PH_B "\r\n\r\n", &r),
                         -EACCES);
        assert_int_equal(r.tripped, 1);
        /* over plain HTTP, even to the bound name */
        assert_int_equal(req("api.example.com", 443, false,
                             "GET / HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer " PH_A "\r\n\r\n", &r),
                         -EACCES);
        /* the wrong port of a bound name */
        assert_int_equal(req("api.example.com", 8443, true,
                             "GET / HTTP/1.1\r\nHost: api.example.com:8443\r\nAuthorization: Bearer " PH_A "\r\n\r\n",
                             &r),
                         -EACCES);
        /* a template mismatch: the placeholder not in its exact form */
        assert_int_equal(req("api.example.com", 443, true,
                             "GET / HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Token " PH_A "\r\n\r\n", &r),
                         -EACCES);
}

static void test_refused(void **state) {
        static const char *const bad[] = {
                "GET / HTTP/1.1\r\nHost: evil.example.com\r\n\r\n", /* Host is not the dialed host */
                "GET / HTTP/1.1\r\nHost: api.example.com:444\r\n\r\n",
                "GET / HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: api.example.com\r\nHost: api.example.com\r\n\r\n",
                "POST / HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                "POST / HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                "POST / HTTP/1.1\r\nHost: api.example.com\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: api.example.com\r\nX-A: a\r\n b\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: api.example.com\r\nX-A: a\rb\r\n\r\n",
                "GET / HTTP/1.1\nHost: api.example.com\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: api.example.com\r\nUpgrade: h2c\r\n\r\n",
                "GET http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer " PH_A
                "\r\nAuthorization: Bearer x\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer x\r\nAuthorization: Bearer " PH_A
                "\r\n\r\n",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct bhttp_req r;
                int rc = req("api.example.com", 443, true, bad[i], &r);
                if (rc != -EINVAL)
                        fprintf(stderr, "case %zu: %d\n", i, rc);
                assert_int_equal(rc, -EINVAL);
                assert_non_null(r.why);
        }
}

static void test_secret_with_crlf(void **state) {
        struct bhttp_req r;
        struct bhttp_cred c1 = { "A", PH_A, (const uint8_t *)"bad\r\nX-Evil: 1", 15, &bind_a };
        struct bhttp_conn c;
        const char *s = "GET / HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer " PH_A "\r\n\r\n";
        assert_int_equal(bhttp_conn_init(&c, &c1, 1, "api.example.com", 443, true, false), 0);
        assert_int_equal(bhttp_request(&c, s, strlen(s), out, sizeof out, &r), -ENOTSUP);
}

static void test_body_scan(void **state) {
        struct bhttp_conn c;
        struct bhttp_scan s = { 0 };
        const char *body = "{\"k\":\"" PH_A "\"}";
        assert_int_equal(bhttp_conn_init(&c, creds, 3, "evil.example.com", 443, true, false), 0);
        /* split at every position: found every time */
        for (size_t cut = 0; cut <= strlen(body); cut++) {
                int k;
                memset(&s, 0, sizeof s);
                k = bhttp_scan(&c, &s, body, cut);
                if (k < 0)
                        k = bhttp_scan(&c, &s, body + cut, strlen(body) - cut);
                assert_int_equal(k, 0);
        }
        /* past the first 64 KiB: not read */
        memset(&s, 0, sizeof s);
        s.seen = BHTTP_SCAN_BODY;
        assert_int_equal(bhttp_scan(&c, &s, body, strlen(body)), -1);
}

static void test_chunked(void **state) {
        const char *in = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
        char data[64];
        size_t dl = 0;
        /* byte by byte and whole */
        for (int mode = 0; mode < 2; mode++) {
                struct bhttp_chunked k = { 0 };
                size_t off = 0;
                dl = 0;
                while (off < strlen(in) && !k.done) {
                        size_t n = mode ? strlen(in) - off : 1, used, d0, dn;
                        assert_int_equal(bhttp_chunked_feed(&k, in + off, n, &used, &d0, &dn), 0);
                        memcpy(data + dl, in + off + d0, dn);
                        dl += dn;
                        off += used;
                }
                assert_true(k.done);
                assert_int_equal(dl, 9);
                assert_memory_equal(data, "Wikipedia", 9);
        }
        {
                static const char *const bad[] = { "x\r\n", "4\r\nWikiXX", "4\nWiki\r\n", "\r\n",
                                                   "1234567890abcdef0\r\n" };
                for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                        struct bhttp_chunked k = { 0 };
                        size_t off = 0, used, d0, dn;
                        int rc = 0;
                        while (rc == 0 && off < strlen(bad[i])) {
                                rc = bhttp_chunked_feed(&k, bad[i] + off, strlen(bad[i]) - off, &used, &d0, &dn);
                                if (rc == 0 && used == 0)
                                        break;
                                off += used;
                        }
                        assert_int_equal(rc, -EINVAL);
                }
        }
}

static void test_response(void **state) {
        struct bhttp_conn c;
        struct bhttp_resp r;
        const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-Echo: Bearer " SECRET_A "\r\n\r\n";
        assert_int_equal(bhttp_conn_init(&c, creds, 3, "api.example.com", 443, true, false), 0);
        memset(out, 0, sizeof out);
        assert_int_equal(bhttp_response(&c, h, strlen(h), false, false, out, sizeof out, &r), 0);
        assert_int_equal(r.body, BODY_LENGTH);
        assert_int_equal(r.length, 12);
        out[r.out_len] = 0;
        assert_true(out_has("X-Echo: Bearer " PH_A "\r\n"));
        assert_false(out_has(SECRET_A));
        assert_true(out_has("Transfer-Encoding: chunked\r\n"));
        assert_false(out_has("Content-Length"));
        h = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_int_equal(bhttp_response(&c, h, strlen(h), false, false, out, sizeof out, &r), -EINVAL);
        h = "HTTP/1.1 204 No Content\r\n\r\n";
        assert_int_equal(bhttp_response(&c, h, strlen(h), false, false, out, sizeof out, &r), 0);
        assert_int_equal(r.body, BODY_NONE);
        h = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\n";
        assert_int_equal(bhttp_response(&c, h, strlen(h), false, false, out, sizeof out, &r), 0);
        assert_true(r.encoded);
        h = "HTTP/1.0 200 OK\r\n\r\n";
        assert_int_equal(bhttp_response(&c, h, strlen(h), false, false, out, sizeof out, &r), 0);
        assert_int_equal(r.body, BODY_CLOSE);
        assert_true(r.close);
}

/* The secret split at every position across two, three and single-byte feeds. */
static void test_scrub(void **state) {
        struct bhttp_conn c;
        static char hold[BHTTP_SCRUB_HOLD], o[(BHTTP_SCRUB_IN + BHTTP_SCRUB_PAT) * BHTTP_SCRUB_GROW];
        char b64[256], body[512], got[4096], want[1024];
        const char *sec = "x-access-token:" SECRET_B;
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)sec, strlen(sec), sodium_base64_VARIANT_ORIGINAL);
        snprintf(body, sizeof body, "echo: %s and %s and Basic %s.", SECRET_A, SECRET_B, b64);
        assert_int_equal(bhttp_conn_init(&c, creds, 3, "api.example.com", 443, true, false), 0);
        for (size_t step = 1; step <= strlen(body); step++) {
                struct bhttp_scrub s;
                size_t gl = 0, n1;
                bhttp_scrub_init(&s, &c, hold);
                for (size_t off = 0; off < strlen(body); off += step) {
                        size_t n = strlen(body) - off < step ? strlen(body) - off : step;
                        n1 = bhttp_scrub(&s, body + off, n, false, o);
                        memcpy(got + gl, o, n1);
                        gl += n1;
                }
                n1 = bhttp_scrub(&s, "", 0, true, o);
                memcpy(got + gl, o, n1);
                gl += n1;
                got[gl] = 0;
                assert_null(strstr(got, SECRET_A));
                assert_null(strstr(got, SECRET_B));
                assert_null(strstr(got, b64));
                assert_non_null(strstr(got, "echo: " PH_A " and " PH_B " and Basic "));
        }
        {
                const char *ph = "x-access-token:" PH_B;
                sodium_bin2base64(b64, sizeof b64, (const unsigned char *)ph, strlen(ph),
                                  sodium_base64_VARIANT_ORIGINAL);
                snprintf(want, sizeof want, "Basic %s", b64);
                assert_non_null(strstr(got, want));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bound),
                cmocka_unit_test(test_inject_bearer),
                cmocka_unit_test(test_inject_basic_and_header),
                cmocka_unit_test(test_tripwire),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_secret_with_crlf),
                cmocka_unit_test(test_body_scan),
                cmocka_unit_test(test_chunked),
                cmocka_unit_test(test_response),
                cmocka_unit_test(test_scrub),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
