/* Unit tests for policy/status.c: the status JSON lines of docs/status.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <string.h>

#include "policy/status.h"
#include "policy/util.h"

enum jt { T_INT, T_BOOL, T_STR, T_NULL, T_OBJ, T_ARR, T_INT_OR_NULL, T_STR_OR_NULL };

static bool type_is(json_t *v, enum jt t) {
        switch (t) {
        case T_INT: return json_is_integer(v);
        case T_BOOL: return json_is_boolean(v);
        case T_STR: return json_is_string(v);
        case T_NULL: return json_is_null(v) || json_is_object(v); /* "interrupted": null or an object */
        case T_OBJ: return json_is_object(v);
        case T_ARR: return json_is_array(v);
        case T_INT_OR_NULL: return json_is_integer(v) || json_is_null(v);
        case T_STR_OR_NULL: return json_is_string(v) || json_is_null(v);
        }
        return false;
}

/* The documented fields of the final object and their JSON types. */
static const struct {
        const char *key;
        enum jt type;
} final_fields[] = {
        { "version", T_INT },
        { "task", T_STR_OR_NULL },
        { "tenant", T_STR_OR_NULL },
        { "pid", T_INT_OR_NULL },
        { "exit_code", T_INT },
        { "signal", T_INT_OR_NULL },
        { "timed_out", T_BOOL },
        { "oom_killed", T_BOOL },
        { "wall_ms", T_INT },
        { "cpu_user_ms", T_INT },
        { "cpu_sys_ms", T_INT },
        { "max_rss_kb", T_INT },
        { "refused", T_STR_OR_NULL },
        { "error", T_STR_OR_NULL },
        { "failed_step", T_STR_OR_NULL },
        { "memory_peak_kb", T_INT_OR_NULL },
        { "pids_peak", T_INT_OR_NULL },
        { "network", T_STR },
        { "cgroup", T_STR },
        { "audit", T_OBJ },
        { "not_enforced", T_ARR },
        { "interrupted", T_NULL },
};

static json_t *parse_final(const struct status *s) {
        char *txt = status_format_final(s);
        json_error_t je;
        json_t *o;
        assert_non_null(txt);
        assert_null(strchr(txt, '\n')); /* one line */
        o = json_loads(txt, 0, &je);
        if (!o)
                fail_msg("status is not JSON (%s): %s", je.text, txt);
        free(txt);
        assert_true(json_is_object(o));
        for (size_t i = 0; i < ELEMENTSOF(final_fields); i++) {
                json_t *v = json_object_get(o, final_fields[i].key);
                if (!v)
                        fail_msg("status has no \"%s\"", final_fields[i].key);
                if (!type_is(v, final_fields[i].type))
                        fail_msg("status \"%s\" has the wrong JSON type", final_fields[i].key);
        }
        return o;
}

static long long geti(json_t *o, const char *k) {
        json_t *v = json_object_get(o, k);
        assert_true(json_is_integer(v));
        return json_integer_value(v);
}

static const char *gets_(json_t *o, const char *k) {
        json_t *v = json_object_get(o, k);
        assert_true(json_is_string(v));
        return json_string_value(v);
}

static void test_init_defaults(void **state) {
        struct status s;
        memset(&s, 0x5a, sizeof s);
        status_init(&s);
        json_t *o = parse_final(&s);
        assert_int_equal(geti(o, "version"), STATUS_VERSION);
        assert_true(json_is_null(json_object_get(o, "task")));
        assert_true(json_is_null(json_object_get(o, "tenant")));
        /* nothing was cloned: no pid (null, never 0), not interrupted */
        assert_true(json_is_null(json_object_get(o, "pid")));
        assert_true(json_is_null(json_object_get(o, "interrupted")));
        assert_true(json_is_null(json_object_get(o, "signal")));
        assert_true(json_is_false(json_object_get(o, "timed_out")));
        assert_true(json_is_false(json_object_get(o, "oom_killed")));
        assert_true(json_is_null(json_object_get(o, "refused")));
        assert_true(json_is_null(json_object_get(o, "error")));
        assert_true(json_is_null(json_object_get(o, "failed_step")));
        assert_true(json_is_null(json_object_get(o, "memory_peak_kb")));
        assert_true(json_is_null(json_object_get(o, "pids_peak")));
        assert_string_equal(gets_(o, "network"), "none");
        assert_string_equal(gets_(o, "cgroup"), "none");
        /* no profile: no credentials object at all */
        assert_null(json_object_get(o, "credentials"));
        json_t *a = json_object_get(o, "audit");
        assert_string_equal(gets_(a, "mode"), "off");
        assert_true(json_is_array(json_object_get(a, "missing")));
        assert_int_equal(json_array_size(json_object_get(a, "missing")), 0);
        assert_int_equal(json_array_size(json_object_get(o, "not_enforced")), 0);
        json_decref(o);
}

