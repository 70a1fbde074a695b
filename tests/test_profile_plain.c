/* Unit tests: plaintext profile validation (table) and that errors never quote secret input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "policy/profile.h"

static int parse(const char *txt, struct secmem **ret_m, struct profile_plain *p, struct sr_error *e) {
        struct secmem *m;
        assert_int_equal(secmem_new(4u << 20, &m), 0);
        *ret_m = m;
        return profile_plain_parse("plain", m, (const uint8_t *)txt, strlen(txt), 77, p, e);
}

static void test_valid(void **state) {
        static const char *txt =
                "{\"tenant\":\"acme\",\"credentials\":["
                "{\"name\":\"a.b-c_d\",\"value\":\"v1\"},"
                "{\"name\":\"ENV_ONE\",\"value\":\"\",\"as\":\"env\"},"
                "{\"name\":\"BOTH\",\"value_base64\":\"aGVsbG8=\",\"as\":\"both\",\"scope\":\"write:repo:acme/web\"},"
                "{\"name\":\"bin\",\"value_base64\":\"AP8A\"}]}";
        struct secmem *m;
        struct profile_plain p;
        struct sr_error e = { 0 };
        (void)state;
        assert_int_equal(parse(txt, &m, &p, &e), 0);
        assert_string_equal(p.tenant, "acme");
        assert_int_equal(p.n_creds, 4);
        assert_int_equal(p.creds[0].as, CRED_FILE);
        assert_null(p.creds[0].scope);
        assert_int_equal(p.creds[1].as, CRED_ENV);
        assert_int_equal(p.creds[1].value_len, 0);
        assert_int_equal(p.creds[2].as, CRED_BOTH);
        assert_int_equal(p.creds[2].value_len, 5);
        assert_memory_equal(p.creds[2].value, "hello", 5);
        assert_int_equal(p.creds[3].value_len, 3);
        assert_memory_equal(p.creds[3].value, "\0\xff\0", 3);
        /* the allocator is back to libc after the parse */
        json_t *j = json_string("x");
        json_decref(j);
        secmem_destroy(m);
}

static void test_invalid_table(void **state) {
        static const struct {
                const char *txt, *want;
        } cases[] = {
                { "", "invalid JSON" },
                { "{\"tenant\":\"SECRETVALUE\"", "invalid JSON" },
                { "[]", "expected an object" },
                { "{\"credentials\":[]}", "$.tenant: missing" },
                { "{\"tenant\":\"acme\"}", "$.credentials: missing" },
                { "{\"tenant\":\"a\",\"credentials\":[]}", "tenant slug" },
                { "{\"tenant\":\"acme\",\"credentials\":{}}", "expected an array" },
                { "{\"tenant\":\"acme\",\"credentials\":[],\"SECRETVALUE\":1}", "unknown key" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":\"v\",\"SECRETVALUE\":1}]}",
                  "unknown key" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\"}]}", "exactly one of" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":\"SECRETVALUE\",\"value_base64\":"
                  "\"AA==\"}]}",
                  "exactly one of" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":1}]}", "expected a string" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value_base64\":\"SECRETVALUE!\"}]}",
                  "not valid base64" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value_base64\":\"AAA\"}]}",
                  "not valid base64" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":\"SECRET\\u0000VALUE\"}]}",
                  "invalid JSON" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"a/b\",\"value\":\"SECRETVALUE\"}]}",
                  "$.credentials[0].name" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\".\",\"value\":\"v\"}]}", "$.credentials[0].name" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"..\",\"value\":\"v\"}]}",
                  "$.credentials[0].name" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"\",\"value\":\"v\"}]}", "$.credentials[0].name" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"a b\",\"value\":\"v\"}]}",
                  "$.credentials[0].name" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":\"v\",\"as\":\"disk\"}]}",
                  "\"file\", \"env\" or \"both\"" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"a.b\",\"value\":\"v\",\"as\":\"env\"}]}",
                  "not an environment variable name" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"E\",\"value_base64\":\"AA==\",\"as\":\"env\"}]}",
                  "NUL" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":\"v\",\"scope\":\"read:*:x\"}]}",
                  "not a scope" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":\"v\",\"scope\":\"read:repo:a*\"}]}",
                  "not a scope" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"x\",\"value\":\"SECRETVALUE\"},{\"name\":\"x\","
                  "\"value\":\"w\"}]}",
                  "duplicate credential name \"x\"" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct secmem *m;
                struct profile_plain p;
                struct sr_error e = { 0 };
                if (parse(cases[i].txt, &m, &p, &e) == 0)
                        fail_msg("case %zu accepted: %s", i, cases[i].txt);
                assert_int_equal(e.exit_code, 77);
                if (!strstr(e.msg, cases[i].want))
                        fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].want);
                /* the message names file and place, never the secret */
                assert_non_null(strstr(e.msg, "plain: "));
                if (strstr(e.msg, "SECRET"))
                        fail_msg("case %zu quotes input: %s", i, e.msg);
                secmem_destroy(m);
        }
}


