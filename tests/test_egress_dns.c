/* Unit tests of the egress DNS wire format (policy/egress_dns.c): query
 * parsing, answers, and the name-level decision of the DNS path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policy/egress_dns.h"

/* id 0x1234, RD, one question: "Api.Example.com" A IN */
static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0, 0,   0,   0,   0, 3, 'A', 'p', 'i', 7,
                                 'E',  'x',  'a',  'm',  'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1,   0,   1 };

static void test_parse(void **state) {
        char name[EGRESS_HOST_MAX + 1];
        uint16_t type;
        size_t qend;
        uint8_t q[sizeof query + 11];
        assert_int_equal(egress_dns_parse(query, sizeof query, name, &type, &qend), 0);
        assert_string_equal(name, "api.example.com");
        assert_int_equal(type, DNS_TYPE_A);
        assert_int_equal(qend, sizeof query);
        /* an EDNS OPT record after the question is tolerated */
        memcpy(q, query, sizeof query);
        q[11] = 1;
        memcpy(q + sizeof query, (uint8_t[]){ 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0 }, 11);
        assert_int_equal(egress_dns_parse(q, sizeof q, name, &type, &qend), 0);
        /* refusals: a response, two questions, a compression pointer, a bad
         * label byte, a truncated question, class CH, an empty name */
        memcpy(q, query, sizeof query);
        q[2] |= 0x80;
        assert_int_equal(egress_dns_parse(q, sizeof query, name, &type, &qend), -EINVAL);
        memcpy(q, query, sizeof query);
        q[5] = 2;
        assert_int_equal(egress_dns_parse(q, sizeof query, name, &type, &qend), -EINVAL);
        memcpy(q, query, sizeof query);
        q[12] = 0xc0;
        assert_int_equal(egress_dns_parse(q, sizeof query, name, &type, &qend), -EINVAL);
        memcpy(q, query, sizeof query);
        q[14] = '.';
        assert_int_equal(egress_dns_parse(q, sizeof query, name, &type, &qend), -EINVAL);
        assert_int_equal(egress_dns_parse(query, sizeof query - 1, name, &type, &qend), -EINVAL);
        memcpy(q, query, sizeof query);
        q[sizeof query - 1] = 3;
        assert_int_equal(egress_dns_parse(q, sizeof query, name, &type, &qend), -EINVAL);
        memcpy(q, query, 12);
        memcpy(q + 12, (uint8_t[]){ 0, 0, 1, 0, 1 }, 5);
        assert_int_equal(egress_dns_parse(q, 17, name, &type, &qend), -EINVAL);
}

static void test_answer(void **state) {
        uint8_t out[sizeof query + 16];
        size_t n;
        static const uint8_t a4[4] = { 127, 100, 0, 1 };
        assert_int_equal(egress_dns_answer(query, sizeof query, DNS_RCODE_OK, a4, out, sizeof out, &n), 0);
        assert_int_equal(n, sizeof query + 16);
        assert_int_equal(out[0], 0x12);
        assert_int_equal(out[2], 0x81); /* QR + RD */
        assert_int_equal(out[3], 0x80); /* RA, NOERROR */
        assert_int_equal(out[7], 1);    /* one answer */
        assert_memory_equal(out + n - 4, a4, 4);
        assert_int_equal(egress_dns_answer(query, sizeof query, DNS_RCODE_NXDOMAIN, NULL, out, sizeof out, &n), 0);
        assert_int_equal(n, sizeof query);
        assert_int_equal(out[3] & 0x0f, DNS_RCODE_NXDOMAIN);
        assert_int_equal(out[7], 0);
        assert_int_equal(egress_dns_answer(query, sizeof query, 0, a4, out, sizeof query + 15, &n), -ENOBUFS);
}

static void test_name_allowed(void **state) {
        struct egress_rule allow[2], deny[2];
        struct egress_rules rs = { allow, 2, deny, 2, NULL, 0 };
        struct egress_host h;
        assert_int_equal(egress_rule_parse("*.example.com", &allow[0]), 0);
        allow[0].ports[0] = 443;
        allow[0].n_ports = 1;
        assert_int_equal(egress_rule_parse("10.0.0.0/8", &allow[1]), 0);
        allow[1].ports[0] = 443;
        allow[1].n_ports = 1;
        assert_int_equal(egress_rule_parse("bad.example.com", &deny[0]), 0);
        assert_int_equal(egress_rule_parse("half.example.com", &deny[1]), 0);
        deny[1].ports[0] = 80; /* a deny rule for another port leaves 443 */
        deny[1].n_ports = 1;
        assert_int_equal(egress_host_canon("api.example.com", &h), 0);
        assert_int_equal(egress_name_allowed(&rs, &h), EGR_OK);
        assert_int_equal(egress_host_canon("bad.example.com", &h), 0);
        assert_int_equal(egress_name_allowed(&rs, &h), EGR_DENY_RULE);
        assert_int_equal(egress_host_canon("half.example.com", &h), 0);
        assert_int_equal(egress_name_allowed(&rs, &h), EGR_OK);
        assert_int_equal(egress_host_canon("example.org", &h), 0);
        assert_int_equal(egress_name_allowed(&rs, &h), EGR_NOT_ALLOWED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_answer),
                cmocka_unit_test(test_name_allowed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
