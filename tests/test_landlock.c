/* Unit tests: the "landlock" policy section (every error path) and enforcement with ABI negotiation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/skip.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "launcher/landlock.h"
#include "launcher/sync.h"
#include "policy/policy.h"

static int parse_section(const char *section, struct policy **ret, struct sr_error *e) {
        char *doc = NULL;
        assert_true(asprintf(&doc, "{\"version\":1,\"mounts\":[],\"landlock\":%s}", section) > 0);
        int r = policy_parse("p.json", doc, strlen(doc), ret, e);
        free(doc);
        return r;
}

static void test_parse_ok(void **state) {
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        assert_int_equal(parse_section("{\"fs\":[{\"path\":\"/usr\",\"access\":[\"read\",\"execute\"]},"
                                       "{\"path\":\"/opt/x\",\"access\":[\"write\"],\"optional\":true}],"
                                       "\"net\":{\"bind\":[8080],\"connect\":[443,53],\"optional\":true},"
                                       "\"scope\":{\"abstract-unix\":true,\"signal\":false},\"optional\":false}",
                                       &p, &e),
                         0);
        assert_true(p->landlock.set && p->landlock.fs && p->landlock.net && p->landlock.net_optional);
        assert_int_equal(p->landlock.n_fs_rules, 2);
        assert_string_equal(p->landlock.fs_rules[0].path, "/usr");
        assert_int_equal(p->landlock.fs_rules[0].access, LL_READ | LL_EXECUTE);
        assert_true(p->landlock.fs_rules[1].optional);
        assert_int_equal(p->landlock.n_bind_ports, 1);
        assert_int_equal(p->landlock.n_connect_ports, 2);
        assert_int_equal(p->landlock.connect_ports[1], 53);
        assert_int_equal(p->landlock.scopes, LL_SCOPE_ABSTRACT_UNIX);
        policy_free(p);
        /* "fs": [] restricts the whole filesystem; "net": {} every TCP port */
        assert_int_equal(parse_section("{\"fs\":[],\"net\":{}}", &p, &e), 0);
        assert_true(p->landlock.fs && p->landlock.net);
        policy_free(p);
}