#define BIND_CRED(bind) \
        "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"TOK\",\"value\":\"SECRETVALUE\",\"bind\":" bind "}]}"

static void test_bind_valid(void **state) {
        static const char *txt =
                "{\"tenant\":\"acme\",\"credentials\":["
                "{\"name\":\"GH\",\"value\":\"ghp_x\",\"as\":\"env\",\"bind\":{\"hosts\":[\"API.GitHub.com.\","
                "\"*.Example.NET\"],\"inject\":\"bearer\",\"resolve\":{\"api.github.com\":[\"127.0.0.1\",\"[::1]\"],"
                "\"a.example.net\":[\"0x7f.1\"]},\"ca_pem\":\"\\n-----BEGIN CERTIFICATE-----\\nAA==\\n"
                "-----END CERTIFICATE-----\\n\"}},"
                "{\"name\":\"K\",\"value\":\"k1\",\"bind\":{\"hosts\":[\"api.x.com\"],\"port\":8443,"
                "\"inject\":\"header\",\"header\":\"X-Api-Key\"}},"
                "{\"name\":\"B\",\"value_base64\":\"AAE=\",\"bind\":{\"hosts\":[\"git.x.com\"],\"inject\":\"basic\","
                "\"user\":\"x-access-token\"}},"
                "{\"name\":\"plain\",\"value\":\"p\"}]}";
        struct secmem *m;
        struct profile_plain p;
        struct sr_error e = { 0 };
        const struct cred_binding *b;
        (void)state;
        assert_int_equal(parse(txt, &m, &p, &e), 0);
        assert_int_equal(p.n_creds, 4);
        b = p.creds[0].bind;
        assert_non_null(b);
        assert_int_equal(b->n_hosts, 2);
        assert_string_equal(b->hosts[0], "api.github.com");
        assert_string_equal(b->hosts[1], "*.example.net");
        assert_int_equal(b->port, 443);
        assert_int_equal(b->inject, BIND_BEARER);
        assert_null(b->header);
        assert_null(b->user);
        assert_int_equal(b->n_pins, 2);
        assert_string_equal(b->pins[0].host, "api.github.com");
        assert_int_equal(b->pins[0].n_addrs, 2);
        assert_string_equal(b->pins[0].addrs[0], "127.0.0.1");
        assert_string_equal(b->pins[0].addrs[1], "::1");
        assert_string_equal(b->pins[1].host, "a.example.net");
        assert_string_equal(b->pins[1].addrs[0], "127.0.0.1");
        assert_non_null(strstr(b->ca_pem, "BEGIN CERTIFICATE"));
        b = p.creds[1].bind;
        assert_int_equal(b->port, 8443);
        assert_int_equal(b->inject, BIND_HEADER);
        assert_string_equal(b->header, "x-api-key");
        assert_null(b->ca_pem);
        b = p.creds[2].bind;
        assert_int_equal(b->inject, BIND_BASIC);
        assert_string_equal(b->user, "x-access-token");
        assert_null(p.creds[3].bind);
        secmem_destroy(m);
}

