/* Unit test: no event, stored line, error or reply ever holds a credential canary (raw, base64 or hex). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <sodium.h>
#include "launcher/audit.h"
#include "policy/audit_chain.h"
#include "policy/audit_client.h"
#include "tests/audit_fake.h"
#include "tests/issuer_key.h"

#define CANARY "sk-CANARY-93f1c2d7e6a54b08ffee"

/* Everything produced during the test, in one buffer. */
static char *seen;
static size_t seen_len;

static void keep(const char *msg, size_t len) {
        char *n = realloc(seen, seen_len + len + 1);
        assert_non_null(n);
        seen = n;
        memcpy(seen + seen_len, msg, len);
        seen_len += len;
        seen[seen_len++] = '\n';
}

static bool contains(const char *hay, size_t hl, const char *needle) {
        return memmem(hay, hl, needle, strlen(needle)) != NULL;
}

/* The canary in raw, hex (both cases) and base64 at each of the 3 alignments
 * (the chars that depend on neighbouring bytes are trimmed). */
static bool has_canary(const char *buf, size_t len) {
        char hex[2 * sizeof CANARY + 1], b64[256];
        if (contains(buf, len, CANARY))
                return true;
        sodium_bin2hex(hex, sizeof hex, (const unsigned char *)CANARY, strlen(CANARY));
        if (contains(buf, len, hex))
                return true;
        for (char *c = hex; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        if (contains(buf, len, hex))
                return true;
        for (int shift = 0; shift < 3; shift++) {
                unsigned char in[64];
                size_t n = 0, bl;
                for (int i = 0; i < shift; i++)
                        in[n++] = 'x';
                memcpy(in + n, CANARY, strlen(CANARY));
                n += strlen(CANARY);
                sodium_bin2base64(b64, sizeof b64, in, n, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
                bl = strlen(b64);
                /* drop the first chars touched by the prefix and the last (partial) ones */
                b64[bl - 2] = 0;
                if (contains(buf, len, b64 + (shift ? (shift * 4 + 2) / 3 + 1 : 0)))
                        return true;
                sodium_bin2base64(b64, sizeof b64, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                b64[strlen(b64) - 2] = 0;
                if (contains(buf, len, b64 + (shift ? (shift * 4 + 2) / 3 + 1 : 0)))
                        return true;
        }
        return false;
}

static void test_scanner_finds_planted_canary(void **state) {
        /* the scanner itself must be able to fail */
        char planted[256], hex[2 * sizeof CANARY + 1], b64[128];
        snprintf(planted, sizeof planted, "{\"x\":\"%s\"}", CANARY);
        assert_true(has_canary(planted, strlen(planted)));
        sodium_bin2hex(hex, sizeof hex, (const unsigned char *)CANARY, strlen(CANARY));
        assert_true(has_canary(hex, strlen(hex)));
        for (int shift = 0; shift < 3; shift++) {
                unsigned char in[64] = "yy";
                memcpy(in + shift, CANARY, strlen(CANARY));
                sodium_bin2base64(b64, sizeof b64, in, strlen(CANARY) + (size_t)shift, sodium_base64_VARIANT_ORIGINAL);
                if (!has_canary(b64, strlen(b64)))
                        fail_msg("base64 at shift %d not found", shift);
        }
        assert_false(has_canary("{\"name\":\"github_token\"}", 23));
}

/* A task whose every field the audit module could reach holds the canary somewhere. */
static void test_launcher_lifecycle(void **state) {
        struct fake *f = fake_start(FAKE_ACK);
        char *envp[] = { "OPENAI_API_KEY=" CANARY, "PATH=/usr/bin", NULL };
        char *argv[] = { "agent-cli", "--token", CANARY, NULL };
        struct cli cli = { .tenant = "acme",
                           .task = "T42",
                           .status_fd = -1,
                           .key_fd = -1,
                           .audit_mode = AUDIT_UNSET,
                           .profile = "/tmp/" CANARY ".sealed",
                           .key_path = "/keys/" CANARY,
                           .argv = argv,
                           .argc = 3 };
        struct policy pol = { .file = "p.json" };
        struct task t = { .pol = &pol, .pidfd = -1, .envp = envp, .pid = 99 };
        char issuer[] = "/tmp/test_audit_canary_issuer.XXXXXX";
        struct sr_error e = { 0 };
        const char *names[] = { "github_token", "OPENAI_API_KEY" }, *scopes[] = { "write:repo:acme", NULL };
        cli.setenv[0] = (struct cli_env){ "SECRET", CANARY };
        cli.n_setenv = 1;
        cli.audit_socket = f->path;
        assert_int_equal(issuer_key_file(issuer, NULL), 0);
        cli.trust[0] = issuer;
        cli.n_trust = 1;
        assert_int_equal(config_resolve(&cli, &pol, &t.cfg, &e), 0);
        unlink(issuer);
        status_init(&t.status);
        t.status.task = "T42";
        t.status.error = "decrypt failed near " CANARY;
        t.status.has_profile = true;
        t.status.profile = "agent";
        t.status.profile_version = 2;
        assert_int_equal(audit_open(&t, &e), 0);
        assert_int_equal(audit_launch(&t, &e), 0);
        assert_int_equal(audit_inject_scoped(&t, names, scopes, 2, &e), 0);
        assert_int_equal(audit_deny(&t, "bad-signature"), 0);
        assert_int_equal(audit_scrub(&t), 0);
        assert_int_equal(audit_exit(&t, NULL), 0);
        audit_close(&t);
        config_free(&t.cfg);
        usleep(20 * 1000);
        pthread_mutex_lock(&f->lock);
        assert_int_equal(f->n_msgs, 5);
        for (size_t i = 0; i < f->n_msgs; i++)
                keep(f->msgs[i], strlen(f->msgs[i]));
        pthread_mutex_unlock(&f->lock);
        fake_stop(f);
}

/* Every event type, stored as the collector would store it, and the revoke path. */
static void test_every_event_and_line(void **state) {
        static const struct audit_cred creds[] = { { "github_token", "read:repo:*", false, NULL, 0 },
                                                   { "db_password", NULL, false, NULL, 0 } };
        struct audit_peer peer = { 1000, 1000, 42 };
        char zero[AUDIT_HASH_HEX + 1];
        memset(zero, '0', AUDIT_HASH_HEX);
        zero[AUDIT_HASH_HEX] = 0;
        for (enum audit_event_type ty = AUDIT_EV_LAUNCH; ty <= AUDIT_EV_REVOKE; ty++) {
                struct audit_event ev;
                struct sr_error e = { 0 };
                char *msg = NULL, *line = NULL;
                size_t len, ll;
                audit_event_init(&ev, ty);
                ev.seq = 1;
                audit_time_now(ev.time);
                ev.tenant = "acme";
                ev.task = ty == AUDIT_EV_REVOKE ? NULL : "T42";
                ev.pid = 7;
                ev.reason = ty == AUDIT_EV_DENY || ty == AUDIT_EV_REVOKE ? "revoked" : NULL;
                if (ty == AUDIT_EV_INJECT) {
                        ev.creds = creds;
                        ev.n_creds = 2;
                }
                if (ty == AUDIT_EV_EXIT)
                        ev.has_exit = true;
                assert_int_equal(audit_event_encode(&ev, &msg, &len, &e), 0);
                assert_int_equal(audit_chain_format(1, zero, ev.time, &peer, msg, &line, &ll), 0);
                keep(line, ll);
                free(msg);
                free(line);
        }
}

/* A client that puts the canary where it does not belong: refused, and
 * neither the error text nor the reply quotes it. */
static void test_errors_never_quote_values(void **state) {
        static const char *bad[] = {
                "{\"schema\":1,\"seq\":1,\"time\":\"2025-01-01T00:00:00Z\",\"event\":\"inject\",\"tenant\":\"acme\","
                "\"task\":\"t\","
                "\"credentials\":[{\"name\":\"x\",\"value\":\"" CANARY "\"}]}",
                "{\"schema\":1,\"seq\":1,\"time\":\"2025-01-01T00:00:00Z\",\"event\":\"launch\",\"tenant\":\"" CANARY
                "\",\"task\":\"t\",\"pid\":1}",
                "{\"schema\":1,\"seq\":1,\"time\":\"" CANARY "\",\"event\":\"launch\"}",
                "{\"schema\":1,\"seq\":1,\"time\":\"2025-01-01T00:00:00Z\",\"event\":\"deny\",\"tenant\":\"acme\","
                "\"reason\":\"" CANARY " x\"}",
                "{\"schema\":1,\"seq\":\"" CANARY "\"}",
                "{\"schema\":1,\"seq\":1 \"" CANARY "\"}",
                "[\"" CANARY "\"",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct audit_event ev;
                struct sr_error e = { 0 };
                struct audit_reply rp = { .seq = 1 };
                char buf[1024];
                size_t n;
                assert_true(audit_event_decode(bad[i], strlen(bad[i]), &ev, &e) < 0);
                keep(e.msg, strlen(e.msg));
                snprintf(rp.error, sizeof rp.error, "%s", e.reason);
                snprintf(rp.message, sizeof rp.message, "%s", e.msg);
                assert_int_equal(audit_reply_encode(&rp, buf, sizeof buf, &n), 0);
                keep(buf, n);
        }
}

static void test_scan_everything(void **state) {
        assert_non_null(seen);
        assert_true(seen_len > 1000);
        assert_false(has_canary(seen, seen_len));
        /* names, scopes and task ids did arrive: the scan looked at real events */
        assert_true(contains(seen, seen_len, "\"name\":\"OPENAI_API_KEY\""));
        assert_true(contains(seen, seen_len, "\"scope\":\"write:repo:acme\""));
        free(seen);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scanner_finds_planted_canary),
                cmocka_unit_test(test_launcher_lifecycle),
                cmocka_unit_test(test_every_event_and_line),
                cmocka_unit_test(test_errors_never_quote_values),
                cmocka_unit_test(test_scan_everything),
        };
        if (sodium_init() < 0)
                return 1;
        audit_proto_observer = keep;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
