/* Unit tests: OCI seccomp parsing (every error path), the stock profile's behaviour, and the BPF cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <signal.h>

#include "launcher/seccomp.h"
#include "policy/pol_seccomp.h"
#include "policy/policy.h"

/* A policy document around a "seccomp" section. */
static int parse_section(const char *section, struct policy **ret, struct sr_error *e) {
        char doc[8192];
        snprintf(doc, sizeof doc, "{\"version\":1,\"mounts\":[],\"seccomp\":%s}", section);
        return policy_parse("p.json", doc, strlen(doc), ret, e);
}

static void test_parse_ok(void **state) {
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        int r = parse_section(
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"c\","
                "\"args\":[{\"index\":1,\"value\":\"0xffffffff\",\"valueTwo\":21505,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
                "{\"names\":[\"socketcall\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                &p, &e);
        assert_int_equal(r, 0);
        assert_true(p->seccomp.set);
        assert_string_equal(p->seccomp.source, "inline");
        assert_int_equal(p->seccomp.default_action, SCMP_ACT_ERRNO(38));
        assert_int_equal(p->seccomp.n_arches, 2);
        assert_int_equal(p->seccomp.flags, 2 /* SECCOMP_FILTER_FLAG_LOG */);
        assert_int_equal(p->seccomp.n_rules, 4);
        assert_string_equal(p->seccomp.rules[1].name, "write");
        assert_int_equal(p->seccomp.rules[2].n_args, 1);
        assert_int_equal(p->seccomp.rules[2].args[0].value, 0xffffffffULL);
        assert_int_equal(p->seccomp.rules[2].args[0].value_two, 21505);
        /* known on other architectures only: a pseudo number, accepted */
        assert_true(p->seccomp.rules[3].nr < 0);
        policy_free(p);
}

static void test_parse_errors(void **state) {
        static const struct {
                const char *section, *want;
        } cases[] = {
                { "[]", "$.seccomp: expected an object" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"bogus\":1}", "$.seccomp.bogus: unknown key" },
                { "{}", "$.seccomp.defaultAction: missing required key" },
                { "{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "$.seccomp.defaultAction: unknown action" },
                { "{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}",
                  "$.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}",
                  "$.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}",
                  "$.seccomp.defaultErrnoRet: must be between 0 and 4095" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\"}",
                  "$.seccomp.listenerPath: seccomp listeners are not supported" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}",
                  "$.seccomp.architectures[0]: unknown architecture" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"x86_64\"]}",
                  "$.seccomp.architectures[0]: unknown architecture" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[1]}",
                  "$.seccomp.architectures[0]: expected an architecture name" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86\"]}",
                  "$.seccomp.architectures[1]: architecture listed twice" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
                  "$.seccomp.flags[0]: unsupported flag" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[7]}", "$.seccomp.flags[0]: expected a flag name" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", "$.seccomp.syscalls: expected an array" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"x\":1}]}",
                  "$.seccomp.syscalls[0].x: unknown key" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  "$.seccomp.syscalls[0].names: missing required key" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  "$.seccomp.syscalls[0].names: must list at least one" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]}]}",
                  "$.seccomp.syscalls[0].action: missing required key" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\",\"fly_to_moon\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  "$.seccomp.syscalls[0].names[1]: 1 syscall name libseccomp" },
                /* every unknown name of every denying rule in one message, the first one's path */
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\",\"fly_to_moon\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\"},"
                  "{\"names\":[\"walk_on_water\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                  "$.seccomp.syscalls[0].names[1]: 2 syscall names libseccomp" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\",\"fly_to_moon\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\"},"
                  "{\"names\":[\"walk_on_water\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                  "could let them through): fly_to_moon, walk_on_water" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[3],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  "$.seccomp.syscalls[0].names[0]: expected a syscall name" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"errnoRet\":-1}]}",
                  "$.seccomp.syscalls[0].errnoRet: must be between 0 and 4095" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "KILL\",\"errnoRet\":1}]}",
                  "$.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].index: must be between 0 and 5" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].op: unknown comparison" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].value: missing required key" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":-2,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].value: must not be negative" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":\"12abc\",\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].value: expected an unsigned 64-bit number" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":\"0x1ffffffffffffffff\",\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].value: expected an unsigned 64-bit number" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":1.5,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].value: expected an unsigned integer" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"valueTwo\":2,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].valueTwo: only SCMP_CMP_MASKED_EQ" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":255,\"valueTwo\":256,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}",
                  "$.seccomp.syscalls[0].args[0].valueTwo: has bits outside the mask" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_GE\"},{\"index\":0,\"value\":5,\"op\":"
                  "\"SCMP_CMP_LE\"}]}]}",
                  "$.seccomp.syscalls[0].args[1].index: argument 0 is compared twice" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\",\"mask\":1}]}]}",
                  "$.seccomp.syscalls[0].args[0].mask: unknown key" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\",\"args\":[1,2,3,4,5,6,7]}]}",
                  "$.seccomp.syscalls[0].args: at most 6 comparisons" },
                { "{\"profile\":\"default\",\"defaultAction\":\"SCMP_ACT_ALLOW\"}",
                  "$.seccomp.defaultAction: unknown key" },
                { "{\"profile\":\"relative.json\"}", "$.seccomp.profile: expected \"default\" or an absolute path" },
                { "{\"profile\":\"/nonexistent/seccomp.json\"}",
                  "$.seccomp.profile: cannot open /nonexistent/seccomp.json" },
                { "{\"profile\":\"/\"}", "$.seccomp.profile: / is not a regular file" },
                { "{\"profile\":7}", "$.seccomp.profile: expected a string" },
                /* input quoted in a message never breaks the one line */
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\\nb\"],\"action\":\"SCMP_ACT_"
                  "ERRNO\"}]}",
                  "could let them through): a\\x0ab" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"x\\ny\":1}", "$.seccomp.x\\x0ay: unknown key" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct policy *p = NULL;
                struct sr_error e = { 0 };
                int r = parse_section(cases[i].section, &p, &e);
                if (r == 0 || !strstr(e.msg, cases[i].want) || e.exit_code != SR_EXIT_LAUNCHER || strchr(e.msg, '\n'))
                        fail_msg("case %zu: r=%d exit=%d msg=\"%s\", want \"%s\"", i, r, e.exit_code, e.msg,
                                 cases[i].want);
                assert_null(p);
        }
}

