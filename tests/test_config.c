/* Unit tests: launcher/config.c, the one place the command line meets the policy (narrow, never widen). */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "launcher/config.h"
#include "tests/issuer_key.h"

struct fx {
        struct cli cli;
        struct policy *pol;
        struct task_config cfg;
        struct sr_error e;
};

static void fx_init(struct fx *f, const char *policy_json) {
        memset(f, 0, sizeof *f);
        assert_int_equal(policy_parse("p.json", policy_json, strlen(policy_json), &f->pol, &f->e), 0);
        f->cli = (struct cli){
                .status_fd = -1, .key_fd = -1, .audit_mode = AUDIT_UNSET, .timeout_ms = -1, .max_concurrent = -1
        };
}

static int resolve(struct fx *f) {
        memset(&f->e, 0, sizeof f->e);
        config_free(&f->cfg);
        return config_resolve(&f->cli, f->pol, &f->cfg, &f->e);
}

static void refused(struct fx *f, int exit_code, const char *reason, const char *needle) {
        assert_true(resolve(f) < 0);
        assert_int_equal(f->e.exit_code, exit_code);
        assert_string_equal(f->e.reason, reason);
        assert_non_null(strstr(f->e.msg, needle));
        config_free(&f->cfg);
        policy_free(f->pol);
}

static void fx_done(struct fx *f) {
        config_free(&f->cfg);
        policy_free(f->pol);
}

static char key_dir[] = "/tmp/test_config.XXXXXX", a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
static struct sr_key ka, kb, kc;

static int keys_setup(void **state) {
        assert_non_null(mkdtemp(key_dir));
        snprintf(a, sizeof a, "%s/a.XXXXXX", key_dir);
        snprintf(b, sizeof b, "%s/b.XXXXXX", key_dir);
        snprintf(c, sizeof c, "%s/c.XXXXXX", key_dir);
        assert_int_equal(issuer_key_file(a, &ka), 0);
        assert_int_equal(issuer_key_file(b, &kb), 0);
        assert_int_equal(issuer_key_file(c, &kc), 0);
        return 0;
}

static int keys_teardown(void **state) {
        unlink(a);
        unlink(b);
        unlink(c);
        return rmdir(key_dir);
}

/* A profile needs a trust set: one --trust for the tests about other flags. */
static void with_profile(struct fx *f) {
        f->cli.profile = "p.sealed";
        f->cli.tenant = "acme";
        f->cli.trust[0] = a;
        f->cli.n_trust = 1;
}

#define BASE "{\"version\":1,\"mounts\":[]"

static void test_plain(void **state) {
        struct fx f;
        fx_init(&f, BASE "}");
        assert_int_equal(resolve(&f), 0);
        assert_null(f.cfg.tenant);
        assert_int_equal(f.cfg.audit_mode, POL_AUDIT_OFF);
        assert_int_equal(f.cfg.max_concurrent, 0);
        assert_int_equal(f.cfg.timeout_ms, 0);
        fx_done(&f);
}

static void test_timeout_narrows_only(void **state) {
        struct fx f;
        fx_init(&f, BASE ",\"limits\":{\"timeout_s\":10}}");
        f.cli.timeout_ms = 2000;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.timeout_ms, 2000);
        f.cli.timeout_ms = 60000; /* longer: the policy's stands */
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.timeout_ms, 10000);
        assert_int_equal(f.pol->limits.timeout_ms, 10000); /* the policy is not edited */
        fx_done(&f);
}

static void test_tenant(void **state) {
        struct fx f;
        fx_init(&f, BASE ",\"tenant\":\"acme\"}");
        assert_int_equal(resolve(&f), 0);
        assert_string_equal(f.cfg.tenant, "acme"); /* the one fallback */
        f.cli.tenant = "globex";
        refused(&f, SR_EXIT_REFUSED, "cross-tenant", "bound to tenant acme");
}

