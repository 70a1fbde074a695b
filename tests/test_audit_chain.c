/* Unit tests: audit hash chain (writer, reopen, torn tails, write errors, every kind of tampering). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "policy/audit_chain.h"

struct fx {
        char dir[64];
        int dfd;
};

static int setup(void **state) {
        struct fx *f = calloc(1, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "/tmp/test_audit_chain.XXXXXX");
        if (!mkdtemp(f->dir) || sodium_init() < 0)
                return -1;
        f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *state = f;
        return f->dfd < 0 ? -1 : 0;
}

static int teardown(void **state) {
        struct fx *f = *state;
        char cmd[128];
        close(f->dfd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
                return -1;
        free(f);
        return 0;
}

static char *event(const char *tenant, int n) {
        char *s;
        if (asprintf(&s,
                     "{\"schema\":1,\"seq\":%d,\"time\":\"2025-03-01T10:00:00.000Z\",\"event\":\"launch\","
                     "\"tenant\":\"%s\",\"task\":\"T%d\",\"pid\":%d}",
                     n, tenant, n, 100 + n) < 0)
                return NULL;
        return s;
}

/* Append n events for tenant through the writer. */
static void write_events(struct fx *f, const char *tenant, int n) {
        struct audit_chain c;
        struct audit_peer peer = { 1000, 1000, 42 };
        struct sr_error e = { 0 };
        assert_int_equal(audit_chain_open(f->dfd, tenant, &c, &e), 0);
        for (int i = 1; i <= n; i++) {
                char *ev = event(tenant, i);
                uint64_t line = 0;
                assert_int_equal(audit_chain_append(&c, &peer, ev, &line, &e), 0);
                assert_int_equal(line, c.seq);
                free(ev);
        }
        audit_chain_close(&c);
}

static char *path_of(struct fx *f, const char *tenant) {
        static char p[128];
        snprintf(p, sizeof p, "%s/%s.jsonl", f->dir, tenant);
        return p;
}