/* An error inside a profile file names the file and the path inside it. */
static void test_profile_file(void **state) {
        char dir[] = "/tmp/sr-seccomp-XXXXXX", file[64], sec[128];
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        FILE *f;
        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof file, "%s/prof.json", dir);
        f = fopen(file, "w");
        fputs("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"nope\"],\"action\":\"SCMP_ACT_ERRNO\"}"
              "]}",
              f);
        fclose(f);
        snprintf(sec, sizeof sec, "{\"profile\":\"%s\"}", file);
        assert_int_not_equal(parse_section(sec, &p, &e), 0);
        assert_non_null(strstr(e.msg, file));
        assert_non_null(strstr(e.msg, "$.syscalls[0].names[0]: 1 syscall name libseccomp"));
        assert_non_null(strstr(e.msg, "in rules that deny (skipping them could let them through): nope"));
        f = fopen(file, "w");
        fputs("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_"
              "ERRNO\"}]}",
              f);
        fclose(f);
        assert_int_equal(parse_section(sec, &p, &e), 0);
        assert_string_equal(p->seccomp.source, file);
        assert_int_equal(p->seccomp.n_rules, 1);
        policy_free(p);
        unlink(file);
        rmdir(dir);
}

static bool has_rule(const struct policy_seccomp *s, const char *name, uint32_t action, size_t n_args) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (strcmp(s->rules[i].name, name) == 0 && s->rules[i].action == action && s->rules[i].n_args == n_args)
                        return true;
        return false;
}