static void test_parse_errors(void **state) {
        static const struct {
                const char *section, *want;
        } cases[] = {
                { "[]", "$.landlock: expected an object" },
                { "{}", "$.landlock: restricts nothing" },
                { "{\"scope\":{}}", "$.landlock: restricts nothing" },
                { "{\"fs\":[],\"paths\":[]}", "$.landlock.paths: unknown key" },
                { "{\"fs\":{}}", "$.landlock.fs: expected an array" },
                { "{\"fs\":[1]}", "$.landlock.fs[0]: expected an object" },
                { "{\"fs\":[{\"access\":[\"read\"]}]}", "$.landlock.fs[0].path: missing required key" },
                { "{\"fs\":[{\"path\":\"usr\",\"access\":[\"read\"]}]}",
                  "$.landlock.fs[0].path: must be an absolute normalised path" },
                { "{\"fs\":[{\"path\":\"/usr/../etc\",\"access\":[\"read\"]}]}",
                  "$.landlock.fs[0].path: must be an absolute normalised path" },
                { "{\"fs\":[{\"path\":\"/usr/\",\"access\":[\"read\"]}]}",
                  "$.landlock.fs[0].path: must be an absolute" },
                { "{\"fs\":[{\"path\":\"//usr\",\"access\":[\"read\"]}]}",
                  "$.landlock.fs[0].path: must be an absolute" },
                { "{\"fs\":[{\"path\":\"/usr\"}]}", "$.landlock.fs[0].access: missing required key" },
                { "{\"fs\":[{\"path\":\"/usr\",\"access\":[]}]}", "$.landlock.fs[0].access: must list at least one" },
                { "{\"fs\":[{\"path\":\"/usr\",\"access\":[\"fly\"]}]}", "$.landlock.fs[0].access[0]: unknown access" },
                { "{\"fs\":[{\"path\":\"/usr\",\"access\":[\"read\",\"read\"]}]}",
                  "$.landlock.fs[0].access[1]: listed twice" },
                { "{\"fs\":[{\"path\":\"/usr\",\"access\":\"read\"}]}", "$.landlock.fs[0].access: expected an array" },
                { "{\"fs\":[{\"path\":\"/usr\",\"access\":[\"read\"],\"optional\":1}]}",
                  "$.landlock.fs[0].optional: expected a boolean" },
                { "{\"fs\":[{\"path\":\"/usr\",\"access\":[\"read\"],\"recursive\":true}]}",
                  "$.landlock.fs[0].recursive: unknown key" },
                { "{\"net\":[]}", "$.landlock.net: expected an object" },
                { "{\"net\":{\"bind\":[70000]}}", "$.landlock.net.bind[0]: expected a TCP port number" },
                { "{\"net\":{\"connect\":[-1]}}", "$.landlock.net.connect[0]: expected a TCP port number" },
                { "{\"net\":{\"connect\":[\"443\"]}}", "$.landlock.net.connect[0]: expected a TCP port number" },
                { "{\"net\":{\"udp\":[53]}}", "$.landlock.net.udp: unknown key" },
                { "{\"scope\":{\"ptrace\":true}}", "$.landlock.scope.ptrace: unknown key" },
                { "{\"scope\":{\"signal\":\"yes\"}}", "$.landlock.scope.signal: expected a boolean" },
                { "{\"fs\":[],\"optional\":\"no\"}", "$.landlock.optional: expected a boolean" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct policy *p = NULL;
                struct sr_error e = { 0 };
                int r = parse_section(cases[i].section, &p, &e);
                if (r == 0 || !strstr(e.msg, cases[i].want) || e.exit_code != SR_EXIT_LAUNCHER)
                        fail_msg("case %zu: r=%d msg=\"%s\", want \"%s\"", i, r, e.msg, cases[i].want);
        }
        /* limits */
        char big[64 * 1024];
        size_t n = (size_t)snprintf(big, sizeof big, "{\"fs\":[");
        for (int i = 0; i < LANDLOCK_MAX_FS + 1; i++)
                n += (size_t)snprintf(big + n, sizeof big - n, "%s{\"path\":\"/p%d\",\"access\":[\"read\"]}",
                                      i ? "," : "", i);
        snprintf(big + n, sizeof big - n, "]}");
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        assert_int_not_equal(parse_section(big, &p, &e), 0);
        assert_non_null(strstr(e.msg, "$.landlock.fs: too many rules"));
}

/* Apply `section` in a child (as if the kernel had ABI `abi`), then run
 * `check` there; notes arrive over a socketpair like the real sync socket.
 * Returns the child's exit code; *notes gets the notes, one per line. */
typedef int (*check_fn)(const char *dir);

static int run_child(const char *section, int abi, const char *dir, check_fn check, char *notes, size_t size, char *err,
                     size_t esize) {
        int sv[2], st;
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        if (parse_section(section, &p, &e) != 0)
                fail_msg("parse: %s", e.msg);
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        pid_t pid = fork();
        if (pid == 0) {
                struct task t = { .pol = p, .cfg = { .landlock = p->landlock }, .sync_child = sv[1] };
                struct sr_error ce = { 0 };
                close(sv[0]);
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                int r = landlock_apply_abi(&t, abi, &ce);
                if (r < 0) {
                        sync_send(sv[1], SYNC_ERROR, -r, ce.exit_code, "landlock", ce.msg);
                        _exit(ce.exit_code);
                }
                _exit(check ? check(dir) : 0);
        }
        close(sv[1]);
        notes[0] = err[0] = 0;
        for (;;) {
                struct sync_msg m;
                if (sync_recv(sv[0], &m, 5000) < 0)
                        break;
                if (m.type == SYNC_NOTE) {
                        strncat(notes, m.text, size - strlen(notes) - 2);
                        strcat(notes, "\n");
                } else if (m.type == SYNC_ERROR) {
                        snprintf(err, esize, "%s", m.text);
                }
        }
        close(sv[0]);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        policy_free(p);
        assert_true(WIFEXITED(st));
        return WEXITSTATUS(st);
}

static char tdir[64];

static int check_fs(const char *dir) {
        char path[128];
        int fails = 0, fd;
        snprintf(path, sizeof path, "%s/ro/file", dir);
        fd = open(path, O_RDONLY);
        fails |= fd < 0; /* read granted */
        if (fd >= 0)
                close(fd);
        fails |= (open(path, O_WRONLY) >= 0 || errno != EACCES) << 1; /* write not */
        snprintf(path, sizeof path, "%s/rw/new", dir);
        fd = open(path, O_CREAT | O_WRONLY, 0600);
        fails |= (fd < 0) << 2; /* write granted */
        if (fd >= 0)
                close(fd);
        snprintf(path, sizeof path, "%s/other/file", dir);
        fails |= (open(path, O_RDONLY) >= 0 || errno != EACCES) << 3; /* elsewhere: nothing */
        fails |= (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES) << 4;
        return fails;
}

static void make_tree(void) {
        char p[128];
        static const char *const sub[] = { "ro", "rw", "other" };
        strcpy(tdir, "/tmp/sr-landlock-XXXXXX");
        assert_non_null(mkdtemp(tdir));
        for (size_t i = 0; i < ELEMENTSOF(sub); i++) {
                snprintf(p, sizeof p, "%s/%s", tdir, sub[i]);
                assert_int_equal(mkdir(p, 0755), 0);
                snprintf(p, sizeof p, "%s/%s/file", tdir, sub[i]);
                int fd = open(p, O_CREAT | O_WRONLY, 0644);
                assert_true(fd >= 0);
                close(fd);
        }
}

static void rm_tree(void) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
        assert_int_equal(system(cmd), 0);
}