static struct audit_verify_result verify(struct fx *f, const char *tenant) {
        struct audit_verify_result res;
        int fd = open(path_of(f, tenant), O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(audit_chain_verify(fd, tenant, &res), 0);
        close(fd);
        return res;
}

/* Read the file as an array of lines (each with its '\n'). */
static size_t read_lines(struct fx *f, const char *tenant, char **lines, size_t max) {
        FILE *fp = fopen(path_of(f, tenant), "r");
        size_t n = 0, cap = 0;
        char *l = NULL;
        assert_non_null(fp);
        while (n < max && getline(&l, &cap, fp) > 0) {
                lines[n++] = l;
                l = NULL;
                cap = 0;
        }
        free(l);
        fclose(fp);
        return n;
}

static void write_lines(struct fx *f, const char *tenant, char **lines, size_t n) {
        FILE *fp = fopen(path_of(f, tenant), "w");
        assert_non_null(fp);
        for (size_t i = 0; i < n; i++)
                fputs(lines[i], fp);
        fclose(fp);
}

static void free_lines(char **lines, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(lines[i]);
}

static void test_write_and_verify(void **state) {
        struct fx *f = *state;
        struct audit_verify_result res;
        write_events(f, "acme", 5);
        res = verify(f, "acme");
        assert_int_equal(res.bad_line, 0);
        assert_int_equal(res.lines, 5);
        /* reopen continues the chain */
        write_events(f, "acme", 2);
        res = verify(f, "acme");
        assert_int_equal(res.bad_line, 0);
        assert_int_equal(res.lines, 7);
        /* another tenant: its own file and chain */
        write_events(f, "globex", 1);
        assert_int_equal(verify(f, "globex").lines, 1);
}

static void test_empty_file_is_intact(void **state) {
        struct fx *f = *state;
        struct audit_chain c;
        struct sr_error e = { 0 };
        assert_int_equal(audit_chain_open(f->dfd, "acme", &c, &e), 0);
        assert_int_equal(c.seq, 0);
        audit_chain_close(&c);
        assert_int_equal(verify(f, "acme").bad_line, 0);
}

static void test_edit_any_byte_fails_at_that_line(void **state) {
        struct fx *f = *state;
        char *lines[8];
        size_t n;
        write_events(f, "acme", 4);
        n = read_lines(f, "acme", lines, 8);
        assert_int_equal(n, 4);
        /* every position of line 3 (except its newline), one at a time */
        size_t len = strlen(lines[2]) - 1;
        for (size_t pos = 0; pos < len; pos += 7) {
                char saved = lines[2][pos];
                lines[2][pos] = saved == '1' ? '2' : '1';
                write_lines(f, "acme", lines, n);
                struct audit_verify_result res = verify(f, "acme");
                if (res.bad_line != 3)
                        fail_msg("edit at %zu: bad_line %llu (%s)", pos, (unsigned long long)res.bad_line, res.why);
                lines[2][pos] = saved;
        }
        write_lines(f, "acme", lines, n);
        assert_int_equal(verify(f, "acme").bad_line, 0);
        free_lines(lines, n);
}

static void test_delete_line(void **state) {
        struct fx *f = *state;
        char *lines[8];
        size_t n;
        struct audit_verify_result res;
        write_events(f, "acme", 4);
        n = read_lines(f, "acme", lines, 8);
        free(lines[1]);
        memmove(&lines[1], &lines[2], 2 * sizeof *lines);
        write_lines(f, "acme", lines, 3);
        res = verify(f, "acme");
        assert_int_equal(res.bad_line, 2);
        assert_int_equal(res.lines, 1);
        assert_non_null(strstr(res.why, "sequence"));
        /* deleting the first line */
        free(lines[0]);
        write_lines(f, "acme", lines + 1, 2);
        assert_int_equal(verify(f, "acme").bad_line, 1);
        free_lines(lines + 1, 2);
        (void)n;
}

static void test_reorder_lines(void **state) {
        struct fx *f = *state;
        char *lines[8], *t;
        size_t n;
        write_events(f, "acme", 4);
        n = read_lines(f, "acme", lines, 8);
        t = lines[2];
        lines[2] = lines[3];
        lines[3] = t;
        write_lines(f, "acme", lines, n);
        assert_int_equal(verify(f, "acme").bad_line, 3);
        free_lines(lines, n);
}

static void test_insert_and_blank_lines(void **state) {
        struct fx *f = *state;
        char *lines[8];
        size_t n;
        write_events(f, "acme", 3);
        n = read_lines(f, "acme", lines, 8);
        char *copy[8] = { lines[0], lines[1], lines[1], lines[2] };
        write_lines(f, "acme", copy, 4); /* a duplicated line */
        assert_int_equal(verify(f, "acme").bad_line, 3);
        char blank[] = "\n";
        char *withblank[8] = { lines[0], blank, lines[1], lines[2] };
        write_lines(f, "acme", withblank, 4);
        assert_int_equal(verify(f, "acme").bad_line, 2);
        free_lines(lines, n);
}

static void test_truncated_last_line(void **state) {
        struct fx *f = *state;
        struct audit_verify_result res;
        struct stat st;
        write_events(f, "acme", 3);
        assert_int_equal(stat(path_of(f, "acme"), &st), 0);
        assert_int_equal(truncate(path_of(f, "acme"), st.st_size - 10), 0);
        res = verify(f, "acme");
        assert_int_equal(res.bad_line, 3);
        assert_int_equal(res.lines, 2);
}

static void test_torn_tail_dropped_on_open(void **state) {
        struct fx *f = *state;
        FILE *fp;
        write_events(f, "acme", 2);
        fp = fopen(path_of(f, "acme"), "a");
        fputs("{\"seq\":3,\"prev\":\"half a line from a crash", fp);
        fclose(fp);
        assert_int_equal(verify(f, "acme").bad_line, 3);
        write_events(f, "acme", 1); /* opening cuts the unacknowledged tail */
        struct audit_verify_result res = verify(f, "acme");
        assert_int_equal(res.bad_line, 0);
        assert_int_equal(res.lines, 3);
}

static void test_broken_last_line_refused(void **state) {
        struct fx *f = *state;
        char *lines[8];
        size_t n;
        struct audit_chain c;
        struct sr_error e = { 0 };
        write_events(f, "acme", 2);
        n = read_lines(f, "acme", lines, 8);
        lines[1][20] ^= 1;
        write_lines(f, "acme", lines, n);
        assert_int_equal(audit_chain_open(f->dfd, "acme", &c, &e), -EBADMSG);
        assert_string_equal(e.reason, "chain-broken");
        free_lines(lines, n);
}

static void test_wrong_tenant_in_file(void **state) {
        struct fx *f = *state;
        char cmd[300];
        struct audit_verify_result res;
        write_events(f, "acme", 2);
        snprintf(cmd, sizeof cmd, "cp '%s/acme.jsonl' '%s/globex.jsonl'", f->dir, f->dir);
        assert_int_equal(system(cmd), 0);
        res = verify(f, "globex");
        assert_int_equal(res.bad_line, 1);
        assert_non_null(strstr(res.why, "another tenant"));
}

static void test_forged_lines(void **state) {
        struct fx *f = *state;
        struct audit_peer peer = { 0, 0, 1 };
        char *line, *ev = event("acme", 1), prev[AUDIT_HASH_HEX + 1];
        size_t len;
        FILE *fp;
        memset(prev, '0', AUDIT_HASH_HEX);
        prev[AUDIT_HASH_HEX] = 0;
        /* a self-consistent line with seq 2 as the first line: sequence error */
        assert_int_equal(audit_chain_format(2, prev, "2025-03-01T10:00:00.000Z", &peer, ev, &line, &len), 0);
        fp = fopen(path_of(f, "acme"), "w");
        fputs(line, fp);
        fclose(fp);
        free(line);
        assert_non_null(strstr(verify(f, "acme").why, "sequence"));
        /* a self-consistent first line whose prev is not zeros */
        prev[0] = 'a';
        assert_int_equal(audit_chain_format(1, prev, "2025-03-01T10:00:00.000Z", &peer, ev, &line, &len), 0);
        fp = fopen(path_of(f, "acme"), "w");
        fputs(line, fp);
        fclose(fp);
        free(line);
        assert_non_null(strstr(verify(f, "acme").why, "prev"));
        /* an event that the protocol refuses, correctly hashed */
        prev[0] = '0';
        assert_int_equal(audit_chain_format(1, prev, "2025-03-01T10:00:00.000Z", &peer,
                                            "{\"schema\":1,\"event\":\"launch\",\"value\":\"x\"}", &line, &len),
                         0);
        fp = fopen(path_of(f, "acme"), "w");
        fputs(line, fp);
        fclose(fp);
        free(line);
        assert_non_null(strstr(verify(f, "acme").why, "event:"));
        /* not JSON, an extra key */
        fp = fopen(path_of(f, "acme"), "w");
        fputs("hello\n", fp);
        fclose(fp);
        assert_int_equal(verify(f, "acme").bad_line, 1);
        fp = fopen(path_of(f, "acme"), "w");
        fputs("{\"seq\":1,\"x\":1,\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}\n",
              fp);
        fclose(fp);
        assert_int_equal(verify(f, "acme").bad_line, 1);
        free(ev);
}

static void test_write_error_leaves_no_trace(void **state) {
        struct fx *f = *state;
        struct audit_chain c;
        struct audit_peer peer = { 0, 0, 1 };
        struct sr_error e = { 0 };
        struct rlimit old, lim;
        struct stat st0, st1;
        char *ev = event("acme", 9);
        write_events(f, "acme", 2);
        assert_int_equal(audit_chain_open(f->dfd, "acme", &c, &e), 0);
        assert_int_equal(fstat(c.fd, &st0), 0);
        /* a full disk, simulated: the file may not grow past its size */
        signal(SIGXFSZ, SIG_IGN);
        getrlimit(RLIMIT_FSIZE, &old);
        lim = old;
        lim.rlim_cur = (rlim_t)st0.st_size + 10;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        assert_true(audit_chain_append(&c, &peer, ev, NULL, &e) < 0);
        setrlimit(RLIMIT_FSIZE, &old);
        assert_string_equal(e.reason, "write-failed");
        assert_int_equal(c.seq, 2);
        assert_int_equal(fstat(c.fd, &st1), 0);
        assert_int_equal(st1.st_size, st0.st_size);
        /* and the chain goes on intact afterwards */
        assert_int_equal(audit_chain_append(&c, &peer, ev, NULL, &e), 0);
        audit_chain_close(&c);
        assert_int_equal(verify(f, "acme").lines, 3);
        free(ev);
}

static void test_symlink_refused(void **state) {
        struct fx *f = *state;
        struct audit_chain c;
        struct sr_error e = { 0 };
        assert_int_equal(symlinkat("/etc/passwd", f->dfd, "acme.jsonl"), 0);
        assert_true(audit_chain_open(f->dfd, "acme", &c, &e) < 0);
}

static void test_global_file(void **state) {
        struct fx *f = *state;
        struct audit_chain c;
        struct audit_peer peer = { 0, 0, 1 };
        struct sr_error e = { 0 };
        const char *ev = "{\"schema\":1,\"seq\":1,\"time\":\"2025-03-01T10:00:00.000Z\",\"event\":\"revoke\",\"key_"
                         "id\":\"0011223344556677\"}";
        assert_int_equal(audit_chain_open(f->dfd, AUDIT_GLOBAL_NAME, &c, &e), 0);
        assert_int_equal(audit_chain_append(&c, &peer, ev, NULL, &e), 0);
        audit_chain_close(&c);
        assert_int_equal(verify(f, AUDIT_GLOBAL_NAME).lines, 1);
        /* a tenant's event does not belong in the global file */
        char *tev = event("acme", 2);
        assert_int_equal(audit_chain_open(f->dfd, AUDIT_GLOBAL_NAME, &c, &e), 0);
        assert_int_equal(audit_chain_append(&c, &peer, tev, NULL, &e), 0);
        audit_chain_close(&c);
        assert_int_equal(verify(f, AUDIT_GLOBAL_NAME).bad_line, 2);
        free(tev);
}

/* Rotation: the chain runs on across files and only the whole series verifies. */
static void test_rotation_series(void **state) {
        struct fx *f = *state;
        struct audit_chain c;
        struct audit_peer peer = { 1000, 1000, 42 };
        struct sr_error e = { 0 };
        struct audit_verify_result res;
        char head[AUDIT_HASH_HEX + 1];
        int fd;
        assert_int_equal(audit_chain_open(f->dfd, "acme", &c, &e), 0);
        for (int i = 1; i <= 6; i++) {
                char *ev = event("acme", i);
                if (i == 3 || i == 5)
                        assert_int_equal(audit_chain_rotate(&c, &e), 0);
                assert_int_equal(audit_chain_append(&c, &peer, ev, NULL, &e), 0);
                free(ev);
        }
        audit_chain_close(&c);
        /* reopened with an empty live file, it continues from the newest rotated file */
        assert_int_equal(audit_chain_open(f->dfd, "acme", &c, &e), 0);
        assert_int_equal(c.seq, 6);
        assert_int_equal(audit_chain_rotate(&c, &e), 0);
        audit_chain_close(&c);
        assert_int_equal(audit_chain_open(f->dfd, "acme", &c, &e), 0);
        assert_int_equal(c.seq, 6);
        audit_chain_close(&c);
        assert_int_equal(audit_chain_rotated_index("acme.jsonl.000002", "acme"), 2);
        assert_int_equal(audit_chain_rotated_index("acme.jsonl.2", "acme"), 0);
        assert_int_equal(audit_chain_rotated_index("acmex.jsonl.000002", "acme"), 0);
        /* file 2 on its own from seq 1 fails; following file 1 it passes */
        fd = openat(f->dfd, "acme.jsonl.000001", O_RDONLY);
        assert_int_equal(audit_chain_verify(fd, "acme", &res), 0);
        assert_int_equal(res.bad_line, 0);
        assert_int_equal(res.last_seq, 2);
        memcpy(head, res.head, sizeof head);
        close(fd);
        fd = openat(f->dfd, "acme.jsonl.000002", O_RDONLY);
        assert_int_equal(audit_chain_verify(fd, "acme", &res), 0);
        assert_int_equal(res.bad_line, 1);
        assert_int_equal(audit_chain_verify_from(fd, "acme", 3, head, &res), 0);
        assert_int_equal(res.bad_line, 0);
        assert_int_equal(res.first_seq, 3);
        assert_int_equal(audit_chain_verify_from(fd, "acme", 0, NULL, &res), 0);
        assert_int_equal(res.bad_line, 0);
        /* following the wrong head: the link to the previous file is broken */
        head[0] = head[0] == 'a' ? 'b' : 'a';
        assert_int_equal(audit_chain_verify_from(fd, "acme", 3, head, &res), 0);
        assert_int_equal(res.bad_line, 1);
        close(fd);
}

/* Group commit: lines written and synced together; a failed sync takes the
 * whole batch back (simulated by a sync on a read-only fd is not possible, so
 * check the bookkeeping the collector relies on). */
static void test_batch(void **state) {
        struct fx *f = *state;
        struct audit_chain c;
        struct audit_peer peer = { 1000, 1000, 42 };
        struct sr_error e = { 0 };
        struct audit_verify_result res;
        uint64_t l1, l2;
        char *a = event("acme", 1), *b = event("acme", 2);
        assert_int_equal(audit_chain_open(f->dfd, "acme", &c, &e), 0);
        assert_int_equal(audit_chain_write(&c, &peer, a, &l1, &e), 0);
        assert_int_equal(audit_chain_write(&c, &peer, b, &l2, &e), 0);
        assert_int_equal(c.pending, 2);
        assert_int_equal(l2, l1 + 1);
        assert_int_equal(audit_chain_sync(&c, &e), 0);
        assert_int_equal(c.pending, 0);
        assert_int_equal(c.rollbacks, 0);
        assert_int_equal(audit_chain_verify(c.fd, "acme", &res), 0);
        assert_int_equal(res.lines, 2);
        audit_chain_close(&c);
        free(a);
        free(b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_and_verify, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_file_is_intact, setup, teardown),
                cmocka_unit_test_setup_teardown(test_edit_any_byte_fails_at_that_line, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_line, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reorder_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_insert_and_blank_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncated_last_line, setup, teardown),
                cmocka_unit_test_setup_teardown(test_torn_tail_dropped_on_open, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_last_line_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_tenant_in_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forged_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_error_leaves_no_trace, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_global_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rotation_series, setup, teardown),
                cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
