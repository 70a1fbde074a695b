/* Unit tests: the broker's handoff to the payload side (placeholders, never a bound value), placeholders, and the
 * request counts the supervisor accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* the static encoder and placeholder maker are the code under test */
#include "launcher/broker_creds.c"
#include "launcher/egress_impl.h"

#define PLAIN \
        "{\"tenant\":\"acme\",\"credentials\":[" \
        "{\"name\":\"GH\",\"value\":\"SECRET-bound-value-1\",\"as\":\"both\",\"bind\":{\"hosts\":[\"api.x.com\"," \
        "\"*.y.net\"],\"inject\":\"bearer\"}}," \
        "{\"name\":\"plain\",\"value\":\"unbound-value\"}," \
        "{\"name\":\"OTHER\",\"value\":\"SECRET-ungranted\",\"as\":\"env\",\"scope\":\"write:repo:x\"}]}"

struct fixture {
        struct policy pol;
        struct task t;
        struct secmem *m;
        struct profile_plain plain;
        struct broker_creds b;
};

static void setup_fx(struct fixture *fx) {
        static const char *const scopes[] = { "read:model:*" };
        struct sr_error e = { 0 };
        memset(fx, 0, sizeof *fx);
        fx->pol.credentials.allow_env = true;
        fx->t.pol = &fx->pol;
        fx->t.cfg.profile = "p.sealed";
        fx->t.cfg.scopes = scopes;
        fx->t.cfg.n_scopes = 1;
        assert_int_equal(secmem_new(4u << 20, &fx->m), 0);
        assert_int_equal(profile_plain_parse("plain", fx->m, (const uint8_t *)PLAIN, strlen(PLAIN), 77, &fx->plain, &e),
                         0);
        /* what load() keeps: the granted bound credential, with a placeholder */
        assert_int_equal(secmem_new(1u << 20, &fx->b.arena), 0);
        fx->b.v = secmem_alloc(fx->b.arena, sizeof *fx->b.v);
        memset(fx->b.v, 0, sizeof *fx->b.v);
        fx->b.v[0].name = "GH";
        fx->b.v[0].value = fx->plain.creds[0].value;
        fx->b.v[0].value_len = fx->plain.creds[0].value_len;
        fx->b.v[0].bind = *fx->plain.creds[0].bind;
        make_placeholder(&fx->b, fx->b.v[0].placeholder);
        fx->b.n = 1;
}

static void teardown_fx(struct fixture *fx) {
        broker_creds_free(&fx->b);
        secmem_destroy(fx->m);
}

static int pipe_with(const void *buf, size_t len) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], buf, len), (ssize_t)len);
        close(p[1]);
        return p[0];
}

static void test_handoff_roundtrip(void **state) {
        struct fixture fx;
        struct profile_plain got;
        struct sr_error e = { 0 };
        struct secmem *m2;
        uint8_t *blob;
        size_t len;
        int fd;
        (void)state;
        setup_fx(&fx);
        assert_int_equal(encode(&fx.t, &fx.b, &fx.plain, fx.m, &blob, &len), 0);
        /* the bound value and the ungranted one are not in the handoff at all */
        assert_null(memmem(blob, len, "SECRET", 6));
        assert_non_null(memmem(blob, len, "unbound-value", 13));
        fd = pipe_with(blob, len);
        assert_int_equal(secmem_new(4u << 20, &m2), 0);
        assert_int_equal(broker_handoff_read(&fx.t, fd, m2, &got, &e), 0);
        close(fd);
        assert_int_equal(got.n_creds, 3);
        assert_string_equal(got.creds[0].name, "GH");
        assert_true(got.creds[0].placeholder);
        assert_int_equal(got.creds[0].as, CRED_BOTH);
        assert_int_equal(got.creds[0].value_len, PLACEHOLDER_LEN);
        assert_string_equal((const char *)got.creds[0].value, fx.b.v[0].placeholder);
        assert_false(got.creds[1].placeholder);
        assert_string_equal((const char *)got.creds[1].value, "unbound-value");
        assert_string_equal(got.creds[2].scope, "write:repo:x");
        assert_int_equal(got.creds[2].value_len, 0); /* withheld: not granted */
        assert_null(got.creds[0].bind);
        secmem_destroy(m2);
        teardown_fx(&fx);
}

/* a granted bound credential without its broker entry is never sent as a value */
static void test_handoff_refuses_bound_without_entry(void **state) {
        struct fixture fx;
        struct broker_creds none = { 0 };
        uint8_t *blob = NULL;
        size_t len = 0;
        (void)state;
        setup_fx(&fx);
        assert_int_equal(encode(&fx.t, &none, &fx.plain, fx.m, &blob, &len), -EINVAL);
        teardown_fx(&fx);
}