static void test_final_values(void **state) {
        struct status s;
        status_init(&s);
        s.task = "T42";
        s.tenant = "acme";
        s.pid = 4242;
        s.exit_code = 137;
        s.signal = 9;
        s.timed_out = true;
        s.oom_killed = true;
        s.wall_ms = 1234;
        s.cpu_user_ms = 56;
        s.cpu_sys_ms = 78;
        s.max_rss_kb = 9000;
        s.memory_peak_kb = 10240;
        s.pids_peak = 3;
        s.refused = "expired";
        s.error = "profile acme/p v3 expired";
        s.failed_step = "mounts";
        s.network = "veth";
        s.cgroup = "v1";
        s.audit_mode = "required";
        s.audit_missing[0] = "scrub";
        s.n_audit_missing = 1;
        s.not_enforced[0] = "landlock";
        s.not_enforced[1] = "memory_max";
        s.n_not_enforced = 2;
        json_t *o = parse_final(&s);
        assert_string_equal(gets_(o, "task"), "T42");
        assert_string_equal(gets_(o, "tenant"), "acme");
        assert_int_equal(geti(o, "pid"), 4242);
        assert_int_equal(geti(o, "exit_code"), 137);
        assert_int_equal(geti(o, "signal"), 9);
        assert_true(json_is_true(json_object_get(o, "timed_out")));
        assert_true(json_is_true(json_object_get(o, "oom_killed")));
        assert_int_equal(geti(o, "wall_ms"), 1234);
        assert_int_equal(geti(o, "cpu_user_ms"), 56);
        assert_int_equal(geti(o, "cpu_sys_ms"), 78);
        assert_int_equal(geti(o, "max_rss_kb"), 9000);
        assert_int_equal(geti(o, "memory_peak_kb"), 10240);
        assert_int_equal(geti(o, "pids_peak"), 3);
        assert_string_equal(gets_(o, "refused"), "expired");
        assert_string_equal(gets_(o, "error"), "profile acme/p v3 expired");
        assert_string_equal(gets_(o, "failed_step"), "mounts");
        assert_string_equal(gets_(o, "network"), "veth");
        assert_string_equal(gets_(o, "cgroup"), "v1");
        json_t *a = json_object_get(o, "audit");
        assert_string_equal(gets_(a, "mode"), "required");
        assert_string_equal(json_string_value(json_array_get(json_object_get(a, "missing"), 0)), "scrub");
        json_t *ne = json_object_get(o, "not_enforced");
        assert_int_equal(json_array_size(ne), 2);
        assert_string_equal(json_string_value(json_array_get(ne, 1)), "memory_max");
        json_decref(o);
}

static void test_big_values(void **state) {
        struct status s;
        status_init(&s);
        s.wall_ms = INT64_C(1) << 40; /* int64 fields are not truncated to int */
        s.max_rss_kb = INT64_C(1) << 35;
        s.pid = 4194304;
        s.exit_code = 255;
        json_t *o = parse_final(&s);
        assert_int_equal(geti(o, "wall_ms"), INT64_C(1) << 40);
        assert_int_equal(geti(o, "max_rss_kb"), INT64_C(1) << 35);
        assert_int_equal(geti(o, "pid"), 4194304);
        json_decref(o);
}

