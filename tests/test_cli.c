/* Unit tests for launcher/cli.c: every option, good and bad values, and the cross-option rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "launcher/cli.h"

#define MAX_ARGS 512

/* argv storage outlives each parse: struct cli points into it. */
static char *args[MAX_ARGS + 2];
static struct cli c;
static struct sr_error e;

static int parsev(const char *first, va_list ap) {
        int n = 0;
        args[n++] = (char *)"sealrun";
        for (const char *a = first; a; a = va_arg(ap, const char *)) {
                assert_true(n < MAX_ARGS);
                args[n++] = (char *)a;
        }
        args[n] = NULL;
        memset(&e, 0, sizeof e);
        return cli_parse(n, args, &c, &e);
}

/* parse(arg..., NULL): the result of cli_parse on "sealrun arg...". */
static int parse(const char *first, ...) {
        va_list ap;
        int r;
        va_start(ap, first);
        r = parsev(first, ap);
        va_end(ap);
        return r;
}

static void ok_(int line, const char *first, ...) {
        va_list ap;
        int r;
        va_start(ap, first);
        r = parsev(first, ap);
        va_end(ap);
        if (r < 0)
                fail_msg("line %d: expected success, got %d: %s", line, r, e.msg);
}
#define OK(...) ok_(__LINE__, __VA_ARGS__, NULL)

/* The parse must fail with exit code 125 and a message containing `needle`
 * (the option's name, so the user knows which one is wrong). */
static void bad_(int line, const char *needle, const char *first, ...) {
        va_list ap;
        int r;
        va_start(ap, first);
        r = parsev(first, ap);
        va_end(ap);
        if (r >= 0)
                fail_msg("line %d: expected failure naming \"%s\", parse succeeded", line, needle);
        if (e.exit_code != SR_EXIT_LAUNCHER)
                fail_msg("line %d: exit code %d, expected 125 (%s)", line, e.exit_code, e.msg);
        if (!strstr(e.msg, needle))
                fail_msg("line %d: message \"%s\" does not contain \"%s\"", line, e.msg, needle);
        if (strchr(e.msg, '\n'))
                fail_msg("line %d: message is not one line: \"%s\"", line, e.msg);
        for (const unsigned char *p = (const unsigned char *)e.msg; *p; p++)
                if (*p < 0x20 || *p >= 0x7f)
                        fail_msg("line %d: message has a non-printable byte 0x%02x: \"%s\"", line, *p, e.msg);
        assert_string_equal(e.reason, "usage");
}
#define BAD(needle, ...) bad_(__LINE__, needle, __VA_ARGS__, NULL)

static void test_defaults(void **state) {
        OK("--", "/bin/true");
        assert_null(c.policy);
        assert_null(c.tenant);
        assert_null(c.task);
        assert_int_equal(c.status_fd, -1);
        assert_int_equal(c.trace_fd, -1);
        assert_int_equal(c.timeout_ms, -1);
        assert_int_equal(c.key_fd, -1);
        assert_int_equal(c.audit_mode, AUDIT_UNSET);
        assert_int_equal(c.max_concurrent, -1);
        assert_int_equal(c.wait_slot_s, 0);
        assert_int_equal(c.n_binds, 0);
        assert_int_equal(c.n_setenv, 0);
        assert_int_equal(c.n_pass_fds, 0);
        assert_false(c.help);
        assert_false(c.version);
        assert_int_equal(c.argc, 1);
        assert_string_equal(c.argv[0], "/bin/true");
        assert_null(c.argv[1]);
}

