/* Unit tests for launcher/interrupt.c: relayed signals blocked from the start, taken at step boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "launcher/interrupt.h"
#include "policy/util.h"

static void restore(void) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
}

/* A SIGTERM after interrupt_block() is queued, not fatal, and comes out of the signalfd once. */
static void test_block_then_take(void **state) {
        int fd = -1;
        char name[16];
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        interrupt_block();
        assert_int_equal(interrupt_open(&fd), 0);
        assert_int_equal(interrupt_take(fd), 0);
        assert_false(interrupt_pending());
        raise(SIGCHLD); /* not a relayed signal: skipped */
        raise(SIGTERM); /* would kill the test if it were not blocked */
        assert_true(interrupt_pending());
        assert_int_equal(interrupt_take(fd), SIGTERM);
        assert_int_equal(interrupt_take(fd), 0);
        assert_false(interrupt_pending());
        raise(SIGHUP);
        assert_int_equal(interrupt_take(fd), SIGHUP);
        assert_string_equal(interrupt_name(SIGHUP, name), "SIGHUP");
        assert_string_equal(interrupt_name(0, name), "signal 0");
        close(fd);
        restore();
}

/* A relayed signal inherited as ignored (nohup) stays ignored: not queued, never taken. */
static void test_inherited_ignore_kept(void **state) {
        int fd = -1;
        sigset_t blocked;
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_DFL);
        interrupt_block();
        sigprocmask(SIG_BLOCK, NULL, &blocked);
        assert_false(sigismember(&blocked, SIGINT));
        assert_true(sigismember(&blocked, SIGTERM));
        assert_int_equal(interrupt_open(&fd), 0);
        raise(SIGINT);
        assert_false(interrupt_pending());
        assert_int_equal(interrupt_take(fd), 0);
        close(fd);
        signal(SIGINT, SIG_DFL);
        restore();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_block_then_take),
                cmocka_unit_test(test_inherited_ignore_kept),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