static void test_builtin(void **state) {
        struct policy_seccomp s = { 0 };
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        static const char *const denied[] = {
                "kexec_load",
                "kexec_file_load",
                "init_module",
                "finit_module",
                "delete_module",
                "bpf",
                "perf_event_open",
                "userfaultfd",
                "keyctl",
                "add_key",
                "request_key",
                "mount",
                "umount2",
                "pivot_root",
                "move_mount",
                "fsopen",
                "fsmount",
                "open_tree",
                "unshare",
                "setns",
                "open_by_handle_at",
                "io_uring_setup",
                "io_uring_enter",
                "io_uring_register",
                "ptrace",
                "process_vm_readv",
                "process_vm_writev",
                "acct",
                "swapon",
                "swapoff",
                "reboot",
                "settimeofday",
                "clock_settime",
                "adjtimex",
        };
        assert_int_equal(pol_seccomp_builtin(&s, &e), 0);
        /* an allow list: what it does not name gets ENOSYS */
        assert_int_equal(s.default_action, SCMP_ACT_ERRNO(ENOSYS));
        /* it names nothing Debian 12's libseccomp (2.5.4, table up to 456)
         * does not know; an older table may lack only the 6.6/6.7 calls,
         * which then answer ENOSYS and libc falls back */
        for (size_t i = 0; i < s.n_skipped; i++) {
                static const char *const newer[] = { "fchmodat2", "map_shadow_stack", "futex_wake", "futex_wait",
                                                     "futex_requeue" };
                bool ok = false;
                for (size_t k = 0; k < ELEMENTSOF(newer); k++)
                        ok |= strcmp(s.skipped[i], newer[k]) == 0;
                if (!ok)
                        fail_msg("the stock profile names %s, unknown to this libseccomp", s.skipped[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(denied); i++)
                if (!has_rule(&s, denied[i], SCMP_ACT_ERRNO(EPERM), 0))
                        fail_msg("the stock profile does not deny %s", denied[i]);
        assert_true(has_rule(&s, "clone3", SCMP_ACT_ERRNO(ENOSYS), 0));
        assert_true(has_rule(&s, "clone", SCMP_ACT_ERRNO(EPERM), 1));
        assert_true(has_rule(&s, "clone", SCMP_ACT_ALLOW, 1));
        assert_true(has_rule(&s, "socket", SCMP_ACT_ERRNO(EAFNOSUPPORT), 1));
        assert_true(has_rule(&s, "memfd_create", SCMP_ACT_ALLOW, 1));
        assert_false(has_rule(&s, "memfd_create", SCMP_ACT_ALLOW, 0));
        /* no unconditional allow may sit beside conditional rules of the same
         * syscall: libseccomp would let the unconditional one win */
        for (size_t i = 0; i < s.n_rules; i++)
                if (s.rules[i].n_args == 0 && s.rules[i].action == SCMP_ACT_ALLOW)
                        for (size_t k = 0; k < s.n_rules; k++)
                                if (k != i && strcmp(s.rules[k].name, s.rules[i].name) == 0)
                                        fail_msg("%s has an unconditional allow beside other rules", s.rules[i].name);
        assert_true(has_rule(&s, "ioctl", SCMP_ACT_ERRNO(EPERM), 1));
        assert_int_equal(s.n_arches, 0);
        pol_seccomp_free(&s);
        /* {"profile": "default"} is the same thing */
        assert_int_equal(parse_section("{\"profile\":\"default\"}", &p, &e), 0);
        assert_string_equal(p->seccomp.source, "default");
        assert_true(p->seccomp.builtin);
        assert_int_equal(p->seccomp.n_rules, 0); /* parsed only on a cache miss */
        policy_free(p);
        /* no section, "default" and the parsed stock profile compile to the same program */
        {
                struct policy_seccomp none = { 0 }, def = { .set = true, .builtin = true };
                struct seccomp_bpf a = { 0 }, b = { 0 }, c = { 0 };
                char ka[SECCOMP_KEY_HEX], kb[SECCOMP_KEY_HEX];
                assert_int_equal(pol_seccomp_builtin(&s, &e), 0);
                assert_int_equal(seccomp_compile(&none, &a, &e), 0);
                assert_int_equal(seccomp_compile(&def, &b, &e), 0);
                assert_int_equal(seccomp_compile(&s, &c, &e), 0);
                assert_int_equal(a.len, c.len);
                assert_memory_equal(a.prog, c.prog, a.len * sizeof *a.prog);
                assert_memory_equal(b.prog, c.prog, a.len * sizeof *a.prog);
                assert_int_equal(seccomp_cache_key(&none, ka), 0);
                assert_int_equal(seccomp_cache_key(&def, kb), 0);
                assert_string_equal(ka, kb);
                free(a.prog);
                free(b.prog);
                free(c.prog);
                pol_seccomp_free(&s);
        }
}

/* Load the stock profile in a child and try what it must deny and allow. */
static void test_stock_behaviour(void **state) {
        struct policy_seccomp s = { 0 };
        struct sr_error e = { 0 };
        struct seccomp_bpf bpf = { 0 };
        struct sock_filter *prog;
        size_t len;
        int st;
        pid_t pid;
        assert_int_equal(pol_seccomp_builtin(&s, &e), 0);
        assert_int_equal(seccomp_compile(&s, &bpf, &e), 0);
        prog = bpf.prog;
        len = bpf.len;
        assert_true(len > 10);
        pid = fork();
        if (pid == 0) {
                struct sock_fprog fp = { .len = (unsigned short)len, .filter = prog };
                struct clone_args ca = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
                int fails = 0;
                char ch = 0;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
                        _exit(100);
#define EXPECT(cond, n) \
        do { \
                if (!(cond)) \
                        fails |= 1 << (n); \
        } while (0)
                EXPECT(syscall(SYS_clone3, &ca, sizeof ca) < 0 && errno == ENOSYS, 0);
                EXPECT(syscall(SYS_unshare, CLONE_NEWUSER) < 0 && errno == EPERM, 1);
                EXPECT(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0) < 0 && errno == EPERM, 2);
                EXPECT(syscall(SYS_ioctl, 0, 0x5412UL | (7UL << 32), &ch) < 0 && errno == EPERM, 3);
                EXPECT(syscall(SYS_ioctl, 0, 0x541CUL, &ch) < 0 && errno == EPERM, 4);
                EXPECT(personality(READ_IMPLIES_EXEC) < 0 && errno == EPERM, 5);
                EXPECT(syscall(SYS_personality, 0x100000000UL | 0x0400000UL) < 0 && errno == EPERM, 6);
                EXPECT(personality(0xffffffff) >= 0, 7);
                EXPECT(personality(PER_LINUX) >= 0, 8);
                EXPECT(syscall(SYS_getpid) > 0, 9);
                EXPECT(syscall(SYS_ptrace, 0, 0, 0, 0) < 0 && errno == EPERM, 10);
                EXPECT(syscall(SYS_keyctl, 0, -3, 0) < 0 && errno == EPERM, 11);
                /* a plain fork still works (no namespace flags) */
                pid_t c = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
                if (c == 0)
                        _exit(0);
                EXPECT(c > 0 && waitpid(c, NULL, 0) == c, 12);
                _exit(fails);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("stock filter misbehaved: status 0x%x (bits of failed checks in the exit code)", st);
        /* x32 syscall numbers are killed, not answered */
        pid = fork();
        if (pid == 0) {
                struct sock_fprog fp = { .len = (unsigned short)len, .filter = prog };
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp);
                syscall(0x40000000L | SYS_getpid);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
        free(prog);
        pol_seccomp_free(&s);
}


/* ---- the stock filter's verdicts, read off the BPF itself ----
 * A syscall the kernel lacks answers ENOSYS with or without a filter, so
 * only the program can show that the filter, not the kernel, refuses
 * numbers above libseccomp's table (open_tree_attr, statmount, 1000). */

struct sim_data {
        int nr;
        uint32_t arch;
        uint64_t ip;
        uint64_t args[6];
};

/* Classic BPF as seccomp runs it: A, X, 16 scratch words, loads from the data. */
static uint32_t bpf_run(const struct sock_filter *prog, size_t len, const struct sim_data *d) {
        uint32_t a = 0, x = 0, mem[16] = { 0 };
        const unsigned char *raw = (const unsigned char *)d;
        for (size_t pc = 0; pc < len; pc++) {
                const struct sock_filter *f = &prog[pc];
                uint32_t k = f->k;
                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        assert_true(k + 4 <= sizeof *d);
                        memcpy(&a, raw + k, 4);
                        break;
                case BPF_LD | BPF_MEM: a = mem[k & 15]; break;
                case BPF_LDX | BPF_MEM: x = mem[k & 15]; break;
                case BPF_LD | BPF_IMM: a = k; break;
                case BPF_LDX | BPF_IMM: x = k; break;
                case BPF_ST: mem[k & 15] = a; break;
                case BPF_STX: mem[k & 15] = x; break;
                case BPF_ALU | BPF_AND | BPF_K: a &= k; break;
                case BPF_ALU | BPF_OR | BPF_K: a |= k; break;
                case BPF_ALU | BPF_ADD | BPF_K: a += k; break;
                case BPF_ALU | BPF_SUB | BPF_K: a -= k; break;
                case BPF_MISC | BPF_TAX: x = a; break;
                case BPF_MISC | BPF_TXA: a = x; break;
                case BPF_JMP | BPF_JA: pc += k; break;
                case BPF_JMP | BPF_JEQ | BPF_K: pc += a == k ? f->jt : f->jf; break;
                case BPF_JMP | BPF_JGT | BPF_K: pc += a > k ? f->jt : f->jf; break;
                case BPF_JMP | BPF_JGE | BPF_K: pc += a >= k ? f->jt : f->jf; break;
                case BPF_JMP | BPF_JSET | BPF_K: pc += (a & k) ? f->jt : f->jf; break;
                case BPF_JMP | BPF_JEQ | BPF_X: pc += a == x ? f->jt : f->jf; break;
                case BPF_JMP | BPF_JGT | BPF_X: pc += a > x ? f->jt : f->jf; break;
                case BPF_JMP | BPF_JGE | BPF_X: pc += a >= x ? f->jt : f->jf; break;
                case BPF_RET | BPF_K: return k;
                case BPF_RET | BPF_A: return a;
                default: fail_msg("unexpected BPF opcode 0x%x at %zu", f->code, pc);
                }
        }
        fail_msg("the program ran off its end");
        return 0;
}

#define AUDIT_X86_64 0xc000003eU
#define AUDIT_I386 0x40000003U
#define RET_ALLOW 0x7fff0000U
#define RET_ERRNO(e) (0x00050000U | (e))
#define RET_KILL_PROCESS 0x80000000U

static uint32_t verdict(const struct seccomp_bpf *b, int nr, uint64_t a0, uint64_t a1, uint64_t a2) {
        struct sim_data d = { .nr = nr, .arch = AUDIT_X86_64, .args = { a0, a1, a2 } };
        return bpf_run(b->prog, b->len, &d);
}

static void test_stock_verdicts(void **state) {
        struct seccomp_bpf b = { 0 };
        struct policy_seccomp none = { 0 };
        struct sr_error e = { 0 };
#if !defined(__x86_64__)
        skip();
#endif
        assert_int_equal(seccomp_compile(&none, &b, &e), 0);
        /* syscalls newer than libseccomp's table, and numbers never assigned */
        static const int unknown[] = {
                457 /* statmount */, 458 /* listmount */, 462 /* mseal */, 467 /* open_tree_attr */, 500, 1000,
                0x3fffffff
        };
        for (size_t i = 0; i < ELEMENTSOF(unknown); i++)
                if (verdict(&b, unknown[i], 0, 0, 0) != RET_ERRNO(ENOSYS))
                        fail_msg("syscall %d: 0x%x, want ENOSYS from the filter", unknown[i],
                                 verdict(&b, unknown[i], 0, 0, 0));
        assert_int_equal(verdict(&b, -1, 0, 0, 0), RET_ERRNO(ENOSYS));
        assert_int_equal(verdict(&b, SYS_getpid, 0, 0, 0), RET_ALLOW);
        assert_int_equal(verdict(&b, SYS_open_tree, 0, 0, 0), RET_ERRNO(EPERM));
        assert_int_equal(verdict(&b, SYS_ptrace, 0, 0, 0), RET_ERRNO(EPERM));
        assert_int_equal(verdict(&b, SYS_clone3, 0, 0, 0), RET_ERRNO(ENOSYS));
        /* another ABI: killed */
        assert_int_equal(verdict(&b, 0x40000000 | SYS_getpid, 0, 0, 0), RET_KILL_PROCESS);
        {
                struct sim_data d = { .nr = 20, .arch = AUDIT_I386 };
                assert_int_equal(bpf_run(b.prog, b.len, &d), RET_KILL_PROCESS);
        }
        /* socket families: unix, inet, inet6, netlink route; nothing else */
        for (uint64_t fam = 0; fam < 64; fam++)
                for (uint64_t proto = 0; proto < 3; proto++) {
                        uint32_t v = verdict(&b, SYS_socket, fam, 1, proto), want;
                        if (fam == 1 || fam == 2 || fam == 10 || (fam == 16 && proto == 0))
                                want = RET_ALLOW;
                        else
                                want = RET_ERRNO(fam == 16 ? EPROTONOSUPPORT : EAFNOSUPPORT);
                        if (v != want)
                                fail_msg("socket(%llu, 1, %llu): 0x%x, want 0x%x", (unsigned long long)fam,
                                         (unsigned long long)proto, v, want);
                }
        assert_int_equal(verdict(&b, SYS_socket, 40 /* AF_VSOCK */, 1, 0), RET_ERRNO(EAFNOSUPPORT));
        assert_int_equal(verdict(&b, SYS_socket, 0x100000001ULL, 1, 0), RET_ERRNO(EAFNOSUPPORT));
        assert_int_equal(verdict(&b, SYS_socket, 0xffffffffffffffffULL, 1, 0), RET_ERRNO(EAFNOSUPPORT));
        assert_int_equal(verdict(&b, SYS_socketpair, 1, 1, 0), RET_ALLOW);
        assert_int_equal(verdict(&b, SYS_socketpair, 40, 1, 0), RET_ERRNO(EAFNOSUPPORT));
        /* memfds that can never become executable, or ENOSYS */
        assert_int_equal(verdict(&b, SYS_memfd_create, 0, 1 /* MFD_CLOEXEC */, 0), RET_ERRNO(ENOSYS));
        assert_int_equal(verdict(&b, SYS_memfd_create, 0, 0x10 /* MFD_EXEC */, 0), RET_ERRNO(ENOSYS));
        assert_int_equal(verdict(&b, SYS_memfd_create, 0, 0x18, 0), RET_ERRNO(ENOSYS));
        assert_int_equal(verdict(&b, SYS_memfd_create, 0, 0x9 /* MFD_CLOEXEC | MFD_NOEXEC_SEAL */, 0), RET_ALLOW);
        /* ioctl: every command but TIOCSTI and TIOCLINUX (on the low 32 bits) */
        static const uint64_t highs[] = {
                0, 0x100000000ULL, 0xffffffff00000000ULL, 0x80000000ULL, 0x40000000ULL, 0x00540000ULL
        };
        for (size_t h = 0; h < ELEMENTSOF(highs); h++)
                for (uint64_t lo = 0; lo < 0x10000; lo++) {
                        uint64_t cmd = highs[h] | lo;
                        uint32_t low = (uint32_t)cmd, v = verdict(&b, SYS_ioctl, 0, cmd, 0);
                        uint32_t want = low == 0x5412 || low == 0x541C ? RET_ERRNO(EPERM) : RET_ALLOW;
                        if (v != want)
                                fail_msg("ioctl(0x%llx): 0x%x, want 0x%x", (unsigned long long)cmd, v, want);
                }
        /* clone: namespace flags refused, the rest allowed */
        assert_int_equal(verdict(&b, SYS_clone, SIGCHLD, 0, 0), RET_ALLOW);
        assert_int_equal(verdict(&b, SYS_clone, 0x003d0f00 /* a thread */, 0, 0), RET_ALLOW);
        static const uint64_t ns[] = { CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                       CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET };
        for (size_t i = 0; i < ELEMENTSOF(ns); i++)
                assert_int_equal(verdict(&b, SYS_clone, ns[i] | SIGCHLD, 0, 0), RET_ERRNO(EPERM));
        /* personality: 0 and the query only */
        assert_int_equal(verdict(&b, SYS_personality, 0, 0, 0), RET_ALLOW);
        assert_int_equal(verdict(&b, SYS_personality, 0xffffffffULL, 0, 0), RET_ALLOW);
        for (int bit = 0; bit < 32; bit++)
                assert_int_equal(verdict(&b, SYS_personality, 1ULL << bit, 0, 0), RET_ERRNO(EPERM));
        free(b.prog);
}

/* ---- the BPF cache ---- */

static struct policy_seccomp *small_filter(const char *extra) {
        static struct policy_seccomp s;
        struct sr_error e = { 0 };
        char doc[512];
        pol_seccomp_free(&s);
        memset(&s, 0, sizeof s);
        snprintf(doc, sizeof doc,
                 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
                 "\"syscalls\":[{\"names\":[\"ptrace\"%s],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 extra);
        assert_int_equal(pol_seccomp_parse_buffer("t", doc, strlen(doc), 0, &s, &e), 0);
        return &s;
}

static int tmpdir(char *buf) {
        strcpy(buf, "/tmp/sr-cache-XXXXXX");
        assert_non_null(mkdtemp(buf));
        int fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void rm_rf(const char *dir) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void entry_path(char *buf, size_t n, const char *dir, const struct policy_seccomp *s) {
        char key[SECCOMP_KEY_HEX];
        assert_int_equal(seccomp_cache_key(s, key), 0);
        snprintf(buf, n, "%s/%s.bpf", dir, key);
}

static void test_cache_key(void **state) {
        char a[SECCOMP_KEY_HEX], b[SECCOMP_KEY_HEX], c[SECCOMP_KEY_HEX];
        assert_int_equal(seccomp_cache_key(small_filter(""), a), 0);
        assert_int_equal(seccomp_cache_key(small_filter(""), b), 0);
        assert_string_equal(a, b);
        assert_int_equal(strlen(a), 64);
        assert_int_equal(seccomp_cache_key(small_filter(",\"bpf\""), c), 0);
        assert_string_not_equal(a, c);
        pol_seccomp_free(small_filter(""));
}

static void test_cache_hit_miss(void **state) {
        char dir[32];
        int dfd = tmpdir(dir);
        struct sr_error e = { 0 };
        struct seccomp_bpf b1 = { 0 }, b2 = { 0 }, b3 = { 0 };
        enum seccomp_origin o;
        struct policy_seccomp *s = small_filter("");
        char path[128];
        struct stat st;

        assert_int_equal(seccomp_get(s, dfd, geteuid(), &b1, &o, &e), 0);
        assert_int_equal(o, SECCOMP_CACHE_MISS);
        entry_path(path, sizeof path, dir, s);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, geteuid());
        assert_int_equal(seccomp_get(s, dfd, geteuid(), &b2, &o, &e), 0);
        assert_int_equal(o, SECCOMP_CACHE_HIT);
        assert_int_equal(b1.len, b2.len);
        assert_memory_equal(b1.prog, b2.prog, b1.len * sizeof *b1.prog);
        assert_int_equal(b2.flags, 2 /* SECCOMP_FILTER_FLAG_LOG, kept in the entry */);
        /* no cache directory: compiled every time */
        assert_int_equal(seccomp_get(s, -1, geteuid(), &b3, &o, &e), 0);
        assert_int_equal(o, SECCOMP_CACHE_OFF);
        assert_memory_equal(b1.prog, b3.prog, b1.len * sizeof *b1.prog);
        /* another filter is another entry */
        free(b3.prog);
        assert_int_equal(seccomp_get(small_filter(",\"bpf\""), dfd, geteuid(), &b3, &o, &e), 0);
        assert_int_equal(o, SECCOMP_CACHE_MISS);
        assert_int_equal(seccomp_cache_lookup(dfd, "00", geteuid(), &b2), -ENOENT);
        free(b1.prog);
        free(b2.prog);
        free(b3.prog);
        pol_seccomp_free(small_filter(""));
        close(dfd);
        rm_rf(dir);
}

/* Rewrite the entry with one change, keeping owner and mode. */
static void damage(const char *path, long off, int len_delta) {
        char buf[65536];
        int fd = open(path, O_RDWR);
        ssize_t n = read(fd, buf, sizeof buf);
        assert_true(n > 0);
        if (off >= 0 && off < n)
                buf[off] ^= 0x40;
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, buf, (size_t)(n + len_delta), 0), n + len_delta);
        close(fd);
}