static void test_extra_binds(void **state) {
        struct fx f;
        fx_init(&f, BASE "}");
        f.cli.binds[0] = (struct cli_bind){ .src = "/data", .dst = "/data", .ro = true };
        f.cli.n_binds = 1;
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "does not allow extra binds");
        static const char *const badp[][2] = {
                { "data", "/x" }, { "/data", "x" }, { "/data", "/" }, { "/a/../b", "/x" }, { "/data", "/x/" }
        };
        for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++) {
                fx_init(&f, BASE ",\"allow_extra_binds\":true}");
                f.cli.binds[0] = (struct cli_bind){ .src = badp[i][0], .dst = badp[i][1], .ro = true };
                f.cli.n_binds = 1;
                refused(&f, SR_EXIT_LAUNCHER, "usage", "--ro-bind: SRC and DST must be absolute normalised paths");
        }
        fx_init(&f, BASE ",\"allow_extra_binds\":true}");
        f.cli.binds[0] = (struct cli_bind){ .src = "/data", .dst = "/mnt/data", .ro = false };
        f.cli.n_binds = 1;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.n_binds, 1);
        assert_string_equal(f.cfg.binds[0].dst, "/mnt/data");
        assert_int_equal(f.pol->n_mounts, 0); /* the plan gets it, not the policy */
        fx_done(&f);
}

/* --bind-try, --ro-bind-try and --tmpfs add mounts: the same rule as --bind. */
static void test_try_binds_and_tmpfs(void **state) {
        static const struct cli_bind flags[] = {
                { .src = "/data", .dst = "/data", .optional = true },
                { .src = "/data", .dst = "/data", .ro = true, .optional = true },
                { .dst = "/scratch", .tmpfs = true },
        };
        static const char *const names[] = { "--bind-try /data", "--ro-bind-try /data", "--tmpfs /scratch" };
        struct fx f;
        for (size_t i = 0; i < 3; i++) {
                fx_init(&f, BASE "}");
                f.cli.binds[0] = flags[i];
                f.cli.n_binds = 1;
                refused(&f, SR_EXIT_REFUSED, "policy-violation", names[i]);
        }
        fx_init(&f, BASE ",\"allow_extra_binds\":true}");
        f.cli.binds[0] = (struct cli_bind){ .dst = "scratch", .tmpfs = true };
        f.cli.n_binds = 1;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "--tmpfs: DST must be absolute");
        fx_init(&f, BASE ",\"allow_extra_binds\":true}");
        memcpy(f.cli.binds, flags, sizeof flags);
        f.cli.n_binds = 3;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.n_binds, 3);
        assert_true(f.cfg.binds[0].optional && !f.cfg.binds[0].ro);
        assert_true(f.cfg.binds[1].optional && f.cfg.binds[1].ro);
        assert_true(f.cfg.binds[2].tmpfs);
        assert_null(f.cfg.binds[2].src);
        policy_free(f.pol);
}

/* --workdir: only where the policy has a "workdir", under its sources when
 * it lists any, and as root only when it lists them; chdir follows. */
static void test_workdir(void **state) {
        struct fx f;
        char cwd[4096], want[4200];
        fx_init(&f, BASE "}");
        f.cli.workdir = "/srv/w";
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "sets no \"workdir\"");

        fx_init(&f, BASE ",\"chdir\":\"/home\",\"workdir\":{\"path\":\"/work\"}}");
        assert_int_equal(resolve(&f), 0);
        assert_null(f.cfg.workdir_src);
        assert_string_equal(f.cfg.chdir, "/home"); /* no --workdir: the policy's chdir */
        f.cli.workdir = "/srv/w/";
        assert_int_equal(resolve(&f), 0);
        assert_string_equal(f.cfg.workdir_src, "/srv/w");
        assert_string_equal(f.cfg.workdir_dst, "/work");
        assert_string_equal(f.cfg.chdir, "/work"); /* the task starts there */
        assert_false(f.cfg.chdir_from_cli);
        f.cli.chdir = "/tmp"; /* --chdir still wins */
        assert_int_equal(resolve(&f), 0);
        assert_string_equal(f.cfg.chdir, "/tmp");
        f.cli.chdir = NULL;
        f.cli.workdir = "out"; /* relative: made absolute against the cwd */
        assert_int_equal(resolve(&f), 0);
        assert_non_null(getcwd(cwd, sizeof cwd));
        snprintf(want, sizeof want, "%s/out", strcmp(cwd, "/") ? cwd : "");
        assert_string_equal(f.cfg.workdir_src, want);
        f.cli.workdir = "./a/../../etc";
        refused(&f, SR_EXIT_LAUNCHER, "usage", "without \"..\"");

        /* as root: the owner's rights are lent, so the sources must be listed */
        fx_init(&f, BASE ",\"workdir\":{\"path\":\"/work\"}}");
        f.cli.workdir = "/srv/w";
        f.cli.caller_root = true;
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "$.workdir.sources");

        fx_init(&f, BASE ",\"workdir\":{\"path\":\"/work\",\"sources\":[\"/srv/work\",\"/home\"]}}");
        f.cli.caller_root = true;
        f.cli.workdir = "/srv/work/t42";
        assert_int_equal(resolve(&f), 0);
        f.cli.workdir = "/home";
        assert_int_equal(resolve(&f), 0);
        f.cli.workdir = "/srv/workshop"; /* a prefix of the name is not "under" */
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "not under the policy's workdir.sources");
}

