/* Unit tests: audit message protocol (encode/decode round trips, every malformed message, replies, times). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/audit_proto.h"

#define T0 "\"schema\":1,\"seq\":7,\"time\":\"2025-03-01T10:00:00.123Z\""

static void fill_all(struct audit_event *ev, enum audit_event_type t) {
        static const struct audit_cred creds[] = { { "github_token", NULL, false, NULL, 0 },
                                                   { "OPENAI_API_KEY", "read:model:*", true, NULL, 0 } };
        audit_event_init(ev, t);
        ev->tenant = "acme";
        ev->pool = "acme-pool";
        ev->task = "T42";
        ev->pid = 1234;
        if (t != AUDIT_EV_REVOKE) {
                ev->profile = "agent";
                ev->profile_version = 3;
        }
        if (t == AUDIT_EV_LAUNCH || t == AUDIT_EV_INJECT) {
                ev->recipient = "0123456789abcdef";
                ev->issuer = "fedcba9876543210";
        }
        if (t == AUDIT_EV_INJECT) {
                ev->creds = creds;
                ev->n_creds = 2;
                ev->sandbox_pid = 1240;
        }
        if (t == AUDIT_EV_SCRUB) {
                static const struct audit_cred counts[] = { { "GH", NULL, true, "api.github.com", 3 },
                                                            { "GH", NULL, true, "*.example.net", 1 } };
                ev->creds = counts;
                ev->n_creds = 2;
        }
        if (t == AUDIT_EV_DENY)
                ev->reason = "expired";
        if (t == AUDIT_EV_EXIT) {
                ev->has_exit = true;
                ev->exit_code = 137;
                ev->signal = 9;
                ev->timed_out = true;
                ev->has_usage = true;
                ev->usage = (struct audit_usage){ 1500, 20, 30, 4096 };
                ev->sandbox_pid = 1240;
        }
        if (t == AUDIT_EV_REVOKE) {
                ev->task = NULL;
                ev->profile = "agent";
                ev->profile_version = 2;
                ev->key_id = "00112233aabbccdd";
                ev->reason = "compromised";
        }
        ev->seq = 9;
        snprintf(ev->time, sizeof ev->time, "2025-03-01T10:00:00.123Z");
}

static void streq_or_null(const char *a, const char *b) {
        if (!a || !b)
                assert_ptr_equal(a, b);
        else
                assert_string_equal(a, b);
}

static void test_roundtrip_every_event(void **state) {
        for (enum audit_event_type t = AUDIT_EV_LAUNCH; t <= AUDIT_EV_REVOKE; t++) {
                struct audit_event ev, back;
                struct sr_error e = { 0 };
                char *msg = NULL, *canon = NULL;
                size_t len;
                fill_all(&ev, t);
                assert_int_equal(audit_event_encode(&ev, &msg, &len, &e), 0);
                assert_int_equal(strlen(msg), len);
                assert_int_equal(audit_event_decode(msg, len, &back, &e), 0);
                assert_int_equal(back.type, t);
                assert_int_equal(back.seq, 9);
                assert_string_equal(back.time, ev.time);
                streq_or_null(back.tenant, ev.tenant);
                streq_or_null(back.pool, ev.pool);
                streq_or_null(back.task, ev.task);
                streq_or_null(back.profile, ev.profile);
                streq_or_null(back.recipient, ev.recipient);
                streq_or_null(back.issuer, ev.issuer);
                streq_or_null(back.key_id, ev.key_id);
                streq_or_null(back.reason, ev.reason);
                assert_int_equal(back.profile_version, ev.profile_version);
                assert_int_equal(back.pid, ev.pid);
                assert_int_equal(back.sandbox_pid, ev.sandbox_pid);
                assert_int_equal(back.n_creds, ev.n_creds);
                for (size_t i = 0; i < ev.n_creds; i++) {
                        assert_string_equal(back.creds[i].name, ev.creds[i].name);
                        streq_or_null(back.creds[i].scope, ev.creds[i].scope);
                        streq_or_null(back.creds[i].host, ev.creds[i].host);
                        assert_int_equal(back.creds[i].brokered, ev.creds[i].brokered);
                        assert_int_equal(back.creds[i].requests, ev.creds[i].requests);
                }
                assert_int_equal(back.has_exit, ev.has_exit);
                assert_int_equal(back.exit_code, ev.exit_code);
                assert_int_equal(back.signal, ev.signal);
                assert_int_equal(back.timed_out, ev.timed_out);
                assert_int_equal(back.has_usage, ev.has_usage);
                assert_int_equal(back.usage.wall_ms, ev.usage.wall_ms);
                assert_int_equal(back.usage.max_rss_kb, ev.usage.max_rss_kb);
                /* what the collector stores is exactly what was sent */
                assert_int_equal(audit_event_canonical(&back, &canon), 0);
                assert_string_equal(canon, msg);
                free(canon);
                free(msg);
                audit_event_free(&back);
        }
}