static void test_fs_enforced(void **state) {
        char sec[512], notes[1024], err[512];
        if (landlock_abi() < 1) {
                /* this kernel: no Landlock, so a required section is refused, an optional one noted */
                assert_int_equal(run_child("{\"fs\":[]}", 99, NULL, NULL, notes, sizeof notes, err, sizeof err),
                                 SR_EXIT_REFUSED);
                assert_non_null(strstr(err, "$.landlock: the kernel has no Landlock"));
                assert_int_equal(run_child("{\"fs\":[],\"optional\":true}", 99, NULL, NULL, notes, sizeof notes, err,
                                           sizeof err),
                                 0);
                assert_non_null(strstr(notes, "landlock: not available in this kernel"));
                return;
        }
        make_tree();
        snprintf(sec, sizeof sec,
                 "{\"fs\":[{\"path\":\"%s/ro\",\"access\":[\"read\"]},{\"path\":\"%s/"
                 "rw\",\"access\":[\"read\",\"write\"]},"
                 "{\"path\":\"%s/missing\",\"access\":[\"read\"],\"optional\":true}]}",
                 tdir, tdir, tdir);
        int code = run_child(sec, 99, tdir, check_fs, notes, sizeof notes, err, sizeof err);
        if (code != 0)
                fail_msg("fs checks failed: bits 0x%x (%s)", code, err);
        assert_non_null(strstr(notes, "does not exist in the sandbox (optional rule skipped)"));
        /* the same missing path without "optional": refused with 77 */
        snprintf(sec, sizeof sec, "{\"fs\":[{\"path\":\"%s/missing\",\"access\":[\"read\"]}]}", tdir);
        assert_int_equal(run_child(sec, 99, tdir, NULL, notes, sizeof notes, err, sizeof err), SR_EXIT_REFUSED);
        assert_non_null(strstr(err, "$.landlock.fs[0]"));
        assert_non_null(strstr(err, "No such file"));
        rm_tree();
}

static int check_net(const char *dir) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
        int fails = 0, s;
        a.sin_port = htons(40123); /* granted */
        s = socket(AF_INET, SOCK_STREAM, 0);
        fails |= bind(s, (struct sockaddr *)&a, sizeof a) < 0 && errno == EACCES;
        close(s);
        a.sin_port = htons(40124); /* not granted */
        s = socket(AF_INET, SOCK_STREAM, 0);
        fails |= (bind(s, (struct sockaddr *)&a, sizeof a) == 0 || errno != EACCES) << 1;
        close(s);
        a.sin_port = htons(40125);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s = socket(AF_INET, SOCK_STREAM, 0);
        fails |= (connect(s, (struct sockaddr *)&a, sizeof a) == 0 || errno != EACCES) << 2;
        close(s);
        return fails;
}

/* Below ABI 5 (3) device ioctls (truncate) stay open: refused unless the
 * policy accepts it, then run and reported. */
static void test_fs_rights_below_abi5(void **state) {
        char notes[1024], err[512];
        const char *fs = "{\"fs\":[{\"path\":\"/\",\"access\":[\"read\",\"write\",\"execute\"]}]}";
        const char *fs_ok = "{\"fs\":[{\"path\":\"/\",\"access\":[\"read\",\"write\",\"execute\"]}],"
                            "\"fs_rights_optional\":true}";
        if (landlock_abi() < 5) {
                /* a lower ABI is simulated only down from the kernel's */
                sr_skip_reason("Landlock ABI %d < 5: the ABI 4 case cannot be simulated", landlock_abi());
                skip();
        }
        assert_int_equal(run_child(fs, 4, NULL, NULL, notes, sizeof notes, err, sizeof err), SR_EXIT_REFUSED);
        assert_non_null(strstr(err, "$.landlock.fs: restricting device ioctls needs Landlock ABI 5, the kernel has 4"));
        assert_int_equal(run_child(fs, 2, NULL, NULL, notes, sizeof notes, err, sizeof err), SR_EXIT_REFUSED);
        assert_non_null(strstr(err, "restricting truncate needs Landlock ABI 3, the kernel has 2"));
        assert_int_equal(run_child(fs_ok, 4, NULL, NULL, notes, sizeof notes, err, sizeof err), 0);
        assert_non_null(strstr(notes, "landlock.fs: device ioctls are not restricted (kernel Landlock ABI 4 < 5)"));
        assert_int_equal(run_child(fs, 5, NULL, NULL, notes, sizeof notes, err, sizeof err), 0);
}