static void test_all_options(void **state) {
        OK("--policy", "/etc/p.json", "--tenant", "acme", "--task", "T42", "--status-fd", "4", "--timeout", "30",
           "--ro-bind", "/data", "/mnt/data", "--bind", "/work", "/work", "--setenv", "FOO", "bar baz", "--chdir",
           "/work", "--hostname", "box", "--pass-fd", "7", "--profile", "acme.sealed", "--key-fd", "3", "--trust",
           "a.pub", "--trust", "b.pub", "--revoked", "rev.json", "--scope", "read:repo:x", "--audit-socket",
           "/run/a.sock", "--audit", "best-effort", "--max-concurrent", "8", "--wait-slot", "5", "--", "agent-cli",
           "--flag", "arg");
        assert_string_equal(c.policy, "/etc/p.json");
        assert_string_equal(c.tenant, "acme");
        assert_string_equal(c.task, "T42");
        assert_int_equal(c.status_fd, 4);
        assert_int_equal(c.timeout_ms, 30000);
        assert_int_equal(c.n_binds, 2);
        assert_string_equal(c.binds[0].src, "/data");
        assert_string_equal(c.binds[0].dst, "/mnt/data");
        assert_true(c.binds[0].ro);
        assert_string_equal(c.binds[1].src, "/work");
        assert_false(c.binds[1].ro);
        assert_int_equal(c.n_setenv, 1);
        assert_string_equal(c.setenv[0].name, "FOO");
        assert_string_equal(c.setenv[0].value, "bar baz");
        assert_string_equal(c.chdir, "/work");
        assert_string_equal(c.hostname, "box");
        assert_int_equal(c.n_pass_fds, 1);
        assert_int_equal(c.pass_fds[0], 7);
        assert_string_equal(c.profile, "acme.sealed");
        assert_int_equal(c.key_fd, 3);
        assert_null(c.key_path);
        assert_int_equal(c.n_trust, 2);
        assert_string_equal(c.trust[1], "b.pub");
        assert_string_equal(c.revoked, "rev.json");
        assert_int_equal(c.n_scopes, 1);
        assert_string_equal(c.scopes[0], "read:repo:x");
        assert_string_equal(c.audit_socket, "/run/a.sock");
        assert_int_equal(c.audit_mode, AUDIT_BEST_EFFORT);
        assert_int_equal(c.max_concurrent, 8);
        assert_int_equal(c.wait_slot_s, 5);
        assert_int_equal(c.argc, 3);
        assert_string_equal(c.argv[0], "agent-cli");
        assert_string_equal(c.argv[1], "--flag"); /* options after -- belong to the command */
        assert_string_equal(c.argv[2], "arg");
}

static void test_equals_form(void **state) {
        OK("--policy=/p.json", "--timeout=5", "--tenant=acme", "--", "x");
        assert_string_equal(c.policy, "/p.json");
        assert_int_equal(c.timeout_ms, 5000);
        assert_string_equal(c.tenant, "acme");
        OK("--ro-bind=/a", "/b", "--", "x");
        assert_string_equal(c.binds[0].src, "/a");
        assert_string_equal(c.binds[0].dst, "/b");
}

static void test_tenant_task(void **state) {
        OK("--tenant", "a1", "--", "x");
        BAD("--tenant", "--tenant", "Acme", "--", "x");
        BAD("--tenant", "--tenant", "a", "--", "x");
        BAD("--tenant", "--tenant", "-acme", "--", "x");
        BAD("--tenant", "--tenant", "", "--", "x");
        BAD("--tenant", "--tenant", "acme/../x", "--", "x");
        OK("--task", "job-1.2:3_x", "--", "x");
        BAD("--task", "--task", "a/b", "--", "x");
        BAD("--task", "--task", "", "--", "x");
        BAD("--task", "--task", "..", "--", "x");
        BAD("--task", "--task", "a b", "--", "x");
}

static void test_check_host(void **state) {
        OK("--check-host");
        assert_true(c.check_host);
        assert_false(c.json);
        assert_int_equal(c.argc, 0);
        OK("--check-host", "--json", "--policy", "p.json");
        assert_true(c.check_host && c.json);
        assert_string_equal(c.policy, "p.json");
        BAD("--json", "--json", "--", "x");
        BAD("--check-host takes no COMMAND", "--check-host", "--", "x");
}