/* --network: the policy's mode, none, or one listed in network.modes. */
static void test_network_mode(void **state) {
        struct fx f;
        fx_init(&f, BASE "}");
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.network_mode, NET_NONE);
        assert_true(f.cfg.ns_net);
        f.cli.network = "veth";
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "--network veth: the policy p.json allows mode none, none");

        fx_init(&f, BASE ",\"namespaces\":{\"net\":false},\"network\":{\"mode\":\"host\"}}");
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.network_mode, NET_HOST);
        assert_false(f.cfg.ns_net);
        f.cli.network = "none"; /* narrowing: a network namespace of its own */
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.network_mode, NET_NONE);
        assert_true(f.cfg.ns_net);
        policy_free(f.pol);

        fx_init(&f, BASE ",\"network\":{\"mode\":\"none\",\"modes\":[\"veth\"],"
                         "\"veth\":{\"pools\":[\"10.250.0.0/24\"]}}}");
        f.cli.network = "veth";
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.network_mode, NET_VETH);
        f.cli.network = "host";
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "allows mode none, none, veth");

        fx_init(&f, BASE ",\"namespaces\":{\"net\":false},\"network\":{\"mode\":\"host\"}}");
        f.cli.network = "proxy";
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "--network proxy");
}

static void test_hostname_chdir(void **state) {
        struct fx f;
        fx_init(&f, BASE ",\"hostname\":\"box\",\"chdir\":\"/w\"}");
        assert_int_equal(resolve(&f), 0);
        assert_string_equal(f.cfg.hostname, "box");
        assert_string_equal(f.cfg.chdir, "/w");
        f.cli.hostname = "other";
        f.cli.chdir = "/tmp";
        assert_int_equal(resolve(&f), 0);
        assert_string_equal(f.cfg.hostname, "other");
        assert_string_equal(f.cfg.chdir, "/tmp");
        assert_true(f.cfg.chdir_from_cli);
        fx_done(&f);
}

static void test_fds(void **state) {
        struct fx f;
        fx_init(&f, BASE "}");
        f.cli.status_fd = 987;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "--status-fd 987");
        fx_init(&f, BASE "}");
        f.cli.pass_fds[0] = 986;
        f.cli.n_pass_fds = 1;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "--pass-fd 986");
}

static void test_audit_floor_and_pin(void **state) {
        struct fx f;
        fx_init(&f, BASE ",\"audit\":{\"mode\":\"required\",\"socket\":\"/run/a.sock\"}}");
        f.cli.tenant = "acme";
        f.cli.audit_mode = AUDIT_BEST_EFFORT;
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "requires audit mode \"required\"");
        fx_init(&f, BASE ",\"audit\":{\"mode\":\"required\",\"socket\":\"/run/a.sock\"}}");
        f.cli.tenant = "acme";
        f.cli.audit_socket = "/run/b.sock";
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "pins the audit socket");
        fx_init(&f, BASE ",\"audit\":{\"mode\":\"best-effort\"}}");
        f.cli.tenant = "acme";
        f.cli.audit_mode = AUDIT_REQUIRED; /* raising is narrowing */
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.audit_mode, POL_AUDIT_REQUIRED);
        fx_done(&f);
        fx_init(&f, BASE "}");
        with_profile(&f);
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.audit_mode, POL_AUDIT_REQUIRED); /* a profile means required */
        fx_done(&f);
        fx_init(&f, BASE "}");
        f.cli.audit_mode = AUDIT_REQUIRED;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "need --tenant");
}

