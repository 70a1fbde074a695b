/* Unit tests for launcher/trace.c: free when off, points in launch order, across a fork, one JSON line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher/trace.h"

static void test_names_in_order(void **state) {
        static const char *const want[] = { "start",   "policy_loaded", "clone", "go",          "mounts_done",
                                            "claimed", "payload_exec",  "exit",  "cleanup_done" };
        assert_int_equal(TRACE_N, sizeof want / sizeof *want);
        for (int i = 0; i < TRACE_N; i++)
                assert_string_equal(trace_point_name((enum trace_point)i), want[i]);
        assert_string_equal(trace_point_name(TRACE_N), "?");
}

static void test_format(void **state) {
        uint64_t t[TRACE_N] = { 1000, 1100, 0, 1300 }; /* clone never reached: left out */
        char buf[1024];
        size_t n = trace_format(buf, sizeof buf, t, 42, 1234);
        json_error_t je;
        json_t *j;
        assert_int_equal(n, strlen(buf));
        assert_int_equal(buf[n - 1], '\n');
        assert_null(memchr(buf, '\n', n - 1));
        j = json_loads(buf, 0, &je);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "cpu_at_enable_us")), 42);
        assert_int_equal(json_integer_value(json_object_get(j, "supervisor_maxrss_kb")), 1234);
        assert_string_equal(json_string_value(json_object_get(j, "clock")), "monotonic");
        json_t *pts = json_object_get(j, "points");
        assert_int_equal(json_array_size(pts), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(pts, 2), "name")), "go");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(pts, 2), "since_start_us")), 300);
        json_decref(j);
        /* a short buffer truncates, never overruns */
        memset(buf, 'x', sizeof buf);
        n = trace_format(buf, 16, t, 0, 0);
        assert_int_equal(n, 15);
        assert_int_equal(buf[15], 0);
        assert_int_equal(buf[16], 'x');
}

/* Off: trace_point and trace_emit do nothing (no crash, nothing written). */
static void test_off(void **state) {
        trace_point(TRACE_GO);
        trace_emit();
}

/* On: a forked child (as sandbox init is: no shared address space) records
 * its points where the parent's line shows them, in order. */
static void test_points_across_fork(void **state) {
        int p[2];
        char buf[2048] = { 0 };
        json_error_t je;
        json_t *j, *pts;
        pid_t pid;
        int st;
        ssize_t n;
        assert_int_equal(pipe(p), 0);
        assert_int_equal(trace_enable(1 << 20), -EBADF);
        trace_start();
        assert_int_equal(trace_enable(p[1]), 0);
        trace_point(TRACE_POLICY_LOADED);
        trace_point(TRACE_CLONE);
        trace_point(TRACE_GO);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                trace_point(TRACE_MOUNTS_DONE);
                trace_point(TRACE_CLAIMED);
                usleep(1000);
                trace_point(TRACE_PAYLOAD_EXEC);
                trace_point(TRACE_EXIT);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        trace_emit();
        close(p[1]);
        n = read(p[0], buf, sizeof buf - 1);
        close(p[0]);
        assert_true(n > 0);
        j = json_loads(buf, 0, &je);
        assert_non_null(j);
        pts = json_object_get(j, "points");
        assert_int_equal(json_array_size(pts), TRACE_N);
        for (size_t i = 0; i < TRACE_N; i++) {
                json_t *pt = json_array_get(pts, i);
                assert_string_equal(json_string_value(json_object_get(pt, "name")),
                                    trace_point_name((enum trace_point)i));
                if (i > 0)
                        assert_true(json_integer_value(json_object_get(pt, "t_us")) >=
                                    json_integer_value(json_object_get(json_array_get(pts, i - 1), "t_us")));
        }
        /* the child's 1 ms sleep shows up between its two points */
        assert_true(json_integer_value(json_object_get(json_array_get(pts, TRACE_PAYLOAD_EXEC), "t_us")) -
                            json_integer_value(json_object_get(json_array_get(pts, TRACE_MOUNTS_DONE), "t_us")) >=
                    1000);
        json_decref(j);
        /* emitted once: off again afterwards */
        trace_point(TRACE_GO);
        trace_emit();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_in_order),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_off),
                cmocka_unit_test(test_points_across_fork),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
