/* Unit tests of the cgroup module: layout parsing, planning and refusals (no
 * cgroup, missing controller, fake v2 tree), and with a writable cgroup (root
 * on a v1 host, or the VM's v2): OOM report, pids.max, cpu quota, kill of
 * double-forked SIGTERM-ignoring processes, removal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher/cgroup.h"
#include "launcher/cgroup_impl.h"
#include "policy/policy.h"
#include "tests/skip.h"

static struct sr_error err;

struct fixture {
        struct cli cli;
        struct task t;
        struct policy *pol;
};

static void fx_init(struct fixture *f, const char *task_id, const char *limits) {
        char buf[2048];
        memset(f, 0, sizeof *f);
        snprintf(buf, sizeof buf, "{\"version\":1,\"mounts\":[],\"limits\":%s}", limits);
        memset(&err, 0, sizeof err);
        assert_int_equal(policy_parse("t.json", buf, strlen(buf), &f->pol, &err), 0);
        f->cli.task = task_id;
        f->cli.status_fd = f->cli.key_fd = -1;
        f->cli.max_concurrent = -1;
        f->t.pol = f->pol;
        assert_int_equal(config_resolve(&f->cli, f->pol, &f->t.cfg, &err), 0);
        f->t.pid = -1;
        f->t.pidfd = -1;
        status_init(&f->t.status);
}

static void fx_done(struct fixture *f) {
        cgroup_release(&f->t);
        assert_null(f->t.cgroup);
        policy_free(f->pol);
}

static bool listed(const struct status *s, const char *name) {
        for (size_t i = 0; i < s->n_not_enforced; i++)
                if (strcmp(s->not_enforced[i], name) == 0)
                        return true;
        return false;
}

/* ---- layout ---- */

static const char hybrid_self[] = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
                                  "4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";
static const char hybrid_mi[] = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                                "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                                "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
                                "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
                                "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
                                "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
                                "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
                                "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void test_layout_hybrid(void **state) {
        struct cg_layout l;
        assert_int_equal(cg_layout_parse(hybrid_self, hybrid_mi, &l), 0);
        assert_string_equal(l.v2, "/sys/fs/cgroup/unified");
        assert_string_equal(l.v1[CTRL_MEMORY], "/sys/fs/cgroup/memory/process_api/abc");
        assert_string_equal(l.v1[CTRL_PIDS], "/sys/fs/cgroup/pids");
        assert_string_equal(l.v1[CTRL_CPU], "/sys/fs/cgroup/cpu");
        assert_string_equal(l.v1[CTRL_CPUACCT], "/sys/fs/cgroup/cpuacct");
        assert_string_equal(l.v1[CTRL_FREEZER], "/sys/fs/cgroup/freezer");
        cg_layout_free(&l);
}

