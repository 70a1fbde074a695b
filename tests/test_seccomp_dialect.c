/* Unit tests: Docker's and Podman's seccomp dialects (archMap, includes/excludes, errno names, unknown names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "launcher/seccomp.h"
#include "policy/pol_seccomp.h"

#define CAP_SYS_PTRACE_BIT (UINT64_C(1) << 19)

static bool has(const struct policy_seccomp *s, const char *name, uint32_t action) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (strcmp(s->rules[i].name, name) == 0 && s->rules[i].action == action)
                        return true;
        return false;
}

static bool named(const struct policy_seccomp *s, const char *name) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (strcmp(s->rules[i].name, name) == 0)
                        return true;
        return false;
}

static int parse(const char *doc, uint64_t caps, struct policy_seccomp *s, struct sr_error *e) {
        memset(s, 0, sizeof *s);
        memset(e, 0, sizeof *e);
        return pol_seccomp_parse_buffer("docker.json", doc, strlen(doc), caps, s, e);
}

/* Written for these tests in Docker's dialect: archMap, "name", "args": null,
 * empty includes/excludes, and each filter kind holding and not holding. */
#define DOCKER(extra) \
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1," \
        "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_" \
        "X32\"]}," \
        "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}]," \
        "\"syscalls\":[" \
        "{\"names\":[\"read\",\"write\",\"mseal\",\"statmount\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":null," \
        "\"comment\":\"\",\"includes\":{},\"excludes\":{}}," \
        "{\"names\":[\"mseal\",\"close\"],\"action\":\"SCMP_ACT_LOG\"}," \
        "{\"name\":\"getpid\",\"action\":\"SCMP_ACT_ALLOW\"}," \
        "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_PTRACE\"]}}," \
        "{\"names\":[\"ptrace\"" extra \
        "],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"excludes\":{\"caps\":[\"CAP_SYS_PTRACE\"]}}," \
        "{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"amd64\",\"x32\"]}}," \
        "{\"names\":[\"cacheflush\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"arm\",\"arm64\"]}}," \
        "{\"names\":[\"modify_ldt\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"arches\":[\"amd64\",\"arm64\"]}}," \
        "{\"names\":[\"close_range\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"2.6\"}}," \
        "{\"names\":[\"futex_waitv\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"999.0\"}}," \
        "{\"names\":[\"openat2\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"999.0.1\"}}," \
        "{\"names\":[\"faccessat2\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"2.6\"}}" \
        "]}"

static void test_docker(void **state) {
        struct policy_seccomp s;
        struct sr_error e;
        bool x86_64 = seccomp_arch_native() == SCMP_ARCH_X86_64;
        assert_int_equal(parse(DOCKER(""), 0, &s, &e), 0);
        assert_int_equal(s.default_action, SCMP_ACT_ERRNO(1));
        if (x86_64) {
                struct policy_seccomp t;
                /* an entry for an architecture this libseccomp does not know
                 * (Docker lists SCMP_ARCH_LOONGARCH64) is never the native
                 * one: passed over; in the native entry it is an error */
                assert_int_equal(
                        parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_Z80\","
                              "\"subArchitectures\":[\"SCMP_ARCH_Z80_16\"]},{\"architecture\":\"SCMP_ARCH_RISCV64\","
                              "\"subArchitectures\":null}]}",
                              0, &t, &e),
                        0);
                assert_int_equal(t.n_arches, 0);
                pol_seccomp_free(&t);
                assert_int_not_equal(parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":"
                                           "\"SCMP_ARCH_X86_64\","
                                           "\"subArchitectures\":[\"SCMP_ARCH_Z80\"]}]}",
                                           0, &t, &e),
                                     0);
                assert_non_null(strstr(
                        e.msg, "$.archMap[0].subArchitectures[0]: unknown architecture \"SCMP_ARCH_Z80\" (libseccomp"));
                pol_seccomp_free(&t);
                /* the native entry's sub-architectures, not the other entry's */
                assert_int_equal(s.n_arches, 2);
                assert_true(s.arches[0] == SCMP_ARCH_X86 && s.arches[1] == SCMP_ARCH_X32);
                assert_true(named(&s, "arch_prctl"));
                assert_false(named(&s, "cacheflush"));
                assert_false(named(&s, "modify_ldt"));
        }
        assert_true(has(&s, "read", SCMP_ACT_ALLOW) && has(&s, "write", SCMP_ACT_ALLOW));
        assert_true(has(&s, "close", SCMP_ACT_LOG));
        assert_true(has(&s, "getpid", SCMP_ACT_ALLOW));
        /* capabilities: not kept, so the deny rule applies, not the allow */
        assert_true(has(&s, "ptrace", SCMP_ACT_ERRNO(1)));
        assert_false(has(&s, "ptrace", SCMP_ACT_ALLOW));
        /* minKernel against the running kernel */
        assert_true(named(&s, "close_range"));
        assert_false(named(&s, "futex_waitv"));
        assert_true(named(&s, "openat2"));
        assert_false(named(&s, "faccessat2"));
        /* names this libseccomp does not know, in rules that allow: left
         * out, each listed once */
        assert_int_equal(s.n_skipped, 2);
        assert_false(named(&s, "statmount"));
        pol_seccomp_free(&s);
}

