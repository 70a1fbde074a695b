/* Unit tests: sealrun's audit client (launcher/audit.c): mode decision, events per step, missing events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "launcher/audit.h"
#include "tests/audit_fake.h"
#include "tests/issuer_key.h"

struct fx {
        struct cli cli;
        struct policy pol;
        struct task t;
        struct fake *f;
        char issuer[64]; /* a trusted issuer's public key: a profile needs a trust set (config_resolve) */
};

static char spool[64];

static int setup(void **state) {
        struct fx *x = calloc(1, sizeof *x);
        /* as root, undelivered events go to a spool: a private one, never the host's */
        if (!spool[0]) {
                snprintf(spool, sizeof spool, "/tmp/test_audit_spool.XXXXXX");
                if (!mkdtemp(spool))
                        return -1;
                setenv("SEALRUN_AUDIT_SPOOL", spool, 1);
        }
        x->cli = (struct cli){
                .tenant = "acme", .task = "T1", .status_fd = -1, .key_fd = -1, .audit_mode = AUDIT_UNSET
        };
        snprintf(x->issuer, sizeof x->issuer, "/tmp/test_audit_issuer.XXXXXX");
        if (issuer_key_file(x->issuer, NULL) < 0)
                return -1;
        x->cli.trust[0] = x->issuer;
        x->cli.n_trust = 1;
        x->pol.file = "p.json";
        x->t = (struct task){ .pol = &x->pol, .pidfd = -1 };
        status_init(&x->t.status);
        x->t.status.task = x->cli.task;
        x->t.start_ms = now_ms();
        *state = x;
        return 0;
}

static int teardown(void **state) {
        struct fx *x = *state;
        audit_close(&x->t);
        config_free(&x->t.cfg);
        unlink(x->issuer);
        status_free(&x->t.status);
        if (x->f)
                fake_stop(x->f);
        free(x);
        return 0;
}

/* The command line resolved against the policy (launcher/config.c), then audit_open. */
static int open_task(struct fx *x, struct sr_error *e) {
        int r = config_resolve(&x->cli, &x->pol, &x->t.cfg, e);
        return r < 0 ? r : audit_open(&x->t, e);
}

static void with_fake(struct fx *x, enum fake_mode m) {
        x->f = fake_start(m);
        x->cli.audit_socket = x->f->path;
}

static void test_off_by_default(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        x->cli.audit_socket = NULL;
        assert_int_equal(open_task(x, &e), 0);
        assert_string_equal(x->t.status.audit_mode, "off");
        assert_int_equal(audit_launch(&x->t, &e), 0);
        assert_int_equal(audit_exit(&x->t, NULL), 0);
        assert_int_equal(x->t.status.n_audit_missing, 0);
}

static void test_profile_means_required(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        const char *names[] = { "github_token", "OPENAI_API_KEY" }, *scopes[] = { NULL, "read:model:*" };
        with_fake(x, FAKE_ACK);
        x->cli.profile = "acme.sealed";
        assert_int_equal(open_task(x, &e), 0);
        assert_string_equal(x->t.status.audit_mode, "required");
        audit_note_profile(&x->t, "agent", 4, "0123456789abcdef", "fedcba9876543210");
        assert_int_equal(audit_launch(&x->t, &e), 0);
        x->t.pid = 4321;
        assert_int_equal(audit_inject_scoped(&x->t, names, scopes, 2, &e), 0);
        assert_int_equal(audit_scrub(&x->t), 0);
        x->t.status.exit_code = 3;
        assert_int_equal(audit_exit(&x->t, NULL), 0);
        usleep(20 * 1000);
        pthread_mutex_lock(&x->f->lock);
        assert_int_equal(x->f->n_msgs, 4);
        /* the launch connection is closed before the clone; later events reconnect */
        assert_int_equal(x->f->connections, 2);
        assert_non_null(strstr(x->f->msgs[0], "\"event\":\"launch\""));
        assert_non_null(strstr(x->f->msgs[0],
                               "\"profile\":\"agent\",\"profile_version\":4,\"recipient\":\"0123456789abcdef\""));
        assert_non_null(strstr(x->f->msgs[1], "\"credentials\":[{\"name\":\"github_token\"},{\"name\":\"OPENAI_API_"
                                              "KEY\",\"scope\":\"read:model:*\"}]"));
        assert_non_null(strstr(x->f->msgs[1], "\"sandbox_pid\":4321"));
        assert_non_null(strstr(x->f->msgs[2], "\"event\":\"scrub\""));
        assert_non_null(strstr(x->f->msgs[3], "\"exit_code\":3"));
        for (size_t i = 0; i < 4; i++)
                assert_non_null(strstr(x->f->msgs[i], "\"task\":\"T1\""));
        pthread_mutex_unlock(&x->f->lock);
        assert_int_equal(x->t.status.n_audit_missing, 0);
}

