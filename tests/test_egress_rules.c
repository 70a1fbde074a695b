/* Unit tests of the egress rules (policy/egress_rules.c) and the policy key
 * network.egress (policy/pol_egress.c): tables of hosts, addresses and rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/egress_rules.h"
#include "policy/policy.h"

static void test_canon(void **state) {
        static const struct {
                const char *in, *want;
                enum egress_host_kind kind;
        } ok[] = {
                { "Example.COM", "example.com", EH_NAME },
                { "example.com.", "example.com", EH_NAME },
                { "xn--bcher-kva.example", "xn--bcher-kva.example", EH_NAME },
                { "a_b.example", "a_b.example", EH_NAME },
                { "127.0.0.1", "127.0.0.1", EH_V4 },
                { "2130706433", "127.0.0.1", EH_V4 },
                { "0x7f.1", "127.0.0.1", EH_V4 },
                { "0177.0.0.1", "127.0.0.1", EH_V4 },
                { "0x7F000001", "127.0.0.1", EH_V4 },
                { "127.1", "127.0.0.1", EH_V4 },
                { "10.0.258", "10.0.1.2", EH_V4 },
                { "169.254.169.254.", "169.254.169.254", EH_V4 },
                { "[::1]", "::1", EH_V6 },
                { "[FD00:EC2::254]", "fd00:ec2::254", EH_V6 },
                { "::ffff:127.0.0.1", "::ffff:127.0.0.1", EH_V6 },
        };
        static const char *const bad[] = {
                "",
                ".",
                "..",
                "a..b",
                "-a.example",
                "a-.example",
                "bücher.example",
                "exa mple.com",
                "a/b",
                "1.2.3.4.5",
                "256.1.1.1",
                "0x",
                "08.1.1.1",
                "1.2.3.0x",
                "example.123",
                "4294967296",
                "[::1",
                "[127.0.0.1]",
                "fe80::1%eth0",
                "a\x01.example",
                "ex\xc3\xa4mple.com",
        };
        struct egress_host h;
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
                if (egress_host_canon(ok[i].in, &h) != 0 || strcmp(h.name, ok[i].want) != 0 || h.kind != ok[i].kind)
                        print_error("canon %s: got %s kind %d\n", ok[i].in, h.name, h.kind);
                assert_int_equal(egress_host_canon(ok[i].in, &h), 0);
                assert_string_equal(h.name, ok[i].want);
                assert_int_equal(h.kind, ok[i].kind);
        }
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                if (egress_host_canon(bad[i], &h) == 0)
                        print_error("canon accepted %s as %s\n", bad[i], h.name);
                assert_int_not_equal(egress_host_canon(bad[i], &h), 0);
        }
}

static void test_addr_class(void **state) {
        static const struct {
                const char *a;
                const char *cls;
        } t[] = {
                { "0.1.2.3", "this-network" },
                { "127.0.0.53", "loopback" },
                { "10.9.9.9", "private" },
                { "172.16.0.1", "private" },
                { "172.31.255.255", "private" },
                { "172.32.0.1", NULL },
                { "192.168.1.1", "private" },
                { "100.64.0.1", "shared" },
                { "100.128.0.1", NULL },
                { "169.254.169.254", "link-local" },
                { "224.0.0.1", "multicast" },
                { "255.255.255.255", "reserved" },
                { "192.0.2.1", "documentation" },
                { "8.8.8.8", NULL },
                { "1.1.1.1", NULL },
                { "::", "unspecified" },
                { "::1", "loopback" },
                { "::ffff:8.8.8.8", "ipv4-mapped" },
                { "::8.8.8.8", "ipv4-compatible" },
                { "64:ff9b::808:808", "nat64" },
                { "2002:808:808::1", "6to4" },
                { "fe80::1", "link-local" },
                { "fd00:ec2::254", "unique-local" },
                { "fc00::1", "unique-local" },
                { "ff02::1", "multicast" },
                { "2001:db8::1", "documentation" },
                { "2001:4860:4860::8888", NULL },
                { "2606:4700::1111", NULL },
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                uint8_t a[16];
                int af = strchr(t[i].a, ':') ? AF_INET6 : AF_INET;
                const char *c;
                assert_int_equal(inet_pton(af, t[i].a, a), 1);
                c = egress_addr_class(af, a);
                if (!!c != !!t[i].cls || (c && strcmp(c, t[i].cls) != 0))
                        print_error("%s: got %s want %s\n", t[i].a, c ? c : "public", t[i].cls ? t[i].cls : "public");
                assert_true(!!c == !!t[i].cls);
                if (c)
                        assert_string_equal(c, t[i].cls);
        }
}

static void rule(struct egress_rule *r, const char *text, uint16_t p1, uint16_t p2) {
        assert_int_equal(egress_rule_parse(text, r), 0);
        r->ports[0] = p1;
        r->ports[1] = p2;
        r->n_ports = p1 ? (p2 ? 2 : 1) : 0;
}

static void test_match(void **state) {
        struct egress_rule allow[5], deny[2];
        struct egress_rules rs = { allow, 5, deny, 2, NULL, 0 };
        static const struct {
                const char *host;
                uint16_t port;
                enum egress_reason want;
        } t[] = {
                { "api.example.com", 443, EGR_OK },
                { "API.Example.com.", 80, EGR_OK },
                { "api.example.com", 8443, EGR_PORT },
                { "x.api.example.com", 443, EGR_NOT_ALLOWED },
                { "files.example.org", 443, EGR_OK },
                { "a.b.example.org", 443, EGR_OK },
                { "example.org", 443, EGR_NOT_ALLOWED },    /* *.suffix is subdomains only */
                { "evil.example.org", 443, EGR_DENY_RULE }, /* deny wins */
                { "badexample.org", 443, EGR_NOT_ALLOWED },
                { "10.1.2.3", 443, EGR_IP_LITERAL },
                { "127.0.0.1", 8443, EGR_OK },
                { "2130706433", 8443, EGR_OK },
                { "127.0.0.1", 443, EGR_PORT },
                { "127.9.9.9", 8443, EGR_DENY_RULE },
                { "[::1]", 8443, EGR_IP_LITERAL },
                { "8.8.8.8", 443, EGR_IP_LITERAL },
        };
        rule(&allow[0], "api.example.com", 443, 80);
        rule(&allow[1], "*.example.org", 443, 0);
        rule(&allow[2], "127.0.0.0/8", 8443, 0);
        rule(&allow[3], "2001:db8::/32", 443, 0);
        rule(&allow[4], "Files.Example.org", 443, 0);
        rule(&deny[0], "evil.example.org", 0, 0);
        rule(&deny[1], "127.9.9.9", 0, 0);
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                struct egress_host h;
                enum egress_reason r;
                assert_int_equal(egress_host_canon(t[i].host, &h), 0);
                r = egress_check_host(&rs, &h, t[i].port, NULL);
                if (r != t[i].want)
                        print_error("%s:%u: got %s want %s\n", t[i].host, t[i].port, egress_reason_name(r),
                                    egress_reason_name(t[i].want));
                assert_int_equal(r, t[i].want);
        }
}

