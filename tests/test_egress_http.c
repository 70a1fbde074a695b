/* Unit tests of the egress proxy's request parser (policy/egress_http.c):
 * accepted heads, their upstream rewrite, and a table of refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/egress_http.h"

static int parse(const char *s, struct egress_http_req *r) {
        return egress_http_parse(s, strlen(s), r);
}

static void test_connect(void **state) {
        struct egress_http_req r;
        const char *s = "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\nUser-Agent: "
                        "t\r\n\r\n\x16\x03\x01";
        assert_int_equal(parse(s, &r), 0);
        assert_int_equal(r.kind, EHTTP_CONNECT);
        assert_string_equal(r.host, "api.example.com");
        assert_int_equal(r.port, 443);
        assert_int_equal(r.head_len, strlen(s) - 3);
        assert_null(r.upstream);
        assert_int_equal(parse("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", &r), 0);
        assert_string_equal(r.host, "[::1]");
        assert_int_equal(r.port, 8443);
        /* Host without a port means the CONNECT port; HTTP/1.0 needs no Host */
        assert_int_equal(parse("CONNECT a.example:443 HTTP/1.1\r\nHost: A.EXAMPLE\r\n\r\n", &r), 0);
        assert_int_equal(parse("CONNECT a.example:443 HTTP/1.0\r\n\r\n", &r), 0);
}

static void test_forward(void **state) {
        struct egress_http_req r;
        const char *want = "GET /x/y?q=1 HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n";
        assert_int_equal(parse("GET http://a.example:8080/x/y?q=1 HTTP/1.1\r\nHost: a.example:8080\r\n"
                               "Proxy-Connection: keep-alive\r\nAccept: */*\r\nProxy-Authorization: Basic eA==\r\n\r\n",
                               &r),
                         0);
        assert_int_equal(r.kind, EHTTP_FORWARD);
        assert_string_equal(r.host, "a.example");
        assert_int_equal(r.port, 8080);
        assert_int_equal(r.upstream_len, strlen(want));
        assert_memory_equal(r.upstream, want, strlen(want));
        egress_http_req_free(&r);
        want = "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n";
        assert_int_equal(parse("GET HTTP://a.example HTTP/1.0\r\n\r\n", &r), 0);
        assert_int_equal(r.port, 80);
        assert_memory_equal(r.upstream, want, strlen(want));
        egress_http_req_free(&r);
        want = "POST /?q HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\nConnection: close\r\n\r\n";
        assert_int_equal(parse("POST http://a.example?q HTTP/1.1\r\nHost: a.example\r\nContent-Length: "
                               "3\r\nConnection: keep-alive\r\n\r\nabc",
                               &r),
                         0);
        assert_memory_equal(r.upstream, want, strlen(want));
        egress_http_req_free(&r);
}

static void test_incomplete(void **state) {
        struct egress_http_req r;
        char *big;
        assert_int_equal(parse("", &r), -EAGAIN);
        assert_int_equal(parse("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example", &r), -EAGAIN);
        assert_int_equal(parse("CONNECT a.example:443 HTTP/1.1\r\n\r", &r), -EAGAIN);
        big = malloc(EGRESS_HTTP_MAX_HEAD + 10);
        assert_non_null(big);
        memset(big, 'a', EGRESS_HTTP_MAX_HEAD + 10);
        memcpy(big, "GET http://a.example/ HTTP/1.1\r\nX: ", 35);
        assert_int_equal(egress_http_parse(big, EGRESS_HTTP_MAX_HEAD + 10, &r), -E2BIG);
        free(big);
}

static void test_refused(void **state) {
        static const char *const bad[] = {
                /* smuggling and ambiguity */
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example:81\r\n\r\n",
                "CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nX-A: 1\r\n folded\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\nTransfer-Encoding: "
                "chunked\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nContent-Length: +3\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                "chunked\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\nX: y\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\rX: y\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\nHost: a.example\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost : a.example\r\n\r\n",
                "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nX: a\x01"
                "b\r\n\r\n",
                "CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
                /* targets */
                "GET /relative HTTP/1.1\r\nHost: a.example\r\n\r\n",
                "GET https://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
                "GET http://user@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
                "GET http://a.example:0/ HTTP/1.1\r\nHost: a.example:0\r\n\r\n",
                "GET http://a.example:99999/ HTTP/1.1\r\n\r\n",
                "GET http://a.example/#f HTTP/1.1\r\nHost: a.example\r\n\r\n",
                "CONNECT a.example HTTP/1.1\r\n\r\n",
                "CONNECT a.example:443 HTTP/2.0\r\n\r\n",
                "CONNECT  a.example:443 HTTP/1.1\r\n\r\n",
                "CONNECT a.example:443 HTTP/1.1\r\n\r\n", /* 1.1 without Host */
                "GET http://a.example/ HTTP/1.1\r\n\r\n", /* 1.1 without Host */
                "G@T http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct egress_http_req r;
                int rc = parse(bad[i], &r);
                if (rc != -EINVAL)
                        print_error("case %zu accepted (rc %d): %s\n", i, rc, bad[i]);
                assert_int_equal(rc, -EINVAL);
                assert_non_null(r.why);
                egress_http_req_free(&r);
        }
}

/* The framing scan both parsers share: the head's length, not yet, or why not. */
static void test_head_end(void **state) {
        const char *why = NULL;
        assert_int_equal(egress_http_head_end("GET / HTTP/1.1\r\n\r\nbody", 22, 64, &why), 18);
        assert_int_equal(egress_http_head_end("GET / HTTP/1.1\r\n\r", 17, 64, &why), 0);
        assert_int_equal(egress_http_head_end("GET / HTTP/1.1\r\n\r\n", 18, 10, &why), 0); /* beyond max */
        assert_int_equal(egress_http_head_end("GET /\rX HTTP/1.1\r\n\r\n", 20, 64, &why), -EBADMSG);
        assert_string_equal(why, "bare CR");
        assert_int_equal(egress_http_head_end("GET /\nX HTTP/1.1\r\n\r\n", 20, 64, &why), -EBADMSG);
        assert_string_equal(why, "bare LF");
        assert_int_equal(egress_http_head_end("GET /\0X HTTP/1.1\r\n\r\n", 20, 64, &why), -EBADMSG);
        assert_string_equal(why, "NUL byte");
        /* a CR at the end of what is there may still be followed by LF */
        assert_int_equal(egress_http_head_end("GET / HTTP/1.1\r", 15, 64, &why), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_head_end),   cmocka_unit_test(test_connect), cmocka_unit_test(test_forward),
                cmocka_unit_test(test_incomplete), cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