static void test_encode_refuses_invalid(void **state) {
        struct audit_event ev;
        struct sr_error e = { 0 };
        char *msg = NULL;
        fill_all(&ev, AUDIT_EV_LAUNCH);
        ev.tenant = "Not-A-Slug";
        assert_true(audit_event_encode(&ev, &msg, NULL, &e) < 0);
        assert_null(msg);
        assert_non_null(strstr(e.msg, "$.tenant"));
        fill_all(&ev, AUDIT_EV_LAUNCH);
        ev.reason = "x"; /* not allowed in a launch */
        assert_true(audit_event_encode(&ev, &msg, NULL, &e) < 0);
        fill_all(&ev, AUDIT_EV_NONE);
        assert_true(audit_event_encode(&ev, &msg, NULL, &e) < 0);
}

static const struct bad {
        const char *msg;
        const char *reason; /* expected e.reason */
        const char *where;  /* substring of e.msg */
} bad[] = {
        { "", "bad-message", "$" },
        { "not json", "bad-json", "invalid JSON" },
        { "{\"schema\":1", "bad-json", "invalid JSON" },
        { "[]", "bad-message", "expected an object" },
        { "\"launch\"", "bad-json", "invalid JSON" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1}", "bad-json",
          "invalid JSON" },
        { "{\"seq\":1,\"time\":\"2025-03-01T10:00:00Z\",\"event\":\"launch\"}", "bad-message", "$.schema" },
        { "{\"schema\":2,\"seq\":1,\"time\":\"2025-03-01T10:00:00Z\",\"event\":\"launch\"}", "bad-schema", "$.schema" },
        { "{\"schema\":\"1\",\"seq\":1}", "bad-message", "$.schema" },
        { "{\"schema\":1,\"seq\":0,\"time\":\"2025-03-01T10:00:00Z\",\"event\":\"launch\"}", "bad-message", "$.seq" },
        { "{\"schema\":1,\"seq\":-3,\"time\":\"2025-03-01T10:00:00Z\",\"event\":\"launch\"}", "bad-message", "$.seq" },
        { "{\"schema\":1,\"seq\":9007199254740993,\"time\":\"2025-03-01T10:00:00Z\",\"event\":\"launch\"}",
          "bad-message", "$.seq" },
        { "{\"schema\":1,\"seq\":1.5,\"time\":\"2025-03-01T10:00:00Z\",\"event\":\"launch\"}", "bad-message", "$.seq" },
        { "{\"schema\":1,\"seq\":1,\"event\":\"launch\"}", "bad-message", "$.time" },
        { "{\"schema\":1,\"seq\":1,\"time\":\"yesterday\",\"event\":\"launch\"}", "bad-message", "$.time" },
        { "{\"schema\":1,\"seq\":1,\"time\":\"2025-02-30T10:00:00Z\",\"event\":\"launch\"}", "bad-message", "$.time" },
        { "{\"schema\":1,\"seq\":1,\"time\":\"2025-03-01T25:00:00Z\",\"event\":\"launch\"}", "bad-message", "$.time" },
        { "{\"schema\":1,\"seq\":1,\"time\":\"2025-03-01 10:00:00Z\",\"event\":\"launch\"}", "bad-message", "$.time" },
        { "{\"schema\":1,\"seq\":1,\"time\":\"2025-03-01T10:00:00\",\"event\":\"launch\"}", "bad-message", "$.time" },
        { "{" T0 "}", "bad-message", "$.event" },
        { "{" T0 ",\"event\":\"explode\"}", "bad-message", "$.event" },
        { "{" T0 ",\"event\":7}", "bad-message", "$.event" },
        { "{" T0 ",\"event\":\"launch\",\"task\":\"t\",\"pid\":1}", "bad-message", "$.tenant" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"ACME\",\"task\":\"t\",\"pid\":1}", "bad-message", "$.tenant" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"a\",\"task\":\"t\",\"pid\":1}", "bad-message", "$.tenant" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"../etc\",\"task\":\"t\",\"pid\":1}", "bad-message", "$.tenant" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"-acme\",\"task\":\"t\",\"pid\":1}", "bad-message", "$.tenant" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"_global\",\"task\":\"t\",\"pid\":1}", "bad-message", "$.tenant" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":[\"acme\"],\"task\":\"t\",\"pid\":1}", "bad-message", "$.tenant" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"ac\\u0000me\",\"task\":\"t\",\"pid\":1}", "bad-json",
          "invalid JSON" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"pool\":\"Pool!\",\"task\":\"t\",\"pid\":1}",
          "bad-message", "$.pool" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"a/b\",\"pid\":1}", "bad-message", "$.task" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"\",\"pid\":1}", "bad-message", "$.task" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"pid\":1}", "bad-message", "$.task" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\"}", "bad-message", "$.pid" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":0}", "bad-message", "$.pid" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":4194305}", "bad-message", "$.pid" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":\"1\"}", "bad-message", "$.pid" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"profile\":\"a b\"}",
          "bad-message", "$.profile" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"profile\":\"a/b\"}",
          "bad-message", "$.profile" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"profile_version\":1}",
          "bad-message", "$.profile_version" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"profile\":\"p\",\"profile_"
          "version\":-1}",
          "bad-message", "$.profile_version" },
        { "{" T0
          ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"recipient\":\"0123456789ABCDEF\"}",
          "bad-message", "$.recipient" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"issuer\":\"0123\"}",
          "bad-message", "$.issuer" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"reason\":\"x\"}", "bad-message",
          "$.reason" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"credentials\":[]}",
          "bad-message", "$.credentials" },
        { "{" T0 ",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"t\",\"pid\":1,\"value\":\"x\"}", "bad-message",
          "$.value" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\"}", "bad-message", "$.credentials" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":{}}", "bad-message",
          "$.credentials" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[\"gh\"]}", "bad-message",
          "$.credentials[0]" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{}]}", "bad-message",
          "$.credentials[0].name" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{\"name\":\"a/b\"}]}",
          "bad-message", "$.credentials[0].name" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{\"name\":\"..\"}]}",
          "bad-message", "$.credentials[0].name" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{\"name\":\"a b\"}]}",
          "bad-message", "$.credentials[0].name" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{\"name\":\"a\"},{\"name\":"
          "\"a\"}]}",
          "bad-message", "$.credentials[1].name" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{\"name\":\"a\",\"scope\":"
          "\"r w\"}]}",
          "bad-message", "$.credentials[0].scope" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{\"name\":\"a\",\"value\":"
          "\"hunter2\"}]}",
          "bad-message", "$.credentials[0].value" },
        { "{" T0
          ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[{\"name\":\"a\",\"length\":7}]}",
          "bad-message", "$.credentials[0].length" },
        { "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[],\"exit_code\":0}",
          "bad-message", "$.exit_code" },
        { "{" T0 ",\"event\":\"deny\",\"tenant\":\"acme\"}", "bad-message", "$.reason" },
        { "{" T0 ",\"event\":\"deny\",\"tenant\":\"acme\",\"reason\":\"bad reason\"}", "bad-message", "$.reason" },
        { "{" T0 ",\"event\":\"deny\",\"tenant\":\"acme\",\"reason\":\"\"}", "bad-message", "$.reason" },
        { "{" T0 ",\"event\":\"scrub\",\"tenant\":\"acme\"}", "bad-message", "$.task" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\"}", "bad-message", "$.exit_code" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\",\"exit_code\":256}", "bad-message",
          "$.exit_code" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\",\"exit_code\":0,\"signal\":65}", "bad-message",
          "$.signal" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\",\"exit_code\":0,\"timed_out\":\"no\"}",
          "bad-message", "$.timed_out" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\",\"exit_code\":0,\"usage\":{}}", "bad-message",
          "$.usage.wall_ms" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\",\"exit_code\":0,\"usage\":{\"wall_ms\":1,"
          "\"cpu_user_ms\":1,\"cpu_sys_ms\":1,\"max_rss_kb\":-1}}",
          "bad-message", "$.usage.max_rss_kb" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\",\"exit_code\":0,\"usage\":{\"wall_ms\":1,"
          "\"cpu_user_ms\":1,\"cpu_sys_ms\":1,\"max_rss_kb\":1,\"x\":1}}",
          "bad-message", "$.usage.x" },
        { "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"t\",\"exit_code\":0,\"usage\":[]}", "bad-message",
          "$.usage" },
        { "{" T0 ",\"event\":\"revoke\"}", "bad-message", "tenant or a key_id" },
        { "{" T0 ",\"event\":\"revoke\",\"key_id\":\"0011223344556677\",\"profile\":\"p\"}", "bad-message",
          "$.profile" },
        { "{" T0 ",\"event\":\"revoke\",\"tenant\":\"acme\",\"task\":\"t\"}", "bad-message", "$.task" },
        { "{" T0 ",\"event\":\"revoke\",\"key_id\":\"zz11223344556677\"}", "bad-message", "$.key_id" },
        { "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
          "]]]]]]]]]]]}",
          "bad-json", "nested" },
};

static void test_every_malformed_message(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct audit_event ev;
                struct sr_error e = { 0 };
                int r = audit_event_decode(bad[i].msg, strlen(bad[i].msg), &ev, &e);
                if (r >= 0 || strcmp(e.reason, bad[i].reason) != 0 || !strstr(e.msg, bad[i].where))
                        fail_msg("case %zu (%s): r=%d reason=%s msg=%s", i, bad[i].msg, r, e.reason, e.msg);
                /* the decoder never quotes the client's values */
                assert_null(strstr(e.msg, "hunter2"));
                assert_null(ev.doc);
                assert_null(ev.creds_owned);
        }
}

static void test_nul_and_oversize(void **state) {
        static char big[AUDIT_MSG_MAX + 2];
        const char nul[] = "{\"schema\":1\0}";
        struct audit_event ev;
        struct sr_error e = { 0 };
        assert_true(audit_event_decode(nul, sizeof nul - 1, &ev, &e) < 0);
        assert_string_equal(e.reason, "bad-message");
        memset(big, ' ', sizeof big);
        big[0] = '{';
        big[sizeof big - 1] = '}';
        assert_int_equal(audit_event_decode(big, sizeof big, &ev, &e), -EMSGSIZE);
        assert_string_equal(e.reason, "too-large");
}

static void test_error_keeps_seq(void **state) {
        const char *m = "{" T0 ",\"event\":\"launch\",\"tenant\":\"ACME\",\"task\":\"t\",\"pid\":1}";
        struct audit_event ev;
        struct sr_error e = { 0 };
        assert_true(audit_event_decode(m, strlen(m), &ev, &e) < 0);
        assert_int_equal(ev.seq, 7);
}

static void test_too_many_creds(void **state) {
        char buf[AUDIT_MSG_MAX];
        size_t n = (size_t)snprintf(
                buf, sizeof buf, "{" T0 ",\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"t\",\"credentials\":[");
        struct audit_event ev;
        struct sr_error e = { 0 };
        for (int i = 0; i < AUDIT_MAX_CREDS + 1; i++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"name\":\"c%d\"}", i ? "," : "", i);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "]}");
        assert_true(audit_event_decode(buf, n, &ev, &e) < 0);
        assert_non_null(strstr(e.msg, "more than 64"));
}

static void test_times(void **state) {
        static const char *good[] = { "2025-03-01T10:00:00Z", "2025-03-01T10:00:00.1Z",
                                      "2024-02-29T23:59:60.123456789Z", "2025-03-01T10:00:00+02:00",
                                      "2025-03-01T10:00:00.5-11:30" };
        static const char *badt[] = { "",
                                      "2025-03-01",
                                      "2025-3-01T10:00:00Z",
                                      "2025-03-01T10:00:00.Z",
                                      "2025-03-01T10:00:00.1234567890Z",
                                      "2023-02-29T10:00:00Z",
                                      "2025-13-01T10:00:00Z",
                                      "2025-03-01T10:60:00Z",
                                      "2025-03-01T10:00:00+2:00",
                                      "2025-03-01T10:00:00Zjunk",
                                      "1969-12-31T23:59:59Z",
                                      "2025-03-00T10:00:00Z" };
        char now[AUDIT_TIME_MAX];
        struct timespec ts = { 1700000000, 987654321 };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!audit_time_valid(good[i]))
                        fail_msg("rejected %s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(badt); i++)
                if (audit_time_valid(badt[i]))
                        fail_msg("accepted %s", badt[i]);
        audit_time_format(&ts, now);
        assert_string_equal(now, "2023-11-14T22:13:20.987Z");
        audit_time_now(now);
        assert_true(audit_time_valid(now));
}

static void test_replies(void **state) {
        struct audit_reply ok = { .seq = 5, .ok = true, .line = 17 }, err = { .seq = 6 }, back;
        struct sr_error e = { 0 };
        char buf[1024];
        size_t n;
        snprintf(err.error, sizeof err.error, "not-allowed");
        snprintf(err.message, sizeof err.message, "uid 1000 may not write events for acme");
        assert_int_equal(audit_reply_encode(&ok, buf, sizeof buf, &n), 0);
        assert_int_equal(audit_reply_decode(buf, n, &back, &e), 0);
        assert_true(back.ok);
        assert_int_equal(back.seq, 5);
        assert_int_equal(back.line, 17);
        assert_int_equal(audit_reply_encode(&err, buf, sizeof buf, &n), 0);
        assert_int_equal(audit_reply_decode(buf, n, &back, &e), 0);
        assert_false(back.ok);
        assert_int_equal(back.seq, 6);
        assert_string_equal(back.error, "not-allowed");
        assert_string_equal(back.message, err.message);
        static const char *badr[] = {
                "",
                "x",
                "{}",
                "{\"schema\":1,\"seq\":1,\"status\":\"ok\"}",
                "{\"schema\":1,\"seq\":1,\"status\":\"maybe\",\"line\":1}",
                "{\"schema\":1,\"seq\":1,\"status\":\"ok\",\"line\":1,\"error\":\"x\"}",
                "{\"schema\":1,\"seq\":1,\"status\":\"error\"}",
                "{\"schema\":1,\"seq\":1,\"status\":\"error\",\"error\":\"a b\"}",
                "{\"schema\":2,\"seq\":1,\"status\":\"ok\",\"line\":1}",
                "{\"schema\":1,\"seq\":1,\"status\":\"ok\",\"line\":1,\"extra\":1}",
        };
        for (size_t i = 0; i < ELEMENTSOF(badr); i++)
                if (audit_reply_decode(badr[i], strlen(badr[i]), &back, &e) >= 0)
                        fail_msg("accepted reply %s", badr[i]);
        /* control characters from a hostile collector never reach the terminal */
        const char *ctl = "{\"schema\":1,\"seq\":1,\"status\":\"error\",\"error\":\"x\",\"message\":\"a\\u001b[2Jb\"}";
        assert_int_equal(audit_reply_decode(ctl, strlen(ctl), &back, &e), 0);
        assert_string_equal(back.message, "a?[2Jb");
}

static void test_validators(void **state) {
        assert_true(audit_key_id_valid("0123456789abcdef"));
        assert_false(audit_key_id_valid("0123456789abcde"));
        assert_false(audit_key_id_valid("0123456789abcdeg"));
        assert_false(audit_key_id_valid(NULL));
        assert_true(audit_reason_valid("bad-signature"));
        assert_true(audit_reason_valid("scope:over.ceiling_1"));
        assert_false(audit_reason_valid("has space"));
        assert_false(audit_reason_valid("0123456789012345678901234567890123456789012345678901234567890123456789"));
        assert_int_equal(audit_event_from_name("scrub"), AUDIT_EV_SCRUB);
        assert_int_equal(audit_event_from_name("nope"), AUDIT_EV_NONE);
        assert_null(audit_event_name(AUDIT_EV_NONE));
}

/* Revision 2: abandoned needs "rev"; what a newer peer sends is refused as
 * "unsupported-rev" only when this side does not know it, else accepted. */
static void test_revisions(void **state) {
        static const struct {
                const char *msg;
                int ok;
                const char *reason;
        } cases[] = {
                { "{" T0 ",\"rev\":2,\"event\":\"abandoned\",\"tenant\":\"acme\",\"task\":\"T1\",\"pid\":5,\"reason\":"
                  "\"connection-closed\"}",
                  1, NULL },
                { "{" T0 ",\"event\":\"abandoned\",\"tenant\":\"acme\",\"task\":\"T1\",\"reason\":\"x\"}", 0,
                  "bad-message" },
                { "{" T0 ",\"rev\":2,\"event\":\"abandoned\",\"tenant\":\"acme\",\"task\":\"T1\"}", 0, "bad-message" },
                { "{" T0 ",\"rev\":4,\"event\":\"future\",\"tenant\":\"acme\",\"task\":\"T1\"}", 0, "unsupported-rev" },
                { "{" T0
                  ",\"rev\":4,\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"T1\",\"pid\":1,\"host\":\"x\"}",
                  0, "unsupported-rev" },
                /* revision 3: egress, known here, checked like every other event */
                { "{" T0 ",\"rev\":3,\"event\":\"egress\",\"tenant\":\"acme\",\"task\":\"T1\"}", 0, "bad-message" },
                { "{" T0 ",\"rev\":3,\"event\":\"egress\",\"tenant\":\"acme\",\"task\":\"T1\",\"hosts\":[],"
                  "\"denied\":[]}",
                  1, NULL },
                { "{" T0 ",\"event\":\"egress\",\"tenant\":\"acme\",\"task\":\"T1\",\"hosts\":[],\"denied\":[]}", 0,
                  "bad-message" },
                { "{" T0 ",\"rev\":3,\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"T1\",\"pid\":1}", 1, NULL },
                { "{" T0 ",\"rev\":2,\"event\":\"egress\",\"tenant\":\"acme\",\"task\":\"T1\"}", 0, "bad-message" },
                { "{" T0 ",\"rev\":4,\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"T1\",\"pid\":1}", 1, NULL },
                /* revision 3: brokered credentials */
                { "{" T0 ",\"rev\":3,\"event\":\"scrub\",\"tenant\":\"acme\",\"task\":\"T1\",\"credentials\":"
                  "[{\"name\":\"GH\",\"brokered\":true,\"host\":\"api.github.com\",\"requests\":3},"
                  "{\"name\":\"GH\",\"brokered\":true,\"host\":\"*.example.net\",\"requests\":1}]}",
                  1, NULL },
                { "{" T0 ",\"event\":\"scrub\",\"tenant\":\"acme\",\"task\":\"T1\",\"credentials\":"
                  "[{\"name\":\"GH\",\"brokered\":true,\"host\":\"api.github.com\",\"requests\":3}]}",
                  0, "bad-message" },
                { "{" T0 ",\"rev\":3,\"event\":\"scrub\",\"tenant\":\"acme\",\"task\":\"T1\",\"credentials\":"
                  "[{\"name\":\"GH\",\"host\":\"api.github.com\",\"requests\":3},"
                  "{\"name\":\"GH\",\"host\":\"api.github.com\",\"requests\":1}]}",
                  0, "bad-message" },
                { "{" T0 ",\"rev\":3,\"event\":\"scrub\",\"tenant\":\"acme\",\"task\":\"T1\",\"credentials\":"
                  "[{\"name\":\"GH\",\"host\":\"API github\",\"requests\":3}]}",
                  0, "bad-message" },
                { "{" T0 ",\"rev\":3,\"event\":\"scrub\",\"tenant\":\"acme\",\"task\":\"T1\",\"credentials\":"
                  "[{\"name\":\"GH\",\"host\":\"a.com\"}]}",
                  0, "bad-message" },
                { "{" T0 ",\"rev\":3,\"event\":\"scrub\",\"tenant\":\"acme\",\"task\":\"T1\",\"credentials\":"
                  "[{\"name\":\"GH\",\"requests\":2}]}",
                  0, "bad-message" },
                { "{" T0 ",\"rev\":3,\"event\":\"inject\",\"tenant\":\"acme\",\"task\":\"T1\",\"credentials\":"
                  "[{\"name\":\"GH\",\"brokered\":true}]}",
                  1, NULL },
                { "{" T0 ",\"rev\":0,\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"T1\",\"pid\":1}", 0,
                  "bad-input" },
                { "{\"schema\":2,\"seq\":1,\"time\":\"2025-03-01T10:00:00Z\",\"event\":\"launch\"}", 0, "bad-schema" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct audit_event ev;
                struct sr_error e = { 0 };
                int r = audit_event_decode(cases[i].msg, strlen(cases[i].msg), &ev, &e);
                if ((r == 0) != cases[i].ok ||
                    (!cases[i].ok && strcmp(e.reason, cases[i].reason) != 0 &&
                     !(strcmp(cases[i].reason, "bad-input") == 0 && strcmp(e.reason, "bad-message") == 0)))
                        fail_msg("case %zu: r=%d reason=%s msg=%s", i, r, e.reason, e.msg);
                audit_event_free(&ev);
        }
        /* the encoder stamps the revision an event needs, and only then */
        {
                struct audit_event ev;
                struct sr_error e = { 0 };
                char *out = NULL;
                audit_event_init(&ev, AUDIT_EV_ABANDONED);
                ev.tenant = "acme";
                ev.task = "T1";
                ev.reason = "supervisor-vanished";
                ev.seq = 3;
                snprintf(ev.time, sizeof ev.time, "2025-03-01T10:00:00.123Z");
                assert_int_equal(audit_event_encode(&ev, &out, NULL, &e), 0);
                assert_non_null(strstr(out, "\"rev\":2"));
                free(out);
                fill_all(&ev, AUDIT_EV_LAUNCH);
                assert_int_equal(audit_event_encode(&ev, &out, NULL, &e), 0);
                assert_null(strstr(out, "\"rev\""));
                free(out);
        }
}

/* Revision 3: the egress summary (hosts with counts, refusals by name and reason). */
static void test_egress_event(void **state) {
        static const struct audit_egress_host hosts[] = { { "api.example.com", 443, 3, 123456 },
                                                          { "10.0.0.5", 8443, 1, 0 } };
        static const struct audit_egress_denial denied[] = { { "evil.test", 443, "not-allowed" },
                                                             { "?", 0, "bad-host" } };
        static const char *const refused[] = {
                /* uppercase or spaces are not canonical names */
                "\"hosts\":[{\"host\":\"API.example.com\",\"port\":443,\"connections\":1,\"bytes\":1}],\"denied\":[]",
                "\"hosts\":[{\"host\":\"a b\",\"port\":443,\"connections\":1,\"bytes\":1}],\"denied\":[]",
                "\"hosts\":[{\"host\":\"a\",\"port\":0,\"connections\":1,\"bytes\":1}],\"denied\":[]",
                "\"hosts\":[{\"host\":\"a\",\"port\":1,\"connections\":-1,\"bytes\":1}],\"denied\":[]",
                "\"hosts\":[{\"host\":\"a\",\"port\":1,\"connections\":1}],\"denied\":[]",
                /* a value or a header never fits: unknown keys are refused */
                "\"hosts\":[{\"host\":\"a\",\"port\":1,\"connections\":1,\"bytes\":1,\"value\":\"x\"}],\"denied\":[]",
                "\"hosts\":[],\"denied\":[{\"host\":\"a\",\"port\":1,\"reason\":\"no spaces\"}]",
                "\"hosts\":[],\"denied\":[{\"host\":\"a\",\"port\":70000,\"reason\":\"x\"}]",
                "\"hosts\":[],\"denied\":{}",
                "\"hosts\":[],\"denied\":[],\"omitted\":-1",
                "\"hosts\":[],\"denied\":[],\"reason\":\"x\"",
        };
        struct audit_event ev, back;
        struct sr_error e = { 0 };
        char *msg = NULL, *canon = NULL, buf[4096];
        size_t len;
        audit_event_init(&ev, AUDIT_EV_EGRESS);
        ev.tenant = "acme";
        ev.task = "T42";
        ev.pid = 77;
        ev.sandbox_pid = 78;
        ev.egress_hosts = hosts;
        ev.n_egress_hosts = 2;
        ev.egress_denied = denied;
        ev.n_egress_denied = 2;
        ev.egress_omitted = 5;
        ev.seq = 4;
        snprintf(ev.time, sizeof ev.time, "2025-03-01T10:00:00.123Z");
        assert_int_equal(audit_event_encode(&ev, &msg, &len, &e), 0);
        assert_non_null(strstr(msg, "\"rev\":3"));
        assert_int_equal(audit_event_decode(msg, len, &back, &e), 0);
        assert_int_equal(back.type, AUDIT_EV_EGRESS);
        assert_int_equal(back.n_egress_hosts, 2);
        assert_string_equal(back.egress_hosts[0].host, "api.example.com");
        assert_int_equal(back.egress_hosts[0].port, 443);
        assert_int_equal(back.egress_hosts[0].connections, 3);
        assert_int_equal(back.egress_hosts[0].bytes, 123456);
        assert_int_equal(back.n_egress_denied, 2);
        assert_string_equal(back.egress_denied[1].host, "?");
        assert_int_equal(back.egress_denied[1].port, 0);
        assert_string_equal(back.egress_denied[0].reason, "not-allowed");
        assert_int_equal(back.egress_omitted, 5);
        assert_int_equal(audit_event_canonical(&back, &canon), 0);
        assert_string_equal(canon, msg);
        free(canon);
        free(msg);
        audit_event_free(&back);
        /* the lists are egress's only, and required there */
        fill_all(&ev, AUDIT_EV_EXIT);
        ev.egress_hosts = hosts;
        ev.n_egress_hosts = 1;
        snprintf(buf, sizeof buf,
                 "{" T0 ",\"event\":\"exit\",\"tenant\":\"acme\",\"task\":\"T1\",\"exit_code\":0,\"hosts\":[]}");
        assert_int_equal(audit_event_decode(buf, strlen(buf), &back, &e), -EINVAL);
        assert_string_equal(e.reason, "bad-message");
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                snprintf(buf, sizeof buf,
                         "{" T0 ",\"rev\":3,\"event\":\"egress\",\"tenant\":\"acme\",\"task\":\"T1\",%s}", refused[i]);
                memset(&e, 0, sizeof e);
                if (audit_event_decode(buf, strlen(buf), &back, &e) == 0)
                        fail_msg("case %zu accepted: %s", i, buf);
                audit_event_free(&back);
        }
        /* more than AUDIT_MAX_EGRESS entries: refused; the sender caps and counts them as omitted */
        {
                size_t n = (size_t)snprintf(buf, sizeof buf,
                                            "{" T0 ",\"rev\":3,\"event\":\"egress\",\"tenant\":\"acme\",\"task\":"
                                            "\"T1\",\"hosts\":[],\"denied\":[");
                for (int i = 0; i <= AUDIT_MAX_EGRESS; i++)
                        n += (size_t)snprintf(buf + n, sizeof buf - n,
                                              "%s{\"host\":\"h%d\",\"port\":1,\"reason\":\"x\"}", i ? "," : "", i);
                snprintf(buf + n, sizeof buf - n, "]}");
                assert_int_equal(audit_event_decode(buf, strlen(buf), &back, &e), -EINVAL);
        }
        /* the largest event the sender builds fits one message */
        {
                static char names[2 * AUDIT_MAX_EGRESS][254];
                struct audit_egress_host hs[AUDIT_MAX_EGRESS];
                struct audit_egress_denial ds[AUDIT_MAX_EGRESS];
                for (int i = 0; i < 2 * AUDIT_MAX_EGRESS; i++) {
                        memset(names[i], 'a', 253);
                        names[i][0] = (char)('a' + i % 26);
                        names[i][1] = (char)('a' + i / 26);
                }
                for (int i = 0; i < AUDIT_MAX_EGRESS; i++) {
                        hs[i] = (struct audit_egress_host){ names[i], 65535, 1LL << 40, 1LL << 52 };
                        ds[i] = (struct audit_egress_denial){ names[AUDIT_MAX_EGRESS + i], 65535, "header-too-large" };
                }
                audit_event_init(&ev, AUDIT_EV_EGRESS);
                ev.tenant = "a-tenant-slug-that-is-long-enough-to-count-for-something";
                ev.task = "T42";
                ev.pool = "pool";
                ev.profile = "profile";
                ev.profile_version = 1;
                ev.pid = 4194304;
                ev.sandbox_pid = 4194304;
                ev.egress_hosts = hs;
                ev.n_egress_hosts = AUDIT_MAX_EGRESS;
                ev.egress_denied = ds;
                ev.n_egress_denied = AUDIT_MAX_EGRESS;
                ev.egress_omitted = 1000000;
                ev.seq = 9;
                snprintf(ev.time, sizeof ev.time, "2025-03-01T10:00:00.123Z");
                assert_int_equal(audit_event_encode(&ev, &msg, &len, &e), 0);
                assert_true(len <= AUDIT_MSG_MAX);
                free(msg);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_revisions),
                cmocka_unit_test(test_egress_event),
                cmocka_unit_test(test_roundtrip_every_event),
                cmocka_unit_test(test_encode_refuses_invalid),
                cmocka_unit_test(test_every_malformed_message),
                cmocka_unit_test(test_nul_and_oversize),
                cmocka_unit_test(test_error_keeps_seq),
                cmocka_unit_test(test_too_many_creds),
                cmocka_unit_test(test_times),
                cmocka_unit_test(test_replies),
                cmocka_unit_test(test_validators),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