static void test_numbers(void **state) {
        OK("--timeout", "1", "--", "x");
        assert_int_equal(c.timeout_ms, 1000);
        OK("--timeout", "604800", "--", "x");
        OK("--timeout", "0.5", "--", "x");
        assert_int_equal(c.timeout_ms, 500);
        OK("--timeout", "2.25", "--", "x");
        assert_int_equal(c.timeout_ms, 2250);
        OK("--timeout", "0.001", "--", "x");
        assert_int_equal(c.timeout_ms, 1);
        BAD("--timeout", "--timeout", "0.0", "--", "x");
        BAD("--timeout", "--timeout", "0.0001", "--", "x");
        BAD("--timeout", "--timeout", ".5", "--", "x");
        BAD("--timeout", "--timeout", "5.", "--", "x");
        BAD("--timeout", "--timeout", "1e3", "--", "x");
        BAD("--timeout", "--timeout", "604800.5", "--", "x");
        BAD("--timeout", "--timeout", " 1", "--", "x");
        BAD("--timeout", "--timeout", "1,5", "--", "x");
        BAD("--timeout", "--timeout", "0", "--", "x");
        BAD("--timeout", "--timeout", "604801", "--", "x");
        BAD("--timeout", "--timeout", "-5", "--", "x");
        BAD("--timeout", "--timeout", "5s", "--", "x");
        BAD("--timeout", "--timeout", "", "--", "x");
        BAD("--timeout", "--timeout", "1.5000", "--", "x");
        /* 0-2 are the payload's: it could forge status lines there */
        BAD("--status-fd: fd 0", "--status-fd", "0", "--", "x");
        BAD("--status-fd: fd 1", "--status-fd", "1", "--", "x");
        BAD("--status-fd: fd 2", "--status-fd", "2", "--", "x");
        OK("--status-fd", "3", "--", "x");
        assert_int_equal(c.status_fd, 3);
        OK("--status-fd", "1048576", "--", "x");
        BAD("--status-fd", "--status-fd", "1048577", "--", "x");
        BAD("--status-fd", "--status-fd", "-1", "--", "x");
        BAD("--status-fd", "--status-fd", "three", "--", "x");
        /* --trace-fd: the same rule as --status-fd */
        BAD("--trace-fd: fd 0", "--trace-fd", "0", "--", "x");
        BAD("--trace-fd: fd 1", "--trace-fd", "1", "--", "x");
        BAD("--trace-fd: fd 2", "--trace-fd", "2", "--", "x");
        BAD("--trace-fd", "--trace-fd", "-1", "--", "x");
        BAD("--trace-fd", "--trace-fd", "x", "--", "x");
        OK("--trace-fd", "3", "--", "x");
        assert_int_equal(c.trace_fd, 3);
        OK("--max-concurrent", "1", "--", "x");
        OK("--max-concurrent", "4096", "--", "x");
        assert_int_equal(c.max_concurrent, 4096);
        BAD("--max-concurrent", "--max-concurrent", "0", "--", "x");
        BAD("--max-concurrent", "--max-concurrent", "4097", "--", "x");
        BAD("--max-concurrent", "--max-concurrent", "many", "--", "x");
        OK("--wait-slot", "0", "--", "x");
        OK("--wait-slot", "86400", "--", "x");
        assert_int_equal(c.wait_slot_s, 86400);
        BAD("--wait-slot", "--wait-slot", "86401", "--", "x");
        BAD("--wait-slot", "--wait-slot", "-1", "--", "x");
}

static void test_pass_fd(void **state) {
        OK("--pass-fd", "3", "--pass-fd", "9", "--", "x");
        assert_int_equal(c.n_pass_fds, 2);
        assert_int_equal(c.pass_fds[1], 9);
        BAD("--pass-fd", "--pass-fd", "0", "--", "x");
        BAD("--pass-fd", "--pass-fd", "1", "--", "x");
        BAD("--pass-fd", "--pass-fd", "2", "--", "x");
        BAD("--pass-fd", "--pass-fd", "-3", "--", "x");
        BAD("--pass-fd", "--pass-fd", "x", "--", "x");
        /* the status and key fds are never handed to the payload */
        BAD("--pass-fd", "--status-fd", "5", "--pass-fd", "5", "--", "x");
        BAD("--pass-fd", "--tenant", "acme", "--profile", "p", "--key-fd", "6", "--pass-fd", "6", "--", "x");
        BAD("--pass-fd", "--trace-fd", "7", "--pass-fd", "7", "--", "x");
        BAD("--trace-fd and --key-fd", "--tenant", "acme", "--profile", "p", "--key-fd", "6", "--trace-fd", "6", "--",
            "x");
}

static void test_two_argument_forms(void **state) {
        OK("--bind", "/a", "/b", "--ro-bind", "/c", "/d", "--setenv", "N", "", "--", "x");
        assert_int_equal(c.n_binds, 2);
        assert_false(c.binds[0].ro);
        assert_true(c.binds[1].ro);
        assert_string_equal(c.binds[1].dst, "/d");
        assert_string_equal(c.setenv[0].value, ""); /* an empty value is a value */
        /* second argument missing at the end of argv */
        BAD("--bind", "--bind", "/a");
        BAD("--ro-bind", "--ro-bind", "/a");
        BAD("--setenv", "--setenv", "NAME");
        /* first argument missing too */
        BAD("--bind", "--bind");
        BAD("--ro-bind", "--ro-bind");
        BAD("--setenv", "--setenv");
        /* names are checked */
        BAD("--setenv", "--setenv", "1X", "v", "--", "x");
        BAD("--setenv", "--setenv", "A=B", "v", "--", "x");
        BAD("--setenv", "--setenv", "", "v", "--", "x");
        /* DST is taken verbatim; the policy validates paths later */
        OK("--bind", "/a", "/b", "--", "x");
        assert_int_equal(c.argc, 1);
        assert_string_equal(c.argv[0], "x");
}

