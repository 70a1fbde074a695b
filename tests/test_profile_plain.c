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
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_invalid_table),
                cmocka_unit_test(test_too_many),
                cmocka_unit_test(test_deep_nesting),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