static void test_cache_corrupt(void **state) {
        static const struct {
                long off;
                int delta;
                const char *what;
        } cases[] = {
                { 0, 0, "magic" },   { 10, 0, "key" },       { 41, 0, "count" },
                { 45, 0, "flags" },  { 50, 0, "checksum" },  { 90, 0, "program" },
                { -1, -8, "short" }, { -1, -3, "odd size" }, { -1, 8, "trailing data" },
        };
        char dir[32], path[128];
        int dfd = tmpdir(dir);
        struct sr_error e = { 0 };
        struct policy_seccomp *s = small_filter("");
        struct seccomp_bpf good = { 0 }, b = { 0 };
        enum seccomp_origin o;
        assert_int_equal(seccomp_get(s, dfd, geteuid(), &good, &o, &e), 0);
        entry_path(path, sizeof path, dir, s);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char key[SECCOMP_KEY_HEX];
                damage(path, cases[i].off, cases[i].delta);
                assert_int_equal(seccomp_cache_key(s, key), 0);
                if (seccomp_cache_lookup(dfd, key, geteuid(), &b) != -EBADMSG)
                        fail_msg("damaged %s: entry not reported corrupt", cases[i].what);
                /* rebuilt, never trusted, and good again afterwards */
                assert_int_equal(seccomp_get(s, dfd, geteuid(), &b, &o, &e), 0);
                assert_int_equal(o, SECCOMP_CACHE_REBUILT);
                assert_memory_equal(b.prog, good.prog, good.len * sizeof *b.prog);
                assert_int_equal(b.flags, good.flags);
                free(b.prog);
                assert_int_equal(seccomp_get(s, dfd, geteuid(), &b, &o, &e), 0);
                assert_int_equal(o, SECCOMP_CACHE_HIT);
                free(b.prog);
        }
        free(good.prog);
        pol_seccomp_free(small_filter(""));
        close(dfd);
        rm_rf(dir);
}