static void test_handoff_malformed(void **state) {
        struct fixture fx;
        struct profile_plain got;
        struct secmem *m2;
        uint8_t *blob;
        size_t len;
        (void)state;
        setup_fx(&fx);
        assert_int_equal(secmem_new(4u << 20, &m2), 0);
        assert_int_equal(encode(&fx.t, &fx.b, &fx.plain, fx.m, &blob, &len), 0);
        /* nothing (the broker died), bad magic, every truncation */
        for (size_t cut = 0; cut < len; cut++) {
                struct sr_error e = { 0 };
                int fd = pipe_with(blob, cut);
                /* a fresh arena each time: a refused read's blocks are wiped, not compacted */
                secmem_destroy(m2);
                assert_int_equal(secmem_new(4u << 20, &m2), 0);
                if (broker_handoff_read(&fx.t, fd, m2, &got, &e) == 0)
                        fail_msg("a handoff cut at %zu of %zu bytes was accepted", cut, len);
                assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
                assert_null(strstr(e.msg, "unbound-value"));
                close(fd);
        }
        {
                struct sr_error e = { 0 };
                int fd = pipe_with("XXXXXXXXXXXXXXXX", 16);
                assert_true(broker_handoff_read(&fx.t, fd, m2, &got, &e) < 0);
                assert_non_null(strstr(e.msg, "did not hand the credentials over"));
                close(fd);
        }
        /* a withheld flag that disagrees with this side's selection */
        {
                struct sr_error e = { 0 };
                size_t off = 12 + sizeof(struct handoff_rec) + 2 + PLACEHOLDER_LEN;
                int fd;
                off += sizeof(struct handoff_rec) + 5 + 13; /* "plain", its value */
                blob[off + 1] &= (uint8_t)~HF_WITHHELD;     /* OTHER: ungranted, claimed delivered */
                fd = pipe_with(blob, len);
                assert_true(broker_handoff_read(&fx.t, fd, m2, &got, &e) < 0);
                if (!strstr(e.msg, "malformed handoff"))
                        fail_msg("message: %s", e.msg);
                close(fd);
        }
        secmem_destroy(m2);
        teardown_fx(&fx);
}

/* the broker's refusal (a bad plaintext, say) is the payload step's error */
static void test_handoff_error_record(void **state) {
        struct fixture fx;
        struct profile_plain got;
        struct sr_error be = { 0 }, e = { 0 };
        struct secmem *m2;
        int p[2];
        (void)state;
        setup_fx(&fx);
        assert_int_equal(secmem_new(4u << 20, &m2), 0);
        sr_fail(&be, SR_EXIT_REFUSED, EPERM, "tenant-mismatch", "p.sealed: the sealed plaintext names tenant x");
        assert_int_equal(pipe(p), 0);
        send_error(p[1], &be);
        close(p[1]);
        assert_int_equal(broker_handoff_read(&fx.t, p[0], m2, &got, &e), -EPERM);
        assert_int_equal(e.exit_code, SR_EXIT_REFUSED);
        assert_string_equal(e.reason, "tenant-mismatch");
        assert_non_null(strstr(e.msg, "names tenant x"));
        close(p[0]);
        secmem_destroy(m2);
        teardown_fx(&fx);
}

static void test_placeholders(void **state) {
        struct broker_creds b = { 0 };
        struct broker_cred v[64];
        (void)state;
        memset(v, 0, sizeof v);
        b.v = v;
        for (size_t i = 0; i < 64; i++) {
                make_placeholder(&b, v[i].placeholder);
                assert_int_equal(strlen(v[i].placeholder), PLACEHOLDER_LEN);
                assert_memory_equal(v[i].placeholder, "sealrun-ph-", 11);
                for (size_t k = 11; k < PLACEHOLDER_LEN; k++)
                        assert_non_null(strchr("0123456789abcdef", v[i].placeholder[k]));
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(v[i].placeholder, v[j].placeholder);
                b.n = i + 1;
        }
}

/* The broker's report reaches the status only for an announced brokered
 * name and a binding's host; zero counts are not sent. */
static void test_report_counts(void **state) {
        struct fixture fx;
        struct egress_ctx *c = calloc(1, sizeof *c);
        struct broker_cred extra[2];
        struct broker_creds b;
        int sv[2];
        (void)state;
        setup_fx(&fx);
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        pthread_mutex_init(&c->lock, NULL);
        c->refs = 1;
        c->sup_fd = sv[0];
        c->child_fd = -1;
        fx.t.egress = c;
        fx.t.status.brokered[0] = "GH";
        fx.t.status.n_brokered = 1;

        memset(extra, 0, sizeof extra);
        extra[0] = fx.b.v[0];
        extra[0].requests[0] = 3; /* api.x.com */
        extra[0].requests[1] = 0; /* *.y.net: not sent */
        extra[1].name = "plain";  /* not announced as brokered: ignored */
        extra[1].bind.n_hosts = 1;
        extra[1].bind.hosts[0] = "api.x.com";
        extra[1].requests[0] = 9;
        b = (struct broker_creds){ .v = extra, .n = 2 };
        broker_creds_report(&b, sv[1]);
        broker_creds_report(&b, sv[1]); /* a second report adds up */
        {
                /* a hostile broker: free text as a host */
                struct egress_injected_msg m = { .type = EGM_INJECTED, .requests = 1 };
                snprintf(m.cred, sizeof m.cred, "GH");
                snprintf(m.host, sizeof m.host, "evil host\nline");
                assert_int_equal(send(sv[1], &m, sizeof m, 0), (ssize_t)sizeof m);
        }
        egress_on_readable(&fx.t);
        assert_int_equal(c->n_inj, 1);
        assert_string_equal(c->inj[0].name, "GH");
        assert_string_equal(c->inj[0].host, "api.x.com");
        assert_int_equal(c->inj[0].requests, 6);
        close(sv[1]);
        fx.t.egress = NULL;
        egress_ctx_unref(c);
        teardown_fx(&fx);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_handoff_roundtrip), cmocka_unit_test(test_handoff_refuses_bound_without_entry),
                cmocka_unit_test(test_handoff_malformed), cmocka_unit_test(test_handoff_error_record),
                cmocka_unit_test(test_placeholders),      cmocka_unit_test(test_report_counts),
        };
        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