static void test_check_addr(void **state) {
        struct egress_rule allow[1], deny[1];
        struct egress_rules rs = { allow, 1, deny, 1, NULL, 0 };
        uint8_t own[1][16] = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 7 } };
        uint8_t a[16];
        rule(&allow[0], "127.0.0.0/8", 8443, 0);
        rule(&deny[0], "93.184.0.0/16", 0, 0);
        inet_pton(AF_INET, "127.0.0.1", a);
        assert_int_equal(egress_check_addr(&rs, AF_INET, a, 8443, NULL, 0, NULL), EGR_OK);
        assert_int_equal(egress_check_addr(&rs, AF_INET, a, 443, NULL, 0, NULL), EGR_ADDRESS); /* rebinding */
        inet_pton(AF_INET, "169.254.169.254", a);
        assert_int_equal(egress_check_addr(&rs, AF_INET, a, 80, NULL, 0, NULL), EGR_ADDRESS);
        inet_pton(AF_INET, "93.184.216.34", a);
        assert_int_equal(egress_check_addr(&rs, AF_INET, a, 443, NULL, 0, NULL), EGR_DENY_RULE);
        inet_pton(AF_INET, "8.8.4.4", a);
        assert_int_equal(egress_check_addr(&rs, AF_INET, a, 443, NULL, 0, NULL), EGR_OK);
        inet_pton(AF_INET, "203.0.113.7", a); /* also documentation, but: own address */
        assert_int_equal(egress_check_addr(&rs, AF_INET, a, 443, (const uint8_t(*)[16])own, 1, NULL), EGR_ADDRESS);
        inet_pton(AF_INET6, "::ffff:127.0.0.1", a); /* the mapped form is not the CIDR's family */
        assert_int_equal(egress_check_addr(&rs, AF_INET6, a, 8443, NULL, 0, NULL), EGR_ADDRESS);
        assert_string_equal(egress_reason_name(EGR_ADDRESS), "address-denied");
        assert_string_equal(egress_reason_name(EGR_REASON_MAX), "?");
        for (int r = 0; r < EGR_REASON_MAX; r++)
                assert_non_null(egress_reason_name((enum egress_reason)r));
}