static void test_scopes(void **state) {
        struct fx f;
        const char *json = BASE ",\"credentials\":{\"scope_ceiling\":[\"read:repo:*\"]}}";
        fx_init(&f, json);
        with_profile(&f);
        f.cli.scopes[0] = "write:repo:acme";
        f.cli.n_scopes = 1;
        refused(&f, SR_EXIT_REFUSED, "scope-over-ceiling", "--scope write:repo:acme");
        fx_init(&f, json);
        with_profile(&f);
        f.cli.scopes[0] = "not a scope";
        f.cli.n_scopes = 1;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "not a scope");
        fx_init(&f, json);
        with_profile(&f);
        f.cli.scopes[0] = "read:repo:acme";
        f.cli.n_scopes = 1;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.n_scopes, 1);
        fx_done(&f);
}

static void test_max_concurrent(void **state) {
        struct fx f;
        fx_init(&f, BASE ",\"limits\":{\"max_concurrent\":2}}");
        f.cli.max_concurrent = 3;
        refused(&f, SR_EXIT_REFUSED, "policy-violation", "limits.max_concurrent 2");
        fx_init(&f, BASE ",\"limits\":{\"max_concurrent\":2}}");
        f.cli.max_concurrent = 1;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.max_concurrent, 1);
        f.cli.max_concurrent = -1;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.max_concurrent, 2);
        fx_done(&f);
}

/* --trust narrows credentials.trusted_issuers to a subset; a key the
 * policy does not trust is refused (77 untrusted-issuer), never added. */
static void test_trust(void **state) {
        char json[3 * PATH_MAX];
        struct fx f;
        snprintf(json, sizeof json, BASE ",\"credentials\":{\"trusted_issuers\":[\"%s\",\"%s\"]}}", a, b);

        fx_init(&f, json); /* no --trust: the policy's set */
        f.cli.profile = "p.sealed";
        f.cli.tenant = "acme";
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.n_trusted, 2);
        assert_memory_equal(f.cfg.trusted[1].id, kb.id, KEY_ID_BYTES);
        f.cli.trust[0] = b; /* a subset narrows */
        f.cli.n_trust = 1;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.n_trusted, 1);
        assert_memory_equal(f.cfg.trusted[0].id, kb.id, KEY_ID_BYTES);
        assert_int_equal(f.pol->credentials.n_trusted_issuers, 2); /* the policy is not edited */
        f.cli.trust[1] = c;                                        /* widening */
        f.cli.n_trust = 2;
        refused(&f, SR_EXIT_REFUSED, "untrusted-issuer", "not among the issuers the policy");

        fx_init(&f, BASE "}"); /* a policy that names none leaves the set to --trust */
        f.cli.profile = "p.sealed";
        f.cli.tenant = "acme";
        f.cli.trust[0] = c;
        f.cli.n_trust = 1;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.n_trusted, 1);
        assert_memory_equal(f.cfg.trusted[0].id, kc.id, KEY_ID_BYTES);
        f.cli.n_trust = 0;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "no trusted issuer");

        fx_init(&f, BASE "}"); /* no profile: no trust set is loaded */
        assert_int_equal(resolve(&f), 0);
        assert_null(f.cfg.trusted);
        fx_done(&f);
}

#define PROXY \
        BASE ",\"network\":{\"mode\":\"proxy\",\"egress\":{\"allow\":[{\"host\":\"api.test\"}," \
             "{\"host\":\"*.wild.test\"},{\"host\":\"127.0.0.0/8\",\"ports\":[8443]}]}}}"

/* --egress-allow keeps a subset of the policy's allow rules; a host no rule
 * allows is refused (77 egress-widen), never added. */