static void test_credentials_names_only(void **state) {
        struct status s;
        status_init(&s);
        s.has_profile = true;
        s.profile = "acme-agent";
        s.profile_version = 7;
        s.injected[0] = "github_token";
        s.injected[1] = "OPENAI_API_KEY";
        s.n_injected = 2;
        s.skipped[0] = "deploy_key";
        s.skipped_reason[0] = "env-not-allowed";
        s.n_skipped = 1;
        s.scrubbed = true;
        s.brokered[0] = "OPENAI_API_KEY";
        s.n_brokered = 1;
        static const struct status_injection inj1[] = { { "OPENAI_API_KEY", "api.openai.com", 4 } };
        s.injections = inj1;
        s.n_injections = 1;
        json_t *o = parse_final(&s);
        json_t *c = json_object_get(o, "credentials");
        assert_true(json_is_object(c));
        assert_string_equal(gets_(c, "profile"), "acme-agent");
        assert_int_equal(geti(c, "profile_version"), 7);
        assert_true(json_is_true(json_object_get(c, "scrubbed")));
        json_t *inj = json_object_get(c, "injected");
        assert_int_equal(json_array_size(inj), 2);
        assert_string_equal(json_string_value(json_array_get(inj, 0)), "github_token");
        assert_int_equal(json_array_size(json_object_get(c, "skipped")), 1);
        /* each skipped credential with why, beside the list of names */
        json_t *sr = json_object_get(c, "skipped_reasons");
        assert_int_equal(json_array_size(sr), 1);
        assert_string_equal(gets_(json_array_get(sr, 0), "name"), "deploy_key");
        assert_string_equal(gets_(json_array_get(sr, 0), "reason"), "env-not-allowed");
        assert_int_equal(json_object_size(json_array_get(sr, 0)), 2);
        /* brokered: names, and request counts per (credential, bound host) */
        assert_string_equal(json_string_value(json_array_get(json_object_get(c, "brokered"), 0)), "OPENAI_API_KEY");
        json_t *ij = json_array_get(json_object_get(c, "injections"), 0);
        assert_string_equal(gets_(ij, "host"), "api.openai.com");
        assert_int_equal(geti(ij, "requests"), 4);
        assert_int_equal(json_object_size(ij), 3);
        /* only the documented keys: no room for values */
        assert_int_equal(json_object_size(c), 8);
        json_decref(o);
}

/* A message built from outside input (a path, an argument) may hold bytes
 * that are not UTF-8; the status must still be written, it is how the
 * worker learns why the task did not run. */
static void test_non_utf8_text(void **state) {
        struct status s;
        status_init(&s);
        s.exit_code = 125;
        s.error = "/tmp/\xff\xfe.json: cannot open policy: No such file or directory";
        s.failed_step = "policy";
        json_t *o = parse_final(&s);
        const char *err = gets_(o, "error");
        assert_non_null(strstr(err, "cannot open policy"));
        assert_int_equal(geti(o, "exit_code"), 125);
        json_decref(o);

        int p[2];
        char buf[4096];
        assert_int_equal(pipe(p), 0);
        s.task = "T1";
        assert_int_equal(status_write_final(p[1], &s), 0);
        close(p[1]);
        ssize_t n = read(p[0], buf, sizeof buf - 1);
        close(p[0]);
        assert_true(n > 0);
        buf[n] = 0;
        assert_non_null(strstr(buf, "cannot open policy"));
}

/* Every byte outside printable ASCII, from any input-carrying field, is
 * escaped: a right-to-left override or a BOM never reaches a reader raw. */
static void test_escaped_text(void **state) {
        struct status s;
        status_init(&s);
        s.exit_code = 125;
        s.error = "/tmp/p\xe2\x80\xae.json: $.mounts[0].dst\xef\xbb\xbf: bad \xf0\x9f\x98\x80 \x1b[31m";
        s.not_enforced[s.n_not_enforced++] = "landlock.fs /data\xe2\x80\xae";
        s.profile = "p\x07";
        s.has_profile = true;
        char *txt = status_format_final(&s);
        assert_non_null(txt);
        for (const char *c = txt; *c; c++)
                assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);
        json_t *o = json_loads(txt, 0, NULL);
        assert_non_null(o);
        assert_string_equal(gets_(o, "error"), "/tmp/p\\u202e.json: $.mounts[0].dst\\ufeff: bad \\U0001f600 \\x1b[31m");
        assert_string_equal(json_string_value(json_array_get(json_object_get(o, "not_enforced"), 0)),
                            "landlock.fs /data\\u202e");
        assert_string_equal(gets_(json_object_get(o, "credentials"), "profile"), "p\\x07");
        json_decref(o);
        free(txt);
}

