/* Unit tests: the "capabilities" policy section and the drop of every capability set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/securebits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "launcher/caps.h"
#include "policy/policy.h"

static int parse_section(const char *section, struct policy **ret, struct sr_error *e) {
        char doc[2048];
        snprintf(doc, sizeof doc, "{\"version\":1,\"mounts\":[],\"capabilities\":%s}", section);
        return policy_parse("p.json", doc, strlen(doc), ret, e);
}

static void test_parse_ok(void **state) {
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        assert_int_equal(parse_section("[\"CAP_NET_BIND_SERVICE\",\"CAP_CHOWN\",\"CAP_CHECKPOINT_RESTORE\"]", &p, &e),
                         0);
        assert_int_equal(p->caps.keep, (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_CHOWN) | (1ULL << 40));
        policy_free(p);
        assert_int_equal(parse_section("[]", &p, &e), 0);
        assert_int_equal(p->caps.keep, 0);
        policy_free(p);
        /* no section: nothing kept */
        assert_int_equal(policy_parse("p.json", "{\"version\":1,\"mounts\":[]}", 25, &p, &e), 0);
        assert_int_equal(p->caps.keep, 0);
        policy_free(p);
}

static void test_parse_errors(void **state) {
        static const struct {
                const char *section, *want;
        } cases[] = {
                { "{}", "$.capabilities: expected an array" },
                { "\"CAP_CHOWN\"", "$.capabilities: expected an array" },
                { "[1]", "$.capabilities[0]: expected a capability name" },
                { "[\"CAP_CHOWN\",\"CAP_FLY\"]", "$.capabilities[1]: unknown capability \"CAP_FLY\"" },
                { "[\"cap_chown\"]", "$.capabilities[0]: unknown capability \"cap_chown\"" },
                { "[\"chown\"]", "$.capabilities[0]: unknown capability" },
                { "[\"CAP_\"]", "$.capabilities[0]: unknown capability" },
                { "[\"CAP_ALL\"]", "$.capabilities[0]: unknown capability" },
                { "[\"CAP_12\"]", "$.capabilities[0]: unknown capability" },
                { "[\"CAP_CHOWN \"]", "$.capabilities[0]: unknown capability" },
                { "[\"CAP_CHOWN\",\"CAP_CHOWN\"]", "$.capabilities[1]: \"CAP_CHOWN\" is listed twice" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct policy *p = NULL;
                struct sr_error e = { 0 };
                int r = parse_section(cases[i].section, &p, &e);
                if (r == 0 || !strstr(e.msg, cases[i].want) || e.exit_code != SR_EXIT_LAUNCHER)
                        fail_msg("case %zu: r=%d msg=\"%s\", want \"%s\"", i, r, e.msg, cases[i].want);
        }
}

/* A child that is root with every capability in a new user namespace. */
static void become_ns_root(void) {
        char map[64];
        uid_t uid = geteuid();
        gid_t gid = getegid();
        int fd;
        if (unshare(CLONE_NEWUSER) < 0)
                _exit(90);
        fd = open("/proc/self/setgroups", O_WRONLY);
        if (fd < 0 || write(fd, "deny", 4) != 4)
                _exit(91);
        close(fd);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        fd = open("/proc/self/uid_map", O_WRONLY);
        if (fd < 0 || write(fd, map, strlen(map)) < 0)
                _exit(92);
        close(fd);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        fd = open("/proc/self/gid_map", O_WRONLY);
        if (fd < 0 || write(fd, map, strlen(map)) < 0)
                _exit(93);
        close(fd);
}

/* Drop in a child, then exec grep to read the sets of the executed program. */
static void drop_and_exec(uint64_t keep, char *out, size_t size, int *ret_status) {
        int pfd[2], st;
        ssize_t n, got = 0;
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        if (pid == 0) {
                struct policy pol = { .file = "p.json" };
                struct task t = { .pol = &pol, .sync_child = -1 };
                struct sr_error e = { 0 };
                close(pfd[0]);
                become_ns_root();
                pol.caps.keep = keep;
                if (caps_drop(&t, &e) < 0) {
                        dprintf(pfd[1], "caps_drop: %s\n", e.msg);
                        _exit(94);
                }
                if (prctl(PR_GET_SECUREBITS) !=
                    (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
                     SECBIT_KEEP_CAPS_LOCKED |
                     (keep ? 0 : SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)))
                        _exit(95);
                dup2(pfd[1], 1);
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                execl("/bin/grep", "grep", "^Cap", "/proc/self/status", (char *)NULL);
                _exit(96);
        }
        close(pfd[1]);
        while (got < (ssize_t)size - 1 && (n = read(pfd[0], out + got, size - 1 - (size_t)got)) > 0)
                got += n;
        out[got] = 0;
        close(pfd[0]);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        *ret_status = st;
}

static void test_drop_all(void **state) {
        char out[1024];
        int st;
        drop_and_exec(0, out, sizeof out, &st);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("child status 0x%x: %s", st, out);
        /* uid 0 inside the namespace, and still nothing after execve (SECBIT_NOROOT) */
        assert_non_null(strstr(out, "CapInh:\t0000000000000000"));
        assert_non_null(strstr(out, "CapPrm:\t0000000000000000"));
        assert_non_null(strstr(out, "CapEff:\t0000000000000000"));
        assert_non_null(strstr(out, "CapBnd:\t0000000000000000"));
        assert_non_null(strstr(out, "CapAmb:\t0000000000000000"));
}

static void test_keep_one(void **state) {
        char out[1024], want[64];
        int st;
        drop_and_exec(1ULL << CAP_NET_BIND_SERVICE, out, sizeof out, &st);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("child status 0x%x: %s", st, out);
        /* kept in every set, so it survives execve through the ambient set */
        static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                snprintf(want, sizeof want, "%s:\t%016llx", sets[i], 1ULL << CAP_NET_BIND_SERVICE);
                if (!strstr(out, want))
                        fail_msg("want %s in:\n%s", want, out);
        }
}

static void test_unknown_to_kernel(void **state) {
        char out[256];
        int st;
        /* bit 63 is a name no kernel has: refused (77), not silently ignored */
        drop_and_exec(1ULL << 63, out, sizeof out, &st);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 94);
        assert_non_null(strstr(out, "not known to this kernel"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_ok),          cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_drop_all),          cmocka_unit_test(test_keep_one),
                cmocka_unit_test(test_unknown_to_kernel),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