static void test_cache_wrong_owner_mode(void **state) {
        char dir[32], path[128], key[SECCOMP_KEY_HEX], other[160];
        int dfd = tmpdir(dir);
        struct sr_error e = { 0 };
        struct policy_seccomp *s = small_filter("");
        struct seccomp_bpf b = { 0 };
        enum seccomp_origin o;
        assert_int_equal(seccomp_get(s, dfd, geteuid(), &b, &o, &e), 0);
        free(b.prog);
        entry_path(path, sizeof path, dir, s);
        assert_int_equal(seccomp_cache_key(s, key), 0);
        /* group/other bits: someone else may have written it */
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(seccomp_cache_lookup(dfd, key, geteuid(), &b), -EPERM);
        assert_int_equal(seccomp_get(s, dfd, geteuid(), &b, &o, &e), 0);
        assert_int_equal(o, SECCOMP_CACHE_REBUILT);
        free(b.prog);
        /* another owner (as root: chown; else: ask for an owner we are not) */
        if (geteuid() == 0) {
                assert_int_equal(chown(path, 65534, 65534), 0);
                assert_int_equal(seccomp_cache_lookup(dfd, key, 0, &b), -EPERM);
                assert_int_equal(seccomp_get(s, dfd, 0, &b, &o, &e), 0);
                assert_int_equal(o, SECCOMP_CACHE_REBUILT);
                free(b.prog);
        }
        assert_int_equal(seccomp_cache_lookup(dfd, key, geteuid() + 1, &b), -EPERM);
        /* a symlink in its place is not followed */
        snprintf(other, sizeof other, "%s/elsewhere", dir);
        assert_int_equal(rename(path, other), 0);
        assert_int_equal(symlink(other, path), 0);
        assert_int_equal(seccomp_cache_lookup(dfd, key, geteuid(), &b), -EPERM);
        /* a hard link (nlink 2) is not trusted either */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(link(other, path), 0);
        assert_int_equal(seccomp_cache_lookup(dfd, key, geteuid(), &b), -EPERM);
        pol_seccomp_free(small_filter(""));
        close(dfd);
        rm_rf(dir);
}