/* The mount flags keep their command-line order in one list; --network
 * takes only mode names; --workdir is taken as given (config_resolve checks it). */
static void test_mount_flags(void **state) {
        OK("--bind-try", "/a", "/b", "--tmpfs", "/t", "--ro-bind-try", "/c", "/d", "--bind", "/e", "/f", "--workdir",
           "out", "--network", "none", "--", "x");
        assert_int_equal(c.n_binds, 4);
        assert_true(c.binds[0].optional && !c.binds[0].ro && !c.binds[0].tmpfs);
        assert_true(c.binds[1].tmpfs);
        assert_null(c.binds[1].src);
        assert_string_equal(c.binds[1].dst, "/t");
        assert_true(c.binds[2].optional && c.binds[2].ro);
        assert_string_equal(c.binds[2].src, "/c");
        assert_false(c.binds[3].optional);
        assert_string_equal(c.workdir, "out");
        assert_string_equal(c.network, "none");
        assert_int_equal(c.argc, 1);
        BAD("--bind-try", "--bind-try", "/a");
        BAD("--ro-bind-try", "--ro-bind-try", "/a");
        BAD("--tmpfs", "--tmpfs");
        BAD("--workdir", "--workdir");
        BAD("--network: \"wifi\" is not one of", "--network", "wifi", "--", "x");
        for (const char *const *m = (const char *const[]){ "none", "veth", "proxy", "host", NULL }; *m; m++)
                OK("--network", *m, "--", "x");
        /* the copy a supervisor keeps owns every string */
        OK("--tmpfs", "/t", "--workdir", "w", "--network", "veth", "--", "x");
        struct cli *d = cli_dup(&c);
        assert_non_null(d);
        assert_string_equal(d->binds[0].dst, "/t");
        assert_null(d->binds[0].src);
        assert_string_equal(d->workdir, "w");
        assert_ptr_not_equal(d->workdir, c.workdir);
        assert_string_equal(d->network, "veth");
        free(d);
}

static void test_missing_argument(void **state) {
        static const char *const opts[] = {
                "--policy",   "--tenant",  "--task",         "--status-fd", "--timeout",        "--chdir",
                "--hostname", "--pass-fd", "--profile",      "--key",       "--key-fd",         "--trust",
                "--revoked",  "--scope",   "--audit-socket", "--audit",     "--max-concurrent", "--wait-slot",
        };
        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                BAD(opts[i], opts[i]);
                if (!strstr(e.msg, "missing argument"))
                        fail_msg("%s without argument: \"%s\" does not say the argument is missing", opts[i], e.msg);
        }
}

static void test_unknown_options(void **state) {
        BAD("--frobnicate", "--frobnicate", "--", "x");
        BAD("-x", "-x", "--", "x");
        BAD("--unshare-all", "--policy", "/p", "--unshare-all", "--", "x");
        /* no-argument options given an argument */
        BAD("--help", "--help=yes");
        BAD("--version", "--version=1");
        /* a failed parse must not leave getopt state behind for the next one */
        BAD("-q", "-qz", "--", "x");
        OK("--", "x");
        assert_string_equal(c.argv[0], "x");
}

