/* Unit tests: audit client core against a fake collector (acks, timeouts, refusals, garbled and stale replies,
 * reconnects). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "policy/audit_client.h"
#include "tests/audit_fake.h"

static void launch_event(struct audit_event *ev) {
        audit_event_init(ev, AUDIT_EV_LAUNCH);
        ev->tenant = "acme";
        ev->task = "T1";
        ev->pid = getpid();
}

static void test_ack(void **state) {
        struct fake *f = fake_start(FAKE_ACK);
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error e = { 0 };
        uint64_t line = 0;
        assert_int_equal(audit_client_connect(f->path, 1000, &c, &e), 0);
        for (int i = 1; i <= 3; i++) {
                launch_event(&ev);
                assert_int_equal(audit_client_send(c, &ev, &line, &e), 0);
                assert_int_equal(ev.seq, (uint64_t)i);
                assert_int_equal(line, (uint64_t)i);
                assert_true(audit_time_valid(ev.time));
        }
        audit_client_free(c);
        assert_int_equal(f->n_msgs, 3);
        assert_int_equal(f->connections, 1);
        fake_stop(f);
}

static void test_unreachable(void **state) {
        struct audit_client *c = NULL;
        struct sr_error e = { 0 };
        assert_int_equal(audit_client_connect("/nonexistent/audit.sock", 200, &c, &e), -ENOENT);
        assert_null(c);
        assert_int_equal(e.exit_code, 75);
        assert_string_equal(e.reason, "audit-unavailable");
        assert_non_null(strstr(e.msg, "/nonexistent/audit.sock"));
        assert_true(audit_client_connect("relative.sock", 200, &c, &e) < 0);
}

static void test_silent_times_out(void **state) {
        struct fake *f = fake_start(FAKE_SILENT);
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error e = { 0 };
        int64_t t0;
        assert_int_equal(audit_client_connect(f->path, 200, &c, &e), 0);
        launch_event(&ev);
        t0 = now_ms();
        assert_int_equal(audit_client_send(c, &ev, NULL, &e), -ETIMEDOUT);
        assert_true(now_ms() - t0 >= 190 && now_ms() - t0 < 2000);
        assert_string_equal(e.reason, "audit-timeout");
        assert_int_equal(e.exit_code, 75);
        assert_non_null(strstr(e.msg, "\"launch\""));
        audit_client_free(c);
        fake_stop(f);
}

static void test_refused(void **state) {
        struct fake *f = fake_start(FAKE_REFUSE);
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error e = { 0 };
        assert_int_equal(audit_client_connect(f->path, 1000, &c, &e), 0);
        launch_event(&ev);
        assert_int_equal(audit_client_send(c, &ev, NULL, &e), -EPERM);
        assert_string_equal(e.reason, "audit-refused");
        assert_non_null(strstr(e.msg, "not-allowed"));
        audit_client_free(c);
        fake_stop(f);
}

static void test_garbled_reply(void **state) {
        struct fake *f = fake_start(FAKE_GARBLE);
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error e = { 0 };
        assert_int_equal(audit_client_connect(f->path, 1000, &c, &e), 0);
        launch_event(&ev);
        assert_int_equal(audit_client_send(c, &ev, NULL, &e), -EPROTO);
        assert_non_null(strstr(e.msg, "malformed reply"));
        audit_client_free(c);
        fake_stop(f);
}

static void test_stale_reply_skipped(void **state) {
        struct fake *f = fake_start(FAKE_STALE_THEN_ACK);
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error e = { 0 };
        uint64_t line = 0;
        assert_int_equal(audit_client_connect(f->path, 1000, &c, &e), 0);
        launch_event(&ev);
        assert_int_equal(audit_client_send(c, &ev, &line, &e), 0);
        assert_int_equal(line, ev.seq);
        audit_client_free(c);
        fake_stop(f);
}

/* The collector closes after reading: the event may have been written, so it
 * is not sent again on that connection; the next event reconnects. */
static void test_closed_no_duplicates(void **state) {
        struct fake *f = fake_start(FAKE_CLOSE);
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error e = { 0 };
        assert_int_equal(audit_client_connect(f->path, 1000, &c, &e), 0);
        launch_event(&ev);
        assert_int_equal(audit_client_send(c, &ev, NULL, &e), -ECONNRESET);
        launch_event(&ev);
        assert_true(audit_client_send(c, &ev, NULL, &e) < 0);
        audit_client_free(c);
        usleep(50 * 1000);
        pthread_mutex_lock(&f->lock);
        assert_int_equal(f->n_msgs, 2);
        assert_true(strstr(f->msgs[0], "\"seq\":1") != NULL);
        assert_true(strstr(f->msgs[1], "\"seq\":2") != NULL);
        assert_int_equal(f->connections, 2);
        pthread_mutex_unlock(&f->lock);
        fake_stop(f);
}

static void test_invalid_event_not_sent(void **state) {
        struct fake *f = fake_start(FAKE_ACK);
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error e = { 0 };
        assert_int_equal(audit_client_connect(f->path, 1000, &c, &e), 0);
        launch_event(&ev);
        ev.tenant = "../etc";
        assert_true(audit_client_send(c, &ev, NULL, &e) < 0);
        audit_client_free(c);
        usleep(20 * 1000);
        assert_int_equal(f->n_msgs, 0);
        fake_stop(f);
}

static void test_revoke(void **state) {
        struct fake *f = fake_start(FAKE_ACK);
        struct sr_error e = { 0 };
        assert_int_equal(audit_emit_revoke(f->path, POL_AUDIT_OFF, 500, "acme", NULL, -1, NULL, NULL, &e), 0);
        assert_int_equal(f->connections, 0);
        if (audit_emit_revoke(f->path, POL_AUDIT_REQUIRED, 500, "acme", "agent", 3, NULL, "rotated", &e) != 0)
                fail_msg("%s", e.msg);
        assert_int_equal(
                audit_emit_revoke(f->path, POL_AUDIT_REQUIRED, 500, NULL, NULL, -1, "0011223344556677", NULL, &e), 0);
        usleep(20 * 1000);
        pthread_mutex_lock(&f->lock);
        assert_int_equal(f->n_msgs, 2);
        assert_non_null(strstr(f->msgs[0], "\"event\":\"revoke\""));
        assert_non_null(strstr(f->msgs[0], "\"reason\":\"rotated\""));
        assert_null(strstr(f->msgs[1], "\"reason\""));
        assert_non_null(strstr(f->msgs[0], "\"profile_version\":3"));
        assert_non_null(strstr(f->msgs[1], "\"key_id\":\"0011223344556677\""));
        assert_null(strstr(f->msgs[1], "\"tenant\""));
        pthread_mutex_unlock(&f->lock);
        fake_stop(f);
        assert_int_equal(
                audit_emit_revoke("/nonexistent/s", POL_AUDIT_BEST_EFFORT, 200, "acme", NULL, -1, NULL, NULL, &e), 0);
        assert_true(audit_emit_revoke("/nonexistent/s", POL_AUDIT_REQUIRED, 200, "acme", NULL, -1, NULL, NULL, &e) < 0);
        assert_int_equal(e.exit_code, 75);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ack),
                cmocka_unit_test(test_unreachable),
                cmocka_unit_test(test_silent_times_out),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_garbled_reply),
                cmocka_unit_test(test_stale_reply_skipped),
                cmocka_unit_test(test_closed_no_duplicates),
                cmocka_unit_test(test_invalid_event_not_sent),
                cmocka_unit_test(test_revoke),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