/* The same profile with CAP_SYS_PTRACE kept: the allow applies, the deny
 * (and its unknown name) does not. Without it, the deny rule's unknown name
 * refuses the profile, in one message. */
static void test_docker_caps_and_unknown(void **state) {
        struct policy_seccomp s;
        struct sr_error e;
        struct seccomp_bpf b = { 0 };
        assert_int_not_equal(parse(DOCKER(",\"no_such_call\""), 0, &s, &e), 0);
        assert_non_null(strstr(e.msg, "docker.json: $.syscalls[4].names[1]: 1 syscall name libseccomp"));
        assert_non_null(strstr(e.msg, "in rules that deny (skipping them could let them through): no_such_call"));
        assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
        pol_seccomp_free(&s);

        assert_int_equal(parse(DOCKER(",\"no_such_call\""), CAP_SYS_PTRACE_BIT, &s, &e), 0);
        assert_true(has(&s, "ptrace", SCMP_ACT_ALLOW));
        assert_false(has(&s, "ptrace", SCMP_ACT_ERRNO(1)));
        assert_int_equal(s.n_skipped, 2);
        assert_string_equal(s.skipped[0], "mseal");
        assert_string_equal(s.skipped[1], "statmount");
        assert_false(named(&s, "mseal"));
        /* it compiles, sub-architectures included */
        assert_int_equal(seccomp_compile(&s, &b, &e), 0);
        assert_true(b.len > 10);
        free(b.prog);
        pol_seccomp_free(&s);
}

static void test_podman(void **state) {
        struct policy_seccomp s;
        struct sr_error e;
        static const char doc[] =
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"defaultErrno\":\"ENOSYS\","
                "\"syscalls\":[{\"names\":[\"bdflush\",\"uselib\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[],"
                "\"comment\":\"\","
                "\"includes\":{},\"excludes\":{},\"errnoRet\":1,\"errno\":\"EPERM\"},"
                "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[],\"comment\":\"\",\"includes\":{},"
                "\"excludes\":{}},"
                "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":0,"
                "\"valueTwo\":0,"
                "\"op\":\"SCMP_CMP_EQ\"}],\"comment\":\"\",\"includes\":{},\"excludes\":{}},"
                "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errno\":\"EROFS\"}]}";
        assert_int_equal(parse(doc, 0, &s, &e), 0);
        assert_int_equal(s.default_action, SCMP_ACT_ERRNO(ENOSYS));
        assert_true(has(&s, "bdflush", SCMP_ACT_ERRNO(EPERM)));
        assert_true(has(&s, "mkdir", SCMP_ACT_ERRNO(EROFS)));
        assert_true(has(&s, "personality", SCMP_ACT_ALLOW));
        assert_int_equal(s.n_skipped, 0);
        pol_seccomp_free(&s);
}