static void test_interrupted(void **state) {
        struct status s;
        status_init(&s);
        s.exit_code = 143;
        s.interrupted_signal = SIGTERM;
        s.interrupted_step = "cgroup";
        json_t *o = parse_final(&s);
        json_t *i = json_object_get(o, "interrupted");
        assert_true(json_is_object(i));
        assert_int_equal(geti(i, "signal"), SIGTERM);
        assert_string_equal(gets_(i, "step"), "cgroup");
        /* the payload was not killed by it: signal stays null */
        assert_true(json_is_null(json_object_get(o, "signal")));
        json_decref(o);
}

static char *read_pipe(int fd) {
        char *buf = NULL;
        assert_int_equal(read_fd_all(fd, 1 << 20, &buf, NULL), 0);
        return buf;
}

static void test_write_started_then_final(void **state) {
        struct status s;
        int p[2];
        status_init(&s);
        s.task = "T42";
        s.tenant = "acme";
        s.pid = 31337;
        assert_int_equal(pipe(p), 0);
        assert_int_equal(status_write_started(p[1], &s), 0);
        s.exit_code = 3;
        assert_int_equal(status_write_final(p[1], &s), 0);
        close(p[1]);
        char *buf = read_pipe(p[0]);
        close(p[0]);

        /* exactly two lines, each one object */
        char *nl = strchr(buf, '\n');
        assert_non_null(nl);
        *nl = 0;
        char *second = nl + 1;
        char *nl2 = strchr(second, '\n');
        assert_non_null(nl2);
        assert_int_equal(nl2[1], 0);
        *nl2 = 0;

        json_error_t je;
        json_t *o = json_loads(buf, 0, &je);
        assert_non_null(o);
        assert_int_equal(geti(o, "version"), 2);
        assert_string_equal(gets_(o, "task"), "T42");
        assert_string_equal(gets_(o, "tenant"), "acme");
        assert_int_equal(geti(o, "pid"), 31337);
        assert_string_equal(gets_(o, "state"), "running");
        assert_int_equal(json_object_size(o), 5);
        json_decref(o);

        o = json_loads(second, 0, &je);
        assert_non_null(o);
        assert_int_equal(geti(o, "exit_code"), 3);
        assert_int_equal(geti(o, "pid"), 31337);
        assert_null(json_object_get(o, "state"));
        json_decref(o);
        free(buf);

        /* task and tenant are null when not given */
        status_init(&s);
        s.pid = 1;
        assert_int_equal(pipe(p), 0);
        assert_int_equal(status_write_started(p[1], &s), 0);
        close(p[1]);
        buf = read_pipe(p[0]);
        close(p[0]);
        o = json_loads(buf, 0, &je);
        assert_non_null(o);
        assert_true(json_is_null(json_object_get(o, "task")));
        assert_true(json_is_null(json_object_get(o, "tenant")));
        json_decref(o);
        free(buf);
}

static void test_write_errors(void **state) {
        struct status s;
        int p[2];
        status_init(&s);
        assert_int_equal(status_write_final(-1, &s), -EBADF);
        assert_int_equal(status_write_started(-1, &s), -EBADF);
        /* reader gone: an error return, not a SIGPIPE death of the supervisor
         * (the supervisor ignores SIGPIPE; so does this test) */
        signal(SIGPIPE, SIG_IGN);
        assert_int_equal(pipe(p), 0);
        close(p[0]);
        assert_int_equal(status_write_final(p[1], &s), -EPIPE);
        close(p[1]);
}

/* The status owns its copies: the caller's buffer may change or go. */
static void test_owned_strings(void **state) {
        struct status s;
        char buf[32] = "acme-profile";
        status_init(&s);
        s.profile = status_own(&s, buf);
        s.error = status_own(&s, "refused: x");
        assert_null(status_own(&s, NULL));
        memset(buf, 'X', sizeof buf - 1);
        assert_string_equal(s.profile, "acme-profile");
        assert_int_equal(s.n_owned, 2);
        status_free(&s);
        assert_int_equal(s.n_owned, 0);
        assert_null(s.owned);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_init_defaults),
                cmocka_unit_test(test_owned_strings),
                cmocka_unit_test(test_final_values),
                cmocka_unit_test(test_big_values),
                cmocka_unit_test(test_credentials_names_only),
                cmocka_unit_test(test_non_utf8_text),
                cmocka_unit_test(test_escaped_text),
                cmocka_unit_test(test_interrupted),
                cmocka_unit_test(test_write_started_then_final),
                cmocka_unit_test(test_write_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