static void test_layout_v2_and_comount(void **state) {
        struct cg_layout l;
        assert_int_equal(
                cg_layout_parse(
                        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-u7.scope\n",
                        "25 20 0:22 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", &l),
                0);
        assert_string_equal(l.v2, "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/run-u7.scope");
        for (int k = 0; k < CTRL_COUNT; k++)
                assert_null(l.v1[k]);
        cg_layout_free(&l);

        assert_int_equal(cg_layout_parse("3:cpu,cpuacct:/job\n",
                                         "1 2 0:1 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n",
                                         &l),
                         0);
        assert_string_equal(l.v1[CTRL_CPU], "/sys/fs/cgroup/cpu,cpuacct/job");
        assert_string_equal(l.v1[CTRL_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct/job");
        assert_null(l.v1[CTRL_MEMORY]);
        assert_null(l.v2); /* no 0:: line */
        cg_layout_free(&l);
}

static void test_layout_roots_and_escapes(void **state) {
        struct cg_layout l;
        /* a mount of a subtree: our path is shown relative to its root */
        assert_int_equal(cg_layout_parse("0::/a/b\n", "1 2 0:1 /a /mnt/cg\\040x rw - cgroup2 none rw\n", &l), 0);
        assert_string_equal(l.v2, "/mnt/cg x/b");
        cg_layout_free(&l);
        /* our cgroup is not below that mount's root */
        assert_int_equal(cg_layout_parse("0::/ab\n", "1 2 0:1 /a /mnt/cg rw - cgroup2 none rw\n", &l), 0);
        assert_null(l.v2);
        cg_layout_free(&l);
        /* outside our cgroup namespace */
        assert_int_equal(cg_layout_parse("0::/../../x\n", "1 2 0:1 / /sys/fs/cgroup rw - cgroup2 none rw\n", &l), 0);
        assert_null(l.v2);
        cg_layout_free(&l);
        /* garbage in, nothing out */
        assert_int_equal(cg_layout_parse("nonsense\n::\n", "no dash here\n1 2 3 - \n", &l), 0);
        assert_null(l.v2);
        cg_layout_free(&l);
}

static void test_formats(void **state) {
        char buf[64];
        struct fixture f;
        cg_cpu_max(500, buf, sizeof buf);
        assert_string_equal(buf, "50000 100000");
        cg_cpu_max(2000, buf, sizeof buf);
        assert_string_equal(buf, "200000 100000");
        assert_int_equal(cg_keyed_value("low 0\nhigh 3\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n", "oom_kill"), 1);
        assert_int_equal(cg_keyed_value("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n", "oom_kill"), 5);
        assert_int_equal(cg_keyed_value("usage_usec 9\nuser_usec 7\n", "user_usec"), 7);
        assert_int_equal(cg_keyed_value("populated 0\nfrozen 0\n", "populated"), 0);
        assert_int_equal(cg_keyed_value("populated 1\n", "frozen"), -1);
        fx_init(&f, "T-42.a:b", "{}");
        assert_int_equal(cg_task_name(&f.t, buf, sizeof buf), 0);
        assert_string_equal(buf, "task-T-42.a:b");
        assert_int_equal(cg_task_name(&f.t, buf, 8), -ENAMETOOLONG);
        policy_free(f.pol);
}

/* ---- planning without a usable cgroup ---- */

static void test_refuse_without_cgroup(void **state) {
        struct cg_layout none = { 0 };
        struct fixture f;
        fx_init(&f, "ut-refuse", "{\"memory\":\"64M\",\"pids\":10}");
        assert_true(cgroup_prepare_layout(&f.t, &none, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
        assert_string_equal(err.reason, "no-cgroup");
        assert_non_null(strstr(err.msg, "systemd-run --user --scope -p Delegate=yes"));
        assert_non_null(strstr(err.msg, "limits.memory, limits.pids"));
        assert_non_null(strstr(err.msg, "t.json"));
        assert_null(strchr(err.msg, '\n'));
        assert_null(f.t.cgroup); /* nothing half-made stays */
        fx_done(&f);
}

static void test_optional_without_cgroup(void **state) {
        struct cg_layout none = { 0 };
        struct fixture f;
        fx_init(&f, "ut-optional",
                "{\"memory\":\"64M\",\"pids\":10,\"cpu\":0.5,\"optional\":[\"memory\",\"pids\",\"cpu\"]}");
        assert_int_equal(cgroup_prepare_layout(&f.t, &none, &err), 0);
        assert_string_equal(f.t.status.cgroup, "none");
        assert_int_equal(cgroup_mode(&f.t), CG_NONE);
        assert_true(listed(&f.t.status, "limits.memory"));
        assert_true(listed(&f.t.status, "limits.pids"));
        assert_true(listed(&f.t.status, "limits.cpu"));
        assert_int_equal(cgroup_clone_fd(&f.t), -1);
        assert_int_equal(cgroup_attach(&f.t, &err), 0);
        cgroup_kill(&f.t);
        fx_done(&f);
        assert_int_equal(f.t.status.memory_peak_kb, -1);

        /* one optional, one not: still refused, naming only the required one */
        fx_init(&f, "ut-optional2", "{\"memory\":\"64M\",\"pids\":10,\"optional\":[\"memory\"]}");
        assert_true(cgroup_prepare_layout(&f.t, &none, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
        assert_non_null(strstr(err.msg, "limits.pids"));
        assert_null(strstr(err.msg, "limits.memory"));
        fx_done(&f);

        /* no limits, no cgroup: runs, nothing to report but (with swap on) the swap default */
        fx_init(&f, "ut-nolimits", "{}");
        assert_int_equal(cgroup_prepare_layout(&f.t, &none, &err), 0);
        assert_false(listed(&f.t.status, "limits.memory"));
        /* swap 0 cannot be enforced without a cgroup: reported exactly when this host has swap (/proc/swaps) */
        assert_int_equal(listed(&f.t.status, "limits.swap"), cg_host_has_swap());
        fx_done(&f);
}

/* A fake cgroup2 directory: writable, but no controller delegated. */
static char *fake_v2(void) {
        static char tmpl[64];
        int fd;
        snprintf(tmpl, sizeof tmpl, "/tmp/ut-cgroup-XXXXXX");
        assert_non_null(mkdtemp(tmpl));
        const char *files[] = { "cgroup.controllers", "cgroup.subtree_control", "cgroup.procs" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char p[128];
                snprintf(p, sizeof p, "%s/%s", tmpl, files[i]);
                fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                assert_true(fd >= 0);
                close(fd);
        }
        return tmpl;
}

static void rm_fake(const char *dir) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_fake_v2_controller_missing(void **state) {
        char *dir = fake_v2(), p[160];
        struct cg_layout l = { .v2 = dir };
        struct fixture f;
        struct stat st;

        fx_init(&f, "ut-fake", "{\"memory\":\"64M\"}");
        assert_true(cgroup_prepare_layout(&f.t, &l, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
        assert_string_equal(err.reason, "cgroup-controller");
        assert_non_null(strstr(err.msg, "memory controller"));
        assert_non_null(strstr(err.msg, dir));
        fx_done(&f);

        /* optional: runs in a v2 task cgroup without the limit, says so */
        fx_init(&f, "ut-fake", "{\"memory\":\"64M\",\"optional\":[\"memory\"]}");
        assert_int_equal(cgroup_prepare_layout(&f.t, &l, &err), 0);
        assert_string_equal(f.t.status.cgroup, "v2");
        assert_true(listed(&f.t.status, "limits.memory"));
        assert_true(cgroup_clone_fd(&f.t) >= 0);
        snprintf(p, sizeof p, "%s/task-ut-fake", dir);
        assert_int_equal(stat(p, &st), 0);

        /* the same task id while that one lives: never shared, never
         * removed; the second gets a name of its own */
        struct fixture g;
        char q[200];
        fx_init(&g, "ut-fake", "{}");
        assert_int_equal(cgroup_prepare_layout(&g.t, &l, &err), 0);
        snprintf(q, sizeof q, "%s/task-ut-fake.%d", dir, (int)getpid());
        assert_int_equal(stat(q, &st), 0);
        fx_done(&g);
        assert_true(stat(q, &st) < 0);
        assert_int_equal(stat(p, &st), 0); /* the live one's dir was not touched */

        /* a dead supervisor's dir (unlocked, old) is collected by the next
         * prepare; an unlocked brand-new one (another supervisor between
         * mkdir and flock) is not */
        char old[200], young[200];
        snprintf(old, sizeof old, "%s/task-dead", dir);
        snprintf(young, sizeof young, "%s/task-young", dir);
        assert_int_equal(mkdir(old, 0755), 0);
        sleep(3);
        assert_int_equal(mkdir(young, 0755), 0);
        fx_init(&g, "ut-gc", "{}");
        assert_int_equal(cgroup_prepare_layout(&g.t, &l, &err), 0);
        assert_true(stat(old, &st) < 0);
        assert_int_equal(stat(young, &st), 0);
        assert_int_equal(stat(p, &st), 0); /* locked: live */
        fx_done(&g);
        rmdir(young);

        fx_done(&f);
        assert_true(stat(p, &st) < 0); /* removed on release */

        /* started inside the leaf: works from its parent */
        snprintf(p, sizeof p, "%s/sealrun-leaf", dir);
        assert_int_equal(mkdir(p, 0755), 0);
        struct cg_layout leaf = { .v2 = p };
        fx_init(&f, "ut-leaf", "{}");
        assert_int_equal(cgroup_prepare_layout(&f.t, &leaf, &err), 0);
        snprintf(p, sizeof p, "%s/task-ut-leaf", dir);
        assert_int_equal(stat(p, &st), 0);
        fx_done(&f);
        rm_fake(dir);
}

/* ---- with a real writable cgroup (root here: v1; the VM: v2) ---- */

static char real_task[64];

/* Prepare a real task cgroup or skip the test. */
static bool real_prepare(struct fixture *f, const char *limits) {
        snprintf(real_task, sizeof real_task, "ut-%d-%ld", (int)getpid(), (long)now_ms());
        fx_init(f, real_task, limits);
        if (cgroup_prepare(&f->t, &err) < 0) {
                /* root always has a writable cgroup here: a failure is a bug, not a host limit */
                if (geteuid() == 0 || !strstr(err.msg, "has no writable cgroup"))
                        fail_msg("cgroup_prepare: %s", err.msg);
                sr_skip_reason("no writable cgroup for uid %u (root or a delegated cgroup v2 subtree needed)",
                               (unsigned)geteuid());
                policy_free(f->pol);
                return false;
        }
        if (cgroup_mode(&f->t) == CG_NONE) {
                sr_skip_reason("no writable cgroup for uid %u (root or a delegated cgroup v2 subtree needed)",
                               (unsigned)geteuid());
                fx_done(f);
                return false;
        }
        return true;
}

/* Start fn in the task cgroup the way the supervisor does: clone3 with
 * CLONE_INTO_CGROUP on v2, attach before the child proceeds on v1. */
static pid_t spawn(struct fixture *f, void (*fn)(int out), int *ret_out) {
        int go[2], res[2];
        struct clone_args ca;
        long pid;
        char c = 1;
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        assert_int_equal(pipe2(res, O_CLOEXEC), 0);
        memset(&ca, 0, sizeof ca);
        ca.exit_signal = SIGCHLD;
        if (cgroup_clone_fd(&f->t) >= 0) {
                ca.flags = CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)cgroup_clone_fd(&f->t);
        }
        pid = syscall(SYS_clone3, &ca, sizeof ca);
        assert_true(pid >= 0);
        if (pid == 0) {
                close(go[1]);
                close(res[0]);
                if (read(go[0], &c, 1) != 1)
                        _exit(99);
                fn(res[1]);
                _exit(0);
        }
        close(go[0]);
        close(res[1]);
        f->t.pid = (pid_t)pid;
        assert_int_equal(cgroup_attach(&f->t, &err), 0);
        assert_int_equal(write(go[1], &c, 1), 1);
        close(go[1]);
        *ret_out = res[0];
        return (pid_t)pid;
}

static bool in_task_cgroup(pid_t pid) {
        char p[64], buf[4096] = "";
        int fd;
        ssize_t n;
        snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        return strstr(buf, real_task) != NULL;
}

static void hog(int out) {
        size_t sz = 256u << 20;
        char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                _exit(2);
        for (size_t i = 0; i < sz; i += 4096)
                m[i] = 1;
        _exit(3); /* should have been OOM-killed */
}

static void test_real_oom(void **state) {
        struct fixture f;
        int out, st;
        if (!real_prepare(&f, "{\"memory\":\"32M\"}"))
                skip();
        pid_t pid = spawn(&f, hog, &out);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGKILL);
        close(out);
        fx_done(&f);
        assert_true(f.t.status.oom_killed);
        assert_true(f.t.status.memory_peak_kb > 16 * 1024);
        assert_true(f.t.status.memory_peak_kb <= 33 * 1024);
}

static void bomb(int out) {
        int n = 0;
        for (int i = 0; i < 100; i++) {
                pid_t p = fork();
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                if (p < 0)
                        break;
                n++;
        }
        if (write(out, &n, sizeof n) != sizeof n)
                _exit(4);
        pause();
}

static void test_real_pids_and_kill(void **state) {
        struct fixture f;
        int out, st, n = -1;
        if (!real_prepare(&f, "{\"pids\":8}"))
                skip();
        pid_t pid = spawn(&f, bomb, &out);
        assert_int_equal(read(out, &n, sizeof n), sizeof n);
        assert_int_equal(n, 7); /* itself + 7 = pids.max */
        assert_true(in_task_cgroup(pid));
        assert_false(in_task_cgroup(getpid())); /* the supervisor stays outside */
        cgroup_kill(&f.t);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st));
        close(out);
        fx_done(&f);
        if (f.t.status.pids_peak >= 0)
                assert_int_equal(f.t.status.pids_peak, 8);
}

/* Double-forked, new session, SIGTERM ignored: still killed. */
static void escaper(int out) {
        pid_t p = fork();
        if (p == 0) {
                setsid();
                signal(SIGTERM, SIG_IGN);
                if (fork() == 0) {
                        pid_t me = getpid();
                        signal(SIGTERM, SIG_IGN);
                        if (write(out, &me, sizeof me) != sizeof me)
                                _exit(5);
                        for (;;)
                                pause();
                }
                _exit(0);
        }
        signal(SIGTERM, SIG_IGN);
        for (;;)
                pause();
}

static void test_real_kill_escapers(void **state) {
        struct fixture f;
        int out, st;
        pid_t gg = -1;
        if (!real_prepare(&f, "{}"))
                skip();
        assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        pid_t pid = spawn(&f, escaper, &out);
        assert_int_equal(read(out, &gg, sizeof gg), sizeof gg);
        assert_true(in_task_cgroup(gg));
        kill(pid, SIGTERM);
        kill(gg, SIGTERM);
        usleep(50000);
        assert_int_equal(kill(gg, 0), 0); /* ignored SIGTERM */
        cgroup_kill(&f.t);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        assert_int_equal(waitpid(gg, &st, 0), gg); /* reparented to us, the subreaper */
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        while (waitpid(-1, &st, WNOHANG) > 0)
                ;
        prctl(PR_SET_CHILD_SUBREAPER, 0);
        close(out);
        fx_done(&f);
        assert_string_not_equal(f.t.status.cgroup, "none");
}

static void spin(int out) {
        int64_t end = now_ms() + 1000;
        volatile unsigned long x = 0;
        while (now_ms() < end)
                x++;
}

static void test_real_cpu_quota(void **state) {
        struct fixture f;
        int out, st;
        if (!real_prepare(&f, "{\"cpu\":0.5}"))
                skip();
        pid_t pid = spawn(&f, spin, &out);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        close(out);
        fx_done(&f);
        int64_t used = f.t.status.cpu_user_ms + f.t.status.cpu_sys_ms;
        print_message("cpu 0.5 for 1000 ms wall: used %lld ms\n", (long long)used);
        assert_true(used >= 100 && used <= 700); /* the cap is the point; other jobs may share the cores */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_hybrid),
                cmocka_unit_test(test_layout_v2_and_comount),
                cmocka_unit_test(test_layout_roots_and_escapes),
                cmocka_unit_test(test_formats),
                cmocka_unit_test(test_refuse_without_cgroup),
                cmocka_unit_test(test_optional_without_cgroup),
                cmocka_unit_test(test_fake_v2_controller_missing),
                cmocka_unit_test(test_real_oom),
                cmocka_unit_test(test_real_pids_and_kill),
                cmocka_unit_test(test_real_kill_escapers),
                cmocka_unit_test(test_real_cpu_quota),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