static void test_errors(void **state) {
        static const struct {
                const char *doc, *want;
        } cases[] = {
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrno\":\"EWHAT\"}",
                  "$.defaultErrno: unknown errno name \"EWHAT\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrno\":\"ENOSYS\",\"defaultErrnoRet\":1}",
                  "$.defaultErrno: ENOSYS is 38, but defaultErrnoRet says 1" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrno\":\"EPERM\"}",
                  "$.defaultErrno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take defaultErrno" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrno\":1}", "$.defaultErrno: expected a string" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\"],\"archMap\":[{"
                  "\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
                  "$.archMap: give either \"architectures\" or \"archMap\", not both" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":\"x86_64\"}]}",
                  "$.archMap[0].architecture: unknown architecture" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
                  "\"subArchitectures\":[\"x86\"]}]}",
                  "$.archMap[0].subArchitectures[0]: unknown architecture" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"sub\":[]"
                  "}]}",
                  "$.archMap[0].sub: unknown key" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"includes\":{\"arches\":[\"z80\"]}}]}",
                  "$.syscalls[0].includes.arches[0]: unknown architecture \"z80\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"excludes\":{\"caps\":[\"CAP_FLY\"]}}]}",
                  "$.syscalls[0].excludes.caps[0]: unknown capability \"CAP_FLY\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"includes\":{\"caps\":[\"sys_admin\"]}}]}",
                  "$.syscalls[0].includes.caps[0]: unknown capability" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"includes\":{\"minKernel\":\"five\"}}]}",
                  "$.syscalls[0].includes.minKernel: expected a kernel version like \"5.10\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"includes\":{\"minKernel\":\"5\"}}]}",
                  "$.syscalls[0].includes.minKernel: expected a kernel version" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"includes\":{\"minKernel\":\"5.10-rc1\"}}]}",
                  "$.syscalls[0].includes.minKernel: expected a kernel version" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"includes\":{\"maxKernel\":\"5.1\"}}]}",
                  "$.syscalls[0].includes.maxKernel: unknown key" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"name\":\"write\","
                  "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  "$.syscalls[0].name: give either \"name\" or \"names\", not both" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":7,\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  "$.syscalls[0].name: expected a syscall name" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"errno\":\"EPERM\",\"errnoRet\":13}]}",
                  "$.syscalls[0].errno: EPERM is 1, but errnoRet says 13" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "KILL\",\"errno\":\"EPERM\"}]}",
                  "$.syscalls[0].errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take errno" },
                /* libseccomp would let the unconditional allow win: refused */
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",\"ioctl\"],\"action\":"
                  "\"SCMP_ACT_ALLOW\"},"
                  "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":1,"
                  "\"value\":21522,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.syscalls[1]: ioctl gets SCMP_ACT_ERRNO 13 here, but syscalls[0] gives it SCMP_ACT_ALLOW without "
                  "conditions" },
                /* ... also when the denial repeats the default action */
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":1,\"value\":21522,\"op\":\"SCMP_CMP_EQ\"}]},"
                  "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_LOG\"}]}",
                  "$.syscalls[0]: ioctl gets SCMP_ACT_ERRNO 1 here, but syscalls[1] gives it SCMP_ACT_LOG without "
                  "conditions" },
                /* a filter is validated even when the rule is already out */
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"includes\":{\"minKernel\":\"999.0\",\"caps\":[\"CAP_X\"]}}]}",
                  "$.syscalls[0].includes.caps[0]: unknown capability" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                struct policy_seccomp s;
                struct sr_error e;
                int r = parse(cases[i].doc, 0, &s, &e);
                if (r == 0 || !strstr(e.msg, cases[i].want) || e.exit_code != SR_EXIT_LAUNCHER || strchr(e.msg, '\n'))
                        fail_msg("case %zu: r=%d msg=\"%s\", want \"%s\"", i, r, e.msg, cases[i].want);
                pol_seccomp_free(&s);
        }
}