static void test_lists_limit(void **state) {
        static const char *const list_opts[] = { "--trust", "--scope", "--pass-fd", "--bind", "--ro-bind", "--setenv" };
        static char fdbuf[CLI_MAX_LIST + 1][8];
        for (size_t k = 0; k < ELEMENTSOF(list_opts); k++) {
                const char *opt = list_opts[k];
                bool two = strcmp(opt, "--bind") == 0 || strcmp(opt, "--ro-bind") == 0 || strcmp(opt, "--setenv") == 0;
                bool cred = strcmp(opt, "--trust") == 0 || strcmp(opt, "--scope") == 0;
                for (int count = CLI_MAX_LIST; count <= CLI_MAX_LIST + 1; count++) {
                        int n = 0, r;
                        args[n++] = (char *)"sealrun";
                        if (cred) {
                                args[n++] = (char *)"--tenant";
                                args[n++] = (char *)"acme";
                                args[n++] = (char *)"--profile";
                                args[n++] = (char *)"p";
                                args[n++] = (char *)"--key";
                                args[n++] = (char *)"k";
                        }
                        for (int i = 0; i < count; i++) {
                                args[n++] = (char *)opt;
                                if (strcmp(opt, "--pass-fd") == 0) {
                                        snprintf(fdbuf[i], sizeof fdbuf[i], "%d", 10 + i);
                                        args[n++] = fdbuf[i];
                                } else if (strcmp(opt, "--setenv") == 0) {
                                        args[n++] = (char *)"N";
                                } else {
                                        args[n++] = (char *)"/a";
                                }
                                if (two)
                                        args[n++] = (char *)"v";
                        }
                        args[n++] = (char *)"--";
                        args[n++] = (char *)"x";
                        args[n] = NULL;
                        memset(&e, 0, sizeof e);
                        r = cli_parse(n, args, &c, &e);
                        if (count == CLI_MAX_LIST && r < 0)
                                fail_msg("%s x%d refused: %s", opt, count, e.msg);
                        if (count > CLI_MAX_LIST) {
                                if (r >= 0)
                                        fail_msg("%s x%d accepted", opt, count);
                                assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
                                if (!strstr(e.msg, opt) || !strstr(e.msg, "64"))
                                        fail_msg("%s x%d: message \"%s\" names neither option nor limit", opt, count,
                                                 e.msg);
                        }
                }
        }
        /* the bind list counts --bind and --ro-bind together */
        OK("--bind", "/a", "/b", "--ro-bind", "/c", "/d", "--", "x");
        assert_int_equal(c.n_binds, 2);
}

static void test_credentials_rules(void **state) {
        OK("--tenant", "acme", "--profile", "p.sealed", "--key", "pool.key", "--", "x");
        assert_string_equal(c.key_path, "pool.key");
        assert_int_equal(c.key_fd, -1);
        OK("--tenant", "acme", "--profile", "p.sealed", "--key-fd", "3", "--", "x");
        assert_int_equal(c.key_fd, 3);
        BAD("--key-fd", "--tenant", "acme", "--profile", "p", "--key", "k", "--key-fd", "3", "--", "x");
        BAD("--key-fd", "--key-fd", "x3", "--", "x");
        /* 0-2 reach the payload: the pool key would too */
        BAD("--key-fd: fd 0", "--tenant", "acme", "--profile", "p", "--key-fd", "0", "--", "x");
        BAD("--key-fd: fd 1", "--tenant", "acme", "--profile", "p", "--key-fd", "1", "--", "x");
        BAD("--key-fd: fd 2", "--tenant", "acme", "--profile", "p", "--key-fd", "2", "--", "x");
        BAD("--profile needs --key", "--tenant", "acme", "--profile", "p", "--", "x");
        BAD("--profile needs --tenant", "--profile", "p", "--key", "k", "--", "x");
        BAD("need --profile", "--key", "k", "--", "x");
        BAD("need --profile", "--key-fd", "3", "--", "x");
        BAD("need --profile", "--trust", "i.pub", "--", "x");
        BAD("need --profile", "--revoked", "r", "--", "x");
        BAD("need --profile", "--scope", "read:x:y", "--", "x");
        BAD("--status-fd", "--tenant", "acme", "--profile", "p", "--key-fd", "4", "--status-fd", "4", "--", "x");
}

static void test_audit_mode(void **state) {
        OK("--audit", "required", "--", "x");
        assert_int_equal(c.audit_mode, AUDIT_REQUIRED);
        OK("--audit", "off", "--", "x");
        assert_int_equal(c.audit_mode, AUDIT_OFF);
        OK("--audit", "best-effort", "--", "x");
        assert_int_equal(c.audit_mode, AUDIT_BEST_EFFORT);
        BAD("--audit", "--audit", "Required", "--", "x");
        BAD("--audit", "--audit", "", "--", "x");
        BAD("--audit", "--audit", "best_effort", "--", "x");
}

static void test_chdir_hostname(void **state) {
        OK("--chdir", "/", "--hostname", "h", "--", "x");
        assert_string_equal(c.chdir, "/");
        BAD("--chdir", "--chdir", "relative/dir", "--", "x");
        BAD("--chdir", "--chdir", "", "--", "x");
        char h64[65], h65[66];
        memset(h64, 'h', 64);
        h64[64] = 0;
        memset(h65, 'h', 65);
        h65[65] = 0;
        OK("--hostname", h64, "--", "x");
        BAD("--hostname", "--hostname", h65, "--", "x");
        BAD("--hostname", "--hostname", "", "--", "x");
        BAD("--hostname", "--hostname", "a/b", "--", "x");
}