static void test_rule_parse(void **state) {
        struct egress_rule r;
        assert_int_equal(egress_rule_parse("*.Example.COM", &r), 0);
        assert_int_equal(r.kind, ER_SUFFIX);
        assert_string_equal(r.text, "*.example.com");
        assert_int_equal(egress_rule_parse("10.0.0.0/8", &r), 0);
        assert_string_equal(r.text, "10.0.0.0/8");
        assert_int_equal(egress_rule_parse("10.0.0.1/8", &r), -EDOM);
        assert_int_equal(egress_rule_parse("fd00::/8", &r), 0);
        assert_int_not_equal(egress_rule_parse("10.0.0.0/33", &r), 0);
        assert_int_not_equal(egress_rule_parse("10.0.0.0/", &r), 0);
        assert_int_not_equal(egress_rule_parse("10.0.0.0/08", &r), 0);
        assert_int_not_equal(egress_rule_parse("*example.com", &r), 0);
        assert_int_not_equal(egress_rule_parse("*.", &r), 0);
        assert_int_not_equal(egress_rule_parse("a.*.com", &r), 0);
        assert_int_not_equal(egress_rule_parse("010.0.0.0/8", &r), 0);
}

static struct sr_error err;

static int parse_net(const char *net, struct policy **ret) {
        char buf[8192];
        snprintf(buf, sizeof buf, "{\"version\":1,\"mounts\":[],\"network\":%s}", net);
        memset(&err, 0, sizeof err);
        return policy_parse("t.json", buf, strlen(buf), ret, &err);
}

static void bad(const char *net, const char *path) {
        struct policy *p = NULL;
        int r = parse_net(net, &p);
        if (r == 0 || !strstr(err.msg, path))
                print_error("input %s\n  r=%d msg=%s\n  expected path %s\n", net, r, err.msg, path);
        assert_true(r < 0);
        assert_int_equal(err.exit_code, 125);
        assert_non_null(strstr(err.msg, path));
        assert_null(strchr(err.msg, '\n'));
}