/* Rules of one syscall that libseccomp combines as written are fine: the
 * same action with and without conditions, an unconditional rule that
 * repeats the default (left out), rules of other syscalls. */
static void test_overrides_ok(void **state) {
        struct policy_seccomp s;
        struct sr_error e;
        static const char doc[] = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
                                  "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                                  "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
                                  "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]},"
                                  "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                                  "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,"
                                  "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]},"
                                  "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                                  "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5,\"args\":[{"
                                  "\"index\":0,\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]}]}";
        assert_int_equal(parse(doc, 0, &s, &e), 0);
        pol_seccomp_free(&s);
}

/* Two rules without conditions for one syscall (Podman's setns: in the
 * main allow list, and denied unless CAP_SYS_ADMIN is kept): libseccomp
 * would keep whichever came first; the stricter is kept, in either order. */
static void test_unconditional_stricter(void **state) {
        static const char *const docs[] = {
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":[{\"names\":[\"read\","
                "\"setns\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"setns\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"excludes\":{\"caps\":[\"CAP_SYS_"
                "ADMIN\"]}},"
                "{\"names\":[\"setns\"],\"action\":\"SCMP_ACT_LOG\"}]}",
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":[{\"names\":[\"setns\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,"
                "\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},{\"names\":[\"setns\",\"read\"],\"action\":\"SCMP_ACT_"
                "ALLOW\"}]}",
        };
        for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
                struct policy_seccomp s;
                struct sr_error e;
                assert_int_equal(parse(docs[i], 0, &s, &e), 0);
                assert_true(has(&s, "setns", SCMP_ACT_ERRNO(EPERM)));
                assert_false(has(&s, "setns", SCMP_ACT_ALLOW));
                assert_false(has(&s, "setns", SCMP_ACT_LOG));
                assert_true(has(&s, "read", SCMP_ACT_ALLOW));
                pol_seccomp_free(&s);
                /* with CAP_SYS_ADMIN kept the denial is out: allowed */
                assert_int_equal(parse(docs[i], UINT64_C(1) << 21, &s, &e), 0);
                assert_true(has(&s, "setns", i == 0 ? SCMP_ACT_LOG : SCMP_ACT_ALLOW));
                pol_seccomp_free(&s);
        }
}

/* An unknown name in a rule that does not apply here neither refuses nor
 * counts as skipped; in an allow rule that applies it is skipped, once. */
static void test_unknown_names(void **state) {
        struct policy_seccomp s;
        struct sr_error e;
        static const char doc[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                                  "{\"names\":[\"walk_on_water\"],\"action\":\"SCMP_ACT_KILL_PROCESS\",\"includes\":{"
                                  "\"minKernel\":\"999.0\"}},"
                                  "{\"names\":[\"fly_to_moon\"],\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"caps\":["
                                  "\"CAP_SYS_ADMIN\"]}},"
                                  "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
        assert_int_equal(parse(doc, 0, &s, &e), 0);
        assert_int_equal(s.n_skipped, 0);
        assert_int_equal(s.n_rules, 1);
        pol_seccomp_free(&s);
        /* with CAP_SYS_ADMIN kept the deny rule applies: refused */
        assert_int_not_equal(parse(doc, UINT64_C(1) << 21, &s, &e), 0);
        assert_non_null(strstr(e.msg, "$.syscalls[1].names[0]: 1 syscall name"));
        pol_seccomp_free(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker),
                cmocka_unit_test(test_docker_caps_and_unknown),
                cmocka_unit_test(test_podman),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_unknown_names),
                cmocka_unit_test(test_overrides_ok),
                cmocka_unit_test(test_unconditional_stricter),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