static void test_command(void **state) {
        BAD("missing COMMAND", "--policy", "/p");
        BAD("missing COMMAND", "--");
        BAD("missing COMMAND", "--policy", "/p", "--");
        BAD("COMMAND is empty", "--", "");
        /* the command may start without --: option parsing stops at it */
        OK("/bin/echo", "--policy", "x");
        assert_null(c.policy);
        assert_int_equal(c.argc, 3);
        assert_string_equal(c.argv[1], "--policy");
        /* only the first -- is ours */
        OK("--", "--", "x");
        assert_int_equal(c.argc, 2);
        assert_string_equal(c.argv[0], "--");
        OK("--", "--help");
        assert_false(c.help);
        assert_string_equal(c.argv[0], "--help");
        OK("--", "-x");
        assert_string_equal(c.argv[0], "-x");
}

static void test_help_version(void **state) {
        assert_int_equal(parse("--help", NULL), 0);
        assert_true(c.help);
        assert_int_equal(parse("--version", NULL), 0);
        assert_true(c.version);
        assert_false(c.help);
        /* --help wins over a missing command and later junk */
        assert_int_equal(parse("--tenant", "acme", "--help", "--frobnicate", NULL), 0);
        assert_true(c.help);
        /* but an earlier error is still an error */
        BAD("--frobnicate", "--frobnicate", "--help");
        /* -h is --help */
        assert_int_equal(parse("-h", NULL), 0);
        assert_true(c.help);
        assert_int_equal(parse("--policy", "agent", "-h", "--", "x", NULL), 0);
        assert_true(c.help);
}

static void test_print_policy(void **state) {
        /* no COMMAND needed, and --policy may come after it */
        assert_int_equal(parse("--print-policy", "--policy", "agent", NULL), 0);
        assert_true(c.print_policy);
        assert_string_equal(c.policy, "agent");
        OK("--print-policy");
        assert_null(c.policy);
        BAD("--print-policy", "--print-policy=x");
        /* a policy read from an fd cannot share it with the key, status or a passed fd */
        BAD("fd 3 is also the key fd", "--policy", "/dev/fd/3", "--key-fd", "3", "--profile", "p", "--tenant", "acme",
            "--", "x");
        BAD("fd 4 is also the status fd", "--status-fd", "4", "--policy", "/dev/fd/4", "--", "x");
        BAD("also passed with --pass-fd", "--pass-fd", "5", "--policy", "/dev/fd/5", "--", "x");
        BAD("fd 4 is also the status fd", "--status-fd", "4", "--policy", "/proc/self/fd/4", "--", "x");
        OK("--policy", "/dev/fd/6", "--pass-fd", "5", "--", "x");
        OK("--policy", "-", "--", "x");
        assert_string_equal(c.policy, "-");
}

static void test_usage_lists_every_option(void **state) {
        static const char *const names[] = {
                "--policy",  "--tenant",         "--task",      "--status-fd",   "--timeout", "--ro-bind",
                "--bind",    "--setenv",         "--chdir",     "--hostname",    "--pass-fd", "--profile",
                "--key",     "--key-fd",         "--trust",     "--revoked",     "--scope",   "--audit-socket",
                "--audit",   "--max-concurrent", "--wait-slot", "--help",        "--version", "--print-policy",
                "-h",        "--trace-fd",       "--bind-try",  "--ro-bind-try", "--tmpfs",   "--workdir",
                "--network",
        };
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        cli_usage(f);
        fclose(f);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (!strstr(buf, names[i]))
                        fail_msg("usage does not mention %s", names[i]);
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_all_options),
                cmocka_unit_test(test_equals_form),
                cmocka_unit_test(test_tenant_task),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_check_host),
                cmocka_unit_test(test_pass_fd),
                cmocka_unit_test(test_two_argument_forms),
                cmocka_unit_test(test_mount_flags),
                cmocka_unit_test(test_missing_argument),
                cmocka_unit_test(test_unknown_options),
                cmocka_unit_test(test_lists_limit),
                cmocka_unit_test(test_credentials_rules),
                cmocka_unit_test(test_audit_mode),
                cmocka_unit_test(test_chdir_hostname),
                cmocka_unit_test(test_command),
                cmocka_unit_test(test_help_version),
                cmocka_unit_test(test_print_policy),
                cmocka_unit_test(test_usage_lists_every_option),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