static void test_bind_invalid(void **state) {
        static const struct {
                const char *txt, *want;
        } cases[] = {
                { BIND_CRED("[]"), "bind: expected an object" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"SECRETVALUE\":1}"), "bind: unknown key" },
                { BIND_CRED("{\"inject\":\"bearer\"}"), "bind.hosts: missing" },
                { BIND_CRED("{\"hosts\":\"a.com\",\"inject\":\"bearer\"}"), "bind.hosts: expected an array" },
                { BIND_CRED("{\"hosts\":[],\"inject\":\"bearer\"}"), "bind.hosts: expected 1 to 16" },
                { BIND_CRED("{\"hosts\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\","
                            "\"n\",\"o\",\"p\",\"q\"],\"inject\":\"bearer\"}"),
                  "bind.hosts: expected 1 to 16" },
                { BIND_CRED("{\"hosts\":[1],\"inject\":\"bearer\"}"), "bind.hosts[0]: expected a string" },
                { BIND_CRED("{\"hosts\":[\"SECRETVALUE host\"],\"inject\":\"bearer\"}"),
                  "bind.hosts[0]: not a host name" },
                { BIND_CRED("{\"hosts\":[\"\"],\"inject\":\"bearer\"}"), "bind.hosts[0]: not a host name" },
                { BIND_CRED("{\"hosts\":[\"caf\\u00e9.com\"],\"inject\":\"bearer\"}"),
                  "bind.hosts[0]: not a host name" },
                { BIND_CRED("{\"hosts\":[\"a.*.com\"],\"inject\":\"bearer\"}"), "wildcard is allowed only" },
                { BIND_CRED("{\"hosts\":[\"*\"],\"inject\":\"bearer\"}"), "wildcard is allowed only" },
                { BIND_CRED("{\"hosts\":[\"*.*.com\"],\"inject\":\"bearer\"}"), "wildcard is allowed only" },
                { BIND_CRED("{\"hosts\":[\"*.com\"],\"inject\":\"bearer\"}"), "at least two labels" },
                { BIND_CRED("{\"hosts\":[\"127.0.0.1\"],\"inject\":\"bearer\"}"), "an address, not a host name" },
                { BIND_CRED("{\"hosts\":[\"[::1]\"],\"inject\":\"bearer\"}"), "an address, not a host name" },
                { BIND_CRED("{\"hosts\":[\"A.com\",\"a.com.\"],\"inject\":\"bearer\"}"),
                  "bind.hosts[1]: the same host twice" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"port\":0,\"inject\":\"bearer\"}"),
                  "bind.port: must be between 1 and 65535" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"port\":\"443\",\"inject\":\"bearer\"}"),
                  "bind.port: expected an integer" },
                { BIND_CRED("{\"hosts\":[\"a.com\"]}"), "bind.inject: missing" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"cookie\"}"), "\"bearer\", \"basic\" or \"header\"" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"header\"}"), "bind.header: missing" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"header\",\"header\":\"x api\"}"),
                  "bind.header: not an HTTP header name" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"header\",\"header\":\"\"}"),
                  "bind.header: not an HTTP header name" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"header\",\"header\":\"x-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"),
                  "bind.header: not an HTTP header name" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"header\",\"header\":\"Host\"}"),
                  "bind.header: a header the broker frames" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"header\",\"header\":\"transfer-encoding\"}"),
                  "bind.header: a header the broker frames" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"header\":\"x-k\"}"),
                  "bind.header: only with" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"basic\"}"), "bind.user: missing" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"basic\",\"user\":\"a:b\"}"),
                  "bind.user: must be at most 255 characters without ':'" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"basic\",\"user\":\"a\\nb\"}"),
                  "bind.user: must not contain control" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"header\",\"header\":\"x-k\",\"user\":\"u\"}"),
                  "bind.user: only with" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":[]}"),
                  "bind.resolve: expected an object" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"b.com\":[\"127.0.0.1\"]}}"),
                  "bind.resolve{0}: a name that is not among" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"SECRETVALUE x\":[\"::1\"]}}"),
                  "bind.resolve{0}: not a host name" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"1.2.3.4\":[\"::1\"]}}"),
                  "bind.resolve{0}: not a host name" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"a.com\":[]}}"),
                  "bind.resolve{0}: expected a non-empty array" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"a.com\":\"::1\"}}"),
                  "bind.resolve{0}: expected a non-empty array" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"a.com\":[\"1\",\"2\",\"3\","
                            "\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}}"),
                  "bind.resolve{0}: too many addresses" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"a.com\":[\"SECRETVALUE\"]}}"),
                  "bind.resolve{0}[0]: not an IP address literal" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"resolve\":{\"a.com\":[7]}}"),
                  "bind.resolve{0}[0]: not an IP address literal" },
                { BIND_CRED("{\"hosts\":[\"*.a.com\"],\"inject\":\"bearer\",\"resolve\":{\"x.a.com\":[\"::1\"],"
                            "\"X.a.com.\":[\"::1\"]}}"),
                  "bind.resolve{1}: the same name twice" },
                { BIND_CRED("{\"hosts\":[\"*.a.com\"],\"inject\":\"bearer\",\"resolve\":{\"a.com\":[\"::1\"]}}"),
                  "bind.resolve{0}: a name that is not among" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"ca_pem\":1}"),
                  "bind.ca_pem: expected a string" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"ca_pem\":\"SECRETVALUE\"}"),
                  "bind.ca_pem: expected PEM certificates" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"ca_pem\":\"-----BEGIN CERTIFICATE-----"
                            "\\nAA==\\n\"}"),
                  "bind.ca_pem: expected PEM certificates" },
                { BIND_CRED("{\"hosts\":[\"a.com\"],\"inject\":\"bearer\",\"ca_pem\":\"-----BEGIN CERTIFICATE-----"
                            "\\u0001-----END CERTIFICATE-----\"}"),
                  "bind.ca_pem: not PEM text" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"T\",\"value\":\"SECRET\\r\\nVALUE\",\"bind\":"
                  "{\"hosts\":[\"a.com\"],\"inject\":\"bearer\"}}]}",
                  "value: a bound value must fit one header field" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"T\",\"value_base64\":\"AA==\",\"bind\":"
                  "{\"hosts\":[\"a.com\"],\"inject\":\"header\",\"header\":\"x-k\"}}]}",
                  "value: a bound value must fit one header field" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"T\",\"value\":\" SECRETVALUE\",\"bind\":"
                  "{\"hosts\":[\"a.com\"],\"inject\":\"bearer\"}}]}",
                  "must not start or end with a space" },
                { "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"T\",\"value\":\"\",\"bind\":"
                  "{\"hosts\":[\"a.com\"],\"inject\":\"bearer\"}}]}",
                  "value is empty" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct secmem *m;
                struct profile_plain p;
                struct sr_error e = { 0 };
                if (parse(cases[i].txt, &m, &p, &e) == 0)
                        fail_msg("case %zu accepted: %s", i, cases[i].txt);
                assert_int_equal(e.exit_code, 77);
                assert_string_equal(e.reason, "bad-plaintext");
                if (!strstr(e.msg, cases[i].want))
                        fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].want);
                assert_non_null(strstr(e.msg, "plain: $.credentials[0]"));
                if (strstr(e.msg, "SECRET"))
                        fail_msg("case %zu quotes input: %s", i, e.msg);
                secmem_destroy(m);
        }
}