static void test_net_and_negotiation(void **state) {
        char notes[1024], err[512];
        char want[160];
        int abi = landlock_abi();
        const char *net = "{\"net\":{\"bind\":[40123]}}";
        /* A lower ABI can be simulated only down from the kernel's (landlock_apply_abi
         * clamps to it), so each negotiation case runs where the kernel has that ABI;
         * the kernel's own ABI is always checked for what applies to it. */
        if (abi >= 4) {
                int code = run_child(net, abi, NULL, check_net, notes, sizeof notes, err, sizeof err);
                if (code != 0)
                        fail_msg("net checks failed: bits 0x%x (%s)", code, err);
        } else if (abi >= 1) {
                /* this kernel is too old for port rules: refused, naming the section */
                assert_int_equal(run_child(net, abi, NULL, NULL, notes, sizeof notes, err, sizeof err),
                                 SR_EXIT_REFUSED);
                snprintf(want, sizeof want, "$.landlock.net: TCP port rules need Landlock ABI 4, the kernel has %d",
                         abi);
                assert_non_null(strstr(err, want));
        }
        if (abi >= 3) {
                /* a kernel too old for port rules: refused, naming the section */
                assert_int_equal(run_child(net, 3, NULL, NULL, notes, sizeof notes, err, sizeof err), SR_EXIT_REFUSED);
                assert_non_null(strstr(err, "$.landlock.net: TCP port rules need Landlock ABI 4, the kernel has 3"));
                /* optional: runs, unrestricted, and says so */
                assert_int_equal(run_child("{\"net\":{\"bind\":[40123],\"optional\":true}}", 3, NULL, NULL, notes,
                                           sizeof notes, err, sizeof err),
                                 0);
                assert_non_null(
                        strstr(notes, "landlock.net: TCP ports are not restricted (kernel Landlock ABI 3 < 4)"));
        }
        if (abi >= 5) {
                /* scoping needs ABI 6 */
                assert_int_equal(
                        run_child("{\"scope\":{\"signal\":true}}", 5, NULL, NULL, notes, sizeof notes, err, sizeof err),
                        SR_EXIT_REFUSED);
                assert_non_null(strstr(err, "$.landlock.scope: scoping needs Landlock ABI 6, the kernel has 5"));
        }
        if (abi >= 2) {
                /* the section-wide "optional" covers every part */
                assert_int_equal(run_child("{\"scope\":{\"signal\":true},\"net\":{},\"fs\":[],\"optional\":true}", 2,
                                           NULL, NULL, notes, sizeof notes, err, sizeof err),
                                 0);
                assert_non_null(strstr(notes, "landlock.scope:"));
                assert_non_null(strstr(notes, "landlock.net:"));
                assert_non_null(strstr(notes, "landlock.fs: truncate is not restricted (kernel Landlock ABI 2 < 3)"));
        }
}

static int check_signal(const char *dir) {
        /* our parent is outside the domain */
        return kill(getppid(), 0) == 0 || errno != EPERM;
}

static void test_scope(void **state) {
        char notes[256], err[512], want[160];
        int abi = landlock_abi();
        if (abi < 6) {
                /* this kernel cannot scope: a required scope is refused, naming the ABI */
                if (abi < 1)
                        return; /* no Landlock at all: test_fs_enforced covers the refusal */
                assert_int_equal(run_child("{\"scope\":{\"signal\":true}}", abi, NULL, NULL, notes, sizeof notes, err,
                                           sizeof err),
                                 SR_EXIT_REFUSED);
                snprintf(want, sizeof want, "$.landlock.scope: scoping needs Landlock ABI 6, the kernel has %d", abi);
                assert_non_null(strstr(err, want));
                return;
        }
        int code = run_child("{\"scope\":{\"signal\":true,\"abstract-unix\":true}}", 99, NULL, check_signal, notes,
                             sizeof notes, err, sizeof err);
        if (code != 0)
                fail_msg("signal scope not enforced (%d: %s)", code, err);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_ok),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_fs_enforced),
                cmocka_unit_test(test_fs_rights_below_abi5),
                cmocka_unit_test(test_net_and_negotiation),
                cmocka_unit_test(test_scope),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
