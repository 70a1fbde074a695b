/* Unit tests for policy/claim.c: the claim protocol's messages, fds, peer check and sealed records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy/claim.h"
#include "policy/util.h"

static void test_message_with_fds(void **state) {
        int sp[2], p[2], got[CLAIM_MAX_FDS];
        struct claim_msg m;
        size_t n;
        char c = 0;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(pipe(p), 0);
        assert_int_equal(claim_send(sp[0], CLAIM_TASK, 42, &p[1], 1), 0);
        assert_int_equal(claim_recv(sp[1], &m, got, CLAIM_MAX_FDS, &n, 1000), 0);
        assert_int_equal(m.type, CLAIM_TASK);
        assert_int_equal(m.value, 42);
        assert_int_equal(n, 1);
        /* the received fd is the pipe's write end, close-on-exec */
        assert_int_equal(write(got[0], "x", 1), 1);
        assert_int_equal(read(p[0], &c, 1), 1);
        assert_int_equal(c, 'x');
        assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
        close(got[0]);
        /* nothing pending: a timeout; the peer gone: EOF */
        assert_int_equal(claim_recv(sp[1], &m, got, CLAIM_MAX_FDS, &n, 0), -ETIMEDOUT);
        close(sp[0]);
        assert_int_equal(claim_recv(sp[1], &m, got, CLAIM_MAX_FDS, &n, 1000), -EPIPE);
        close(sp[1]);
        close(p[0]);
        close(p[1]);
}

static void test_malformed_is_refused(void **state) {
        int sp[2], got[CLAIM_MAX_FDS];
        struct claim_msg m;
        size_t n;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(send(sp[0], "garbage-that-is-no-claim", 24, 0), 24);
        assert_int_equal(claim_recv(sp[1], &m, got, CLAIM_MAX_FDS, &n, 1000), -EBADMSG);
        assert_int_equal(n, 0);
        close(sp[0]);
        close(sp[1]);
}

static void test_peer_is_our_uid(void **state) {
        int sp[2];
        pid_t pid = 0;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(claim_check_peer(sp[0], &pid), 0);
        assert_int_equal(pid, getpid());
        close(sp[0]);
        close(sp[1]);
}

static void test_records_sealed(void **state) {
        char *args[] = { "--task", "t1", "--", "sh" }, *env[] = { "A=1", NULL }, *buf = NULL;
        int nums[] = { 9 }, fd;
        size_t len = 0;
        fd = claim_args_new(args, 4, env, nums, 1);
        assert_true(fd >= 0);
        /* sealed: the sender cannot change what the sandbox parses */
        assert_int_equal(write(fd, "x", 1), -1);
        assert_int_equal(claim_args_read(fd, &buf, &len), 0);
        assert_int_equal(len, sizeof "a--task\0at1\0a--\0ash\0eA=1\0f9");
        assert_memory_equal(buf, "a--task\0at1\0a--\0ash\0eA=1\0f9", len);
        free(buf);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_message_with_fds),
                cmocka_unit_test(test_malformed_is_refused),
                cmocka_unit_test(test_peer_is_our_uid),
                cmocka_unit_test(test_records_sealed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