static void test_too_many(void **state) {
        char *txt = malloc(16 * 1024), *p = txt;
        struct secmem *m;
        struct profile_plain pl;
        struct sr_error e = { 0 };
        (void)state;
        p += sprintf(p, "{\"tenant\":\"acme\",\"credentials\":[");
        for (int i = 0; i <= PROFILE_MAX_CREDS; i++)
                p += sprintf(p, "%s{\"name\":\"c%d\",\"value\":\"v\"}", i ? "," : "", i);
        sprintf(p, "]}");
        assert_int_not_equal(parse(txt, &m, &pl, &e), 0);
        assert_non_null(strstr(e.msg, "too many credentials"));
        secmem_destroy(m);
        free(txt);
}

static void test_deep_nesting(void **state) {
        char txt[4096];
        struct secmem *m;
        struct profile_plain p;
        struct sr_error e = { 0 };
        size_t n = 0;
        (void)state;
        for (int i = 0; i < 1000; i++)
                txt[n++] = '[';
        txt[n] = 0;
        assert_int_not_equal(parse(txt, &m, &p, &e), 0);
        secmem_destroy(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),      cmocka_unit_test(test_invalid_table),
                cmocka_unit_test(test_bind_valid), cmocka_unit_test(test_bind_invalid),
                cmocka_unit_test(test_too_many),   cmocka_unit_test(test_deep_nesting),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