static void test_required_unreachable(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        x->cli.profile = "acme.sealed";
        x->cli.audit_socket = "/nonexistent/audit.sock";
        assert_int_equal(open_task(x, &e), -ENOENT);
        assert_int_equal(e.exit_code, 75);
        assert_non_null(strstr(e.msg, "unreachable at /nonexistent/audit.sock"));
        assert_non_null(strstr(e.msg, "(audit mode required)"));
}

static void test_policy_floor_and_pin(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        x->pol.audit.mode = POL_AUDIT_REQUIRED;
        x->cli.audit_mode = AUDIT_OFF;
        assert_int_equal(open_task(x, &e), -EPERM);
        assert_int_equal(e.exit_code, 77);
        audit_close(&x->t);
        x->cli.audit_mode = AUDIT_BEST_EFFORT;
        assert_int_equal(open_task(x, &e), -EPERM);
        audit_close(&x->t);
        /* stricter than the policy is fine */
        x->pol.audit.mode = POL_AUDIT_BEST_EFFORT;
        x->cli.audit_mode = AUDIT_REQUIRED;
        with_fake(x, FAKE_ACK);
        assert_int_equal(open_task(x, &e), 0);
        assert_string_equal(x->t.status.audit_mode, "required");
        audit_close(&x->t);
        /* a pinned socket cannot be moved */
        x->pol.audit.socket = "/run/pinned.sock";
        assert_int_equal(open_task(x, &e), -EPERM);
        assert_int_equal(e.exit_code, 77);
        assert_non_null(strstr(e.msg, "pins the audit socket"));
        audit_close(&x->t);
        x->pol.audit.socket = x->f->path;
        x->cli.audit_socket = NULL;
        assert_int_equal(open_task(x, &e), 0);
        x->pol.audit.socket = NULL;
}

static void test_best_effort_records_missing(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        x->cli.audit_mode = AUDIT_BEST_EFFORT;
        x->cli.audit_socket = "/nonexistent/audit.sock";
        assert_int_equal(open_task(x, &e), 0);
        assert_int_equal(audit_launch(&x->t, &e), 0);
        assert_int_equal(audit_exit(&x->t, NULL), 0);
        if (geteuid() == 0) {
                /* root keeps what it could not deliver (the task runs: launch too) */
                assert_int_equal(x->t.status.n_audit_missing, 0);
                assert_int_equal(x->t.status.n_audit_spooled, 2);
                assert_string_equal(x->t.status.audit_spooled[0], "launch");
                assert_string_equal(x->t.status.audit_spooled[1], "exit");
        } else {
                assert_int_equal(x->t.status.n_audit_missing, 2);
                assert_string_equal(x->t.status.audit_missing[0], "launch");
                assert_string_equal(x->t.status.audit_missing[1], "exit");
        }
}