static void test_egress_allow(void **state) {
        struct fx f;
        fx_init(&f, PROXY);
        assert_int_equal(resolve(&f), 0); /* no flag: every rule */
        assert_int_equal(f.cfg.egress.rules.n_allow, 3);
        f.cli.egress_allow[0] = "API.test."; /* canonicalised */
        f.cli.egress_allow[1] = "127.0.0.0/8";
        f.cli.n_egress_allow = 2;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.egress.rules.n_allow, 2);
        assert_string_equal(f.cfg.egress.rules.allow[0].text, "api.test");
        assert_string_equal(f.cfg.egress.rules.allow[1].text, "127.0.0.0/8");
        assert_int_equal(f.pol->network.egress.rules.n_allow, 3); /* the policy is not edited */
        f.cli.egress_allow[2] = "evil.test";
        f.cli.n_egress_allow = 3;
        refused(&f, SR_EXIT_REFUSED, "egress-widen", "--egress-allow evil.test: not an allow rule");

        fx_init(&f, PROXY);
        f.cli.egress_allow[0] = "*.test"; /* a wider suffix than the policy's is another rule */
        f.cli.n_egress_allow = 1;
        refused(&f, SR_EXIT_REFUSED, "egress-widen", "--egress-allow *.test");
        fx_init(&f, PROXY);
        f.cli.egress_allow[0] = "no host!";
        f.cli.n_egress_allow = 1;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "not a host name");
        fx_init(&f, BASE "}");
        f.cli.egress_allow[0] = "api.test";
        f.cli.n_egress_allow = 1;
        refused(&f, SR_EXIT_LAUNCHER, "usage", "does not use network mode \"proxy\"");
}

/* Proxy mode with a restricted connect list: the task's Landlock config
 * reaches the proxy port and the kept rules' ports; the policy stays. */
static void test_egress_landlock_ports(void **state) {
        struct fx f;
        fx_init(&f,
                BASE ",\"landlock\":{\"net\":{\"connect\":[22]}},\"network\":{\"mode\":\"proxy\",\"egress\":{"
                     "\"allow\":[{\"host\":\"api.test\",\"ports\":[8443]},{\"host\":\"b.test\",\"ports\":[9000]}]}}}");
        f.cli.egress_allow[0] = "api.test";
        f.cli.n_egress_allow = 1;
        assert_int_equal(resolve(&f), 0);
        assert_int_equal(f.cfg.landlock.n_connect_ports, 3);
        assert_int_equal(f.cfg.landlock.connect_ports[0], 22);
        assert_int_equal(f.cfg.landlock.connect_ports[1], 3128);
        assert_int_equal(f.cfg.landlock.connect_ports[2], 8443); /* not 9000: that rule was narrowed away */
        assert_int_equal(f.pol->landlock.n_connect_ports, 1);
        fx_done(&f);
}

/* Nothing after the resolver reads the command line: the launch's modules
 * never name the CLI struct's fields through the task, and only the entry
 * (main.c, supervisor.c), the parser, the resolver, its caller (setup.c's
 * policy step) and --check-host name struct cli at all. */
static void test_no_cli_after_resolve(void **state) {
        const char *src = getenv("SEALRUN_SRC") ? getenv("SEALRUN_SRC") : ".";
        char cmd[768];
        snprintf(cmd, sizeof cmd, "grep -n 't->cli->\\|t\\.cli->' %s/launcher/*.c | grep -q .", src);
        assert_int_not_equal(system(cmd), 0);
        snprintf(cmd, sizeof cmd,
                 "grep -l 'struct cli\\b' %s/launcher/*.c | grep -v "
                 "'/"
                 "\\(cli\\|config\\|main\\|setup\\|supervisor\\|hostcheck_report\\|prepared\\|prepared_client\\)\\.c$' "
                 "| "
                 "grep -q .",
                 src);
        assert_int_not_equal(system(cmd), 0);
        /* and the one read in setup.c clears the pointer before anything is created */
        snprintf(cmd, sizeof cmd, "grep -c 't->cli' %s/launcher/setup.c | grep -qx 2", src);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain),
                cmocka_unit_test(test_timeout_narrows_only),
                cmocka_unit_test(test_tenant),
                cmocka_unit_test(test_extra_binds),
                cmocka_unit_test(test_try_binds_and_tmpfs),
                cmocka_unit_test(test_workdir),
                cmocka_unit_test(test_network_mode),
                cmocka_unit_test(test_hostname_chdir),
                cmocka_unit_test(test_fds),
                cmocka_unit_test(test_audit_floor_and_pin),
                cmocka_unit_test(test_scopes),
                cmocka_unit_test(test_max_concurrent),
                cmocka_unit_test(test_trust),
                cmocka_unit_test(test_egress_allow),
                cmocka_unit_test(test_egress_landlock_ports),
                cmocka_unit_test(test_no_cli_after_resolve),
        };
        return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