static void test_policy(void **state) {
        struct policy *p = NULL;
        assert_int_equal(
                parse_net("{\"mode\":\"proxy\",\"egress\":{\"allow\":[{\"host\":\"api.example.com\"},"
                          "{\"host\":\"127.0.0.0/8\",\"ports\":[8443]}],\"deny\":[{\"host\":\"*.bad.example\"}],"
                          "\"resolve\":{\"API.internal\":[\"10.0.0.5\",\"::1\"]},"
                          "\"limits\":{\"connections\":8,\"connect_timeout_ms\":500,\"bytes\":1000},\"proxy_port\":"
                          "3129}}",
                          &p),
                0);
        assert_int_equal(p->network.mode, NET_PROXY);
        assert_string_equal(pol_network_mode_name(NET_PROXY), "proxy");
        assert_int_equal(p->network.egress.rules.n_allow, 2);
        assert_int_equal(p->network.egress.rules.allow[0].n_ports, 2); /* default 443, 80 */
        assert_int_equal(p->network.egress.rules.allow[0].ports[0], 443);
        assert_int_equal(p->network.egress.rules.allow[0].ports[1], 80);
        assert_int_equal(p->network.egress.rules.deny[0].n_ports, 0); /* deny: every port */
        assert_non_null(egress_pin_find(&p->network.egress.rules, "api.internal"));
        assert_int_equal(p->network.egress.max_connections, 8);
        assert_int_equal(p->network.egress.max_bytes, 1000);
        assert_int_equal(p->network.egress.proxy_port, 3129);
        {
                const char *names[] = { "127.0.0.0/8" }, *badn = NULL;
                assert_int_equal(pol_egress_narrow(&p->network.egress, names, 1, &badn), 0);
                assert_int_equal(p->network.egress.rules.n_allow, 1);
                names[0] = "api.example.com"; /* removed above: narrowing never widens */
                assert_int_equal(pol_egress_narrow(&p->network.egress, names, 1, &badn), -ENOENT);
                assert_string_equal(badn, "api.example.com");
        }
        policy_free(p);
        assert_int_equal(parse_net("{\"mode\":\"proxy\",\"egress\":{}}", &p), 0); /* nothing allowed */
        assert_int_equal(p->network.egress.proxy_port, 3128);
        policy_free(p);

        bad("{\"mode\":\"proxy\"}", "$.network.egress");
        bad("{\"mode\":\"none\",\"egress\":{}}", "$.network.egress");
        bad("{\"mode\":\"proxy\",\"egress\":{\"allowed\":[]}}", "$.network.egress");
        bad("{\"mode\":\"proxy\",\"egress\":{\"allow\":[{\"host\":\"b\\u00fccher.example\"}]}}",
            "$.network.egress.allow[0].host");
        bad("{\"mode\":\"proxy\",\"egress\":{\"allow\":[{\"host\":\"10.0.0.1/8\"}]}}",
            "$.network.egress.allow[0].host");
        bad("{\"mode\":\"proxy\",\"egress\":{\"allow\":[{\"host\":\"a.example\",\"ports\":[0]}]}}",
            "$.network.egress.allow[0].ports[0]");
        bad("{\"mode\":\"proxy\",\"egress\":{\"allow\":[{\"host\":\"a.example\",\"ports\":[]}]}}",
            "$.network.egress.allow[0].ports");
        bad("{\"mode\":\"proxy\",\"egress\":{\"allow\":[{\"host\":\"a.example\",\"port\":443}]}}",
            "$.network.egress.allow[0]");
        bad("{\"mode\":\"proxy\",\"egress\":{\"deny\":[{}]}}", "$.network.egress.deny[0]");
        bad("{\"mode\":\"proxy\",\"egress\":{\"resolve\":{\"a.example\":[\"1.2.3\"]}}}",
            "$.network.egress.resolve.a.example[0]");
        bad("{\"mode\":\"proxy\",\"egress\":{\"resolve\":{\"a.example\":[]}}}", "$.network.egress.resolve.a.example");
        bad("{\"mode\":\"proxy\",\"egress\":{\"resolve\":{\"10.0.0.1\":[\"10.0.0.2\"]}}}",
            "$.network.egress.resolve.10.0.0.1");
        bad("{\"mode\":\"proxy\",\"egress\":{\"resolve\":{\"A.example\":[\"10.0.0.2\"],\"a.example.\":[\"10.0.0.3\"]}}"
            "}",
            "$.network.egress.resolve.a.example.");
        bad("{\"mode\":\"proxy\",\"egress\":{\"limits\":{\"connections\":0}}}", "$.network.egress.limits.connections");
        bad("{\"mode\":\"proxy\",\"egress\":{\"limits\":{\"connect_timeout_ms\":5}}}",
            "$.network.egress.limits.connect_timeout_ms");
        bad("{\"mode\":\"proxy\",\"egress\":{\"limits\":{\"rate\":5}}}", "$.network.egress.limits");
        bad("{\"mode\":\"proxy\",\"egress\":{\"proxy_port\":70000}}", "$.network.egress.proxy_port");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_canon),      cmocka_unit_test(test_addr_class), cmocka_unit_test(test_match),
                cmocka_unit_test(test_check_addr), cmocka_unit_test(test_rule_parse), cmocka_unit_test(test_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