static void test_required_timeout_and_refusal(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        const char *names[] = { "gh" };
        x->cli.audit_mode = AUDIT_REQUIRED;
        x->pol.audit.ack_timeout_ms = 150;
        with_fake(x, FAKE_SILENT);
        assert_int_equal(open_task(x, &e), 0);
        assert_int_equal(audit_launch(&x->t, &e), -ETIMEDOUT);
        assert_int_equal(e.exit_code, 75);
        assert_string_equal(e.reason, "audit-timeout");
        /* it left but was never answered: the collector may still write it,
         * so root spools it (the trail then gets its exit too); the launch is
         * still refused */
        if (geteuid() == 0) {
                assert_int_equal(x->t.status.n_audit_spooled, 1);
                assert_string_equal(x->t.status.audit_spooled[0], "launch");
        } else {
                assert_int_equal(x->t.status.n_audit_unconfirmed, 1);
                assert_string_equal(x->t.status.audit_unconfirmed[0], "launch");
        }
        x->f->mode = FAKE_REFUSE;
        memset(&e, 0, sizeof e);
        assert_int_equal(audit_inject(&x->t, names, 1, &e), -EPERM);
        assert_int_equal(e.exit_code, 75);
        assert_string_equal(e.reason, "audit-refused");
        /* refused is an answer: surely not in the log */
        assert_string_equal(x->t.status.audit_missing[0], "inject");
}

/* An interrupted launch ends with an exit event that says why. */
static void test_exit_reason(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        x->cli.audit_mode = AUDIT_REQUIRED;
        with_fake(x, FAKE_ACK);
        assert_int_equal(open_task(x, &e), 0);
        assert_int_equal(audit_launch(&x->t, &e), 0);
        x->t.status.exit_code = 143;
        assert_int_equal(audit_exit(&x->t, "interrupted-setup"), 0);
        usleep(20 * 1000);
        pthread_mutex_lock(&x->f->lock);
        assert_int_equal(x->f->n_msgs, 2);
        assert_non_null(strstr(x->f->msgs[1], "\"event\":\"exit\""));
        assert_non_null(strstr(x->f->msgs[1], "\"reason\":\"interrupted-setup\""));
        assert_non_null(strstr(x->f->msgs[1], "\"exit_code\":143"));
        pthread_mutex_unlock(&x->f->lock);
}

static void test_deny_reason_sanitised(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        x->cli.audit_mode = AUDIT_REQUIRED;
        with_fake(x, FAKE_ACK);
        assert_int_equal(open_task(x, &e), 0);
        assert_int_equal(audit_deny(&x->t, "bad sig/\xc3\xa9"), 0);
        assert_int_equal(audit_deny(&x->t, ""), 0);
        /* no launch: no exit event either */
        assert_int_equal(audit_exit(&x->t, NULL), 0);
        usleep(20 * 1000);
        pthread_mutex_lock(&x->f->lock);
        assert_int_equal(x->f->n_msgs, 2);
        assert_non_null(strstr(x->f->msgs[0], "\"reason\":\"bad-sig---\""));
        assert_non_null(strstr(x->f->msgs[1], "\"reason\":\"-\""));
        pthread_mutex_unlock(&x->f->lock);
}

static void test_needs_tenant_and_makes_task(void **state) {
        struct fx *x = *state;
        struct sr_error e = { 0 };
        x->cli.audit_mode = AUDIT_REQUIRED;
        x->cli.tenant = NULL;
        with_fake(x, FAKE_ACK);
        assert_int_equal(open_task(x, &e), -EINVAL);
        assert_int_equal(e.exit_code, 125);
        audit_close(&x->t);
        x->pol.tenant = "globex";
        x->t.status.task = NULL;
        assert_int_equal(open_task(x, &e), 0);
        assert_non_null(x->t.status.task);
        assert_true(task_id_valid(x->t.status.task));
        assert_int_equal(audit_launch(&x->t, &e), 0);
        usleep(20 * 1000);
        assert_non_null(strstr(x->f->msgs[0], "\"tenant\":\"globex\""));
        audit_close(&x->t);
        /* the status owns its copy: it outlives the audit context */
        assert_true(task_id_valid(x->t.status.task));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_exit_reason, setup, teardown),
                cmocka_unit_test_setup_teardown(test_off_by_default, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_means_required, setup, teardown),
                cmocka_unit_test_setup_teardown(test_required_unreachable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_floor_and_pin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_best_effort_records_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_required_timeout_and_refusal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deny_reason_sanitised, setup, teardown),
                cmocka_unit_test_setup_teardown(test_needs_tenant_and_makes_task, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        char cmd[96];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", spool);
        if (spool[0] && system(cmd) != 0)
                r = 1;
        return r;
}