static void test_cache_dir(void **state) {
        char dir[32], sub[64], lvl[64], bind_src[64];
        struct policy pol = { 0 };
        struct task t = { .pol = &pol };
        struct mount_entry me = { .type = MNT_BIND };
        struct stat st;
        int fd;
        close(tmpdir(dir));
        setenv("SEALRUN_CACHE_DIR", "off", 1);
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        setenv("SEALRUN_CACHE_DIR", "relative/dir", 1);
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        snprintf(sub, sizeof sub, "%s/a/b", dir);
        setenv("SEALRUN_CACHE_DIR", sub, 1);
        snprintf(lvl, sizeof lvl, "%s/a", dir);
        if (geteuid() != 0) {
                /* Unprivileged: every file of ours is within a payload's
                 * reach, so there is no cache at all, and nothing is made. */
                assert_int_equal(seccomp_cache_dir_open(&t), -1);
                assert_int_equal(stat(lvl, &st), -1);
                unsetenv("SEALRUN_CACHE_DIR");
                rm_rf(dir);
                return;
        }
        fd = seccomp_cache_dir_open(&t);
        assert_true(fd >= 0);
        close(fd);
        snprintf(sub, sizeof sub, "%s/a/b/seccomp", dir);
        assert_int_equal(stat(sub, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        /* writable by others, at any level: not trusted */
        assert_int_equal(chmod(sub, 0777), 0);
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        assert_int_equal(chmod(sub, 0700), 0);
        assert_int_equal(chmod(lvl, 0770), 0);
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        /* sticky (like /tmp) is fine for a parent, never for the cache itself */
        assert_int_equal(chmod(lvl, 01777), 0);
        fd = seccomp_cache_dir_open(&t);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(chmod(sub, 01777), 0);
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        assert_int_equal(chmod(sub, 0700), 0);
        assert_int_equal(chmod(lvl, 0700), 0);
        /* a level owned by another uid: not trusted (it could swap what is below) */
        assert_int_equal(chown(lvl, 65534, 65534), 0);
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        assert_int_equal(chown(lvl, 0, 0), 0);
        /* a symlink on the way: not followed */
        snprintf(bind_src, sizeof bind_src, "%s/link", dir);
        assert_int_equal(symlink("a", bind_src), 0);
        snprintf(sub, sizeof sub, "%s/link/b", dir);
        setenv("SEALRUN_CACHE_DIR", sub, 1);
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        snprintf(sub, sizeof sub, "%s/a/b", dir);
        setenv("SEALRUN_CACHE_DIR", sub, 1);
        /* reachable read-write from the sandbox: not used */
        snprintf(bind_src, sizeof bind_src, "%s/a", dir);
        me.src = bind_src;
        t.plan = &me; /* the mount plan, as mounts_plan builds it */
        t.n_plan = 1;
        assert_int_equal(seccomp_cache_dir_open(&t), -1);
        me.type = MNT_RO_BIND;
        fd = seccomp_cache_dir_open(&t);
        assert_true(fd >= 0);
        close(fd);
        /* an optional read-write bind whose source is absent mounts nothing */
        me.type = MNT_BIND;
        me.optional = true;
        me.src = "/nonexistent/sealrun-test";
        fd = seccomp_cache_dir_open(&t);
        assert_true(fd >= 0);
        close(fd);
        me.optional = false;
        assert_int_equal(seccomp_cache_dir_open(&t), -1); /* not optional: unknown, so not trusted */
        unsetenv("SEALRUN_CACHE_DIR");
        rm_rf(dir);
}

static void test_apply(void **state) {
        struct policy pol = { 0 };
        struct task t = { .pol = &pol, .sync_child = -1 };
        struct sr_error e = { 0 };
        int st;
        setenv("SEALRUN_CACHE_DIR", "off", 1);
        /* no section: the built-in default */
        assert_int_equal(seccomp_prepare(&t, &e), 0);
        pid_t pid = fork();
        if (pid == 0) {
                struct sr_error ce = { 0 };
                /* without no_new_privs first: refused */
                if (seccomp_apply(&t, &ce) == 0 || !strstr(ce.msg, "no_new_privs"))
                        _exit(1);
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if (seccomp_apply(&t, &ce) != 0)
                        _exit(2);
                _exit(syscall(SYS_unshare, CLONE_NEWUSER) < 0 && errno == EPERM ? 0 : 3);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        seccomp_task_release(&t);
        /* nothing prepared: refuse rather than run unfiltered */
        assert_int_not_equal(seccomp_apply(&t, &e), 0);
        unsetenv("SEALRUN_CACHE_DIR");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_ok),        cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_profile_file),    cmocka_unit_test(test_builtin),
                cmocka_unit_test(test_stock_behaviour), cmocka_unit_test(test_stock_verdicts),
                cmocka_unit_test(test_cache_key),       cmocka_unit_test(test_cache_hit_miss),
                cmocka_unit_test(test_cache_corrupt),   cmocka_unit_test(test_cache_wrong_owner_mode),
                cmocka_unit_test(test_cache_dir),       cmocka_unit_test(test_apply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
