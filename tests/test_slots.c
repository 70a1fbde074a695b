/* Unit tests of the per-tenant slots: directory creation and ownership checks,
 * non-blocking flock, exit 75 at once or after --wait-slot, policy cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "launcher/slots.h"
#include "policy/policy.h"

static struct sr_error err;
static char tmp[64];

static int setup(void **state) {
        snprintf(tmp, sizeof tmp, "/tmp/ut-slots-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        return system(cmd);
}

static void test_dir_created_private(void **state) {
        int fd = -1;
        char p[256];
        struct stat st;
        assert_int_equal(slot_open_dir(tmp, "sealrun/slots", "acme", &fd, &err), 0);
        assert_true(fd >= 0);
        close(fd);
        snprintf(p, sizeof p, "%s/sealrun/slots/acme", tmp);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, geteuid());
        /* again: exists, fine */
        assert_int_equal(slot_open_dir(tmp, "sealrun/slots", "acme", &fd, &err), 0);
        close(fd);
        /* not a slug */
        assert_true(slot_open_dir(tmp, "sealrun/slots", "../x", &fd, &err) < 0);
}

static void test_try_and_release(void **state) {
        int dir = -1, a = -1, b = -1, c = -1, other;
        long ia = -1, ib = -1, ic = -1;
        char p[256];
        struct stat st;
        assert_int_equal(slot_open_dir(tmp, "s", "acme", &dir, &err), 0);
        assert_int_equal(slot_try(dir, 2, &a, &ia, &err), 0);
        assert_int_equal(slot_try(dir, 2, &b, &ib, &err), 0);
        assert_int_equal(ia, 0);
        assert_int_equal(ib, 1);
        assert_int_equal(slot_try(dir, 2, &c, &ic, &err), -EAGAIN);
        /* a bigger N sees a third slot */
        assert_int_equal(slot_try(dir, 3, &c, &ic, &err), 0);
        assert_int_equal(ic, 2);
        close(c);
        /* the lock is the open file's: another open of the same file is refused */
        other = openat(dir, "slot-0", O_RDONLY | O_CLOEXEC);
        assert_true(other >= 0);
        assert_true(flock(other, LOCK_EX | LOCK_NB) < 0);
        close(other);
        /* closing frees it, as a crashed supervisor's exit would */
        close(a);
        assert_int_equal(slot_try(dir, 2, &a, &ia, &err), 0);
        assert_int_equal(ia, 0);
        snprintf(p, sizeof p, "%s/s/acme/slot-0", tmp);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        close(a);
        close(b);
        close(dir);
}

static void test_crashed_holder_frees(void **state) {
        int dir = -1, fd = -1, st;
        long idx;
        assert_int_equal(slot_open_dir(tmp, "s", "crash", &dir, &err), 0);
        pid_t pid = fork();
        if (pid == 0) {
                int f2;
                long i2;
                if (slot_try(dir, 1, &f2, &i2, &err) != 0)
                        _exit(1);
                raise(SIGKILL);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(slot_try(dir, 1, &fd, &idx, &err), 0);
        close(fd);
        close(dir);
}

static void test_hostile_dirs(void **state) {
        int fd = -1;
        char p[256], q[256];
        /* group/other-writable tenant directory: someone else could plant slot files */
        snprintf(p, sizeof p, "%s/w", tmp);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/w/acme", tmp);
        assert_int_equal(mkdir(p, 0700), 0);
        assert_int_equal(chmod(p, 0777), 0);
        assert_true(slot_open_dir(tmp, "w", "acme", &fd, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
        assert_non_null(strstr(err.msg, p));
        /* a symlink where the tenant dir should be */
        snprintf(p, sizeof p, "%s/l", tmp);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/l/acme", tmp);
        snprintf(q, sizeof q, "%s/w/acme", tmp);
        assert_int_equal(symlink(q, p), 0);
        assert_true(slot_open_dir(tmp, "l", "acme", &fd, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
        /* a slot file readable by others */
        int dir;
        assert_int_equal(slot_open_dir(tmp, "f", "acme", &dir, &err), 0);
        int sf = openat(dir, "slot-0", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        assert_true(sf >= 0);
        assert_int_equal(fchmod(sf, 0644), 0);
        close(sf);
        long idx;
        assert_true(slot_try(dir, 1, &fd, &idx, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
        close(dir);
        /* owned by another user (root can make that happen) */
        if (geteuid() == 0) {
                snprintf(p, sizeof p, "%s/o", tmp);
                assert_int_equal(mkdir(p, 0755), 0);
                snprintf(p, sizeof p, "%s/o/acme", tmp);
                assert_int_equal(mkdir(p, 0700), 0);
                assert_int_equal(chown(p, 65534, 65534), 0);
                assert_true(slot_open_dir(tmp, "o", "acme", &fd, &err) < 0);
                assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
                assert_non_null(strstr(err.msg, "uid 65534"));
                assert_string_equal(err.reason, "slots-squatted");
                /* a symlink in its place, made by someone else: squatted too */
                snprintf(p, sizeof p, "%s/s", tmp);
                assert_int_equal(mkdir(p, 0755), 0);
                snprintf(p, sizeof p, "%s/s/acme", tmp);
                assert_int_equal(symlink("/tmp", p), 0);
                assert_int_equal(lchown(p, 65534, 65534), 0);
                assert_true(slot_open_dir(tmp, "s", "acme", &fd, &err) < 0);
                assert_string_equal(err.reason, "slots-squatted");
                assert_non_null(strstr(err.msg, "symlink"));
        }
}

static void test_base_dir(void **state) {
        char buf[512];
        assert_int_equal(slot_base_dir(buf, sizeof buf), 0);
        if (geteuid() == 0)
                assert_string_equal(buf, "/run\nsealrun/slots");
        else
                assert_non_null(strstr(buf, "slots"));
        assert_int_equal(slot_base_dir(buf, 4), -ENAMETOOLONG);
}

/* ---- slot_acquire through a task ---- */

struct fx {
        struct cli cli;
        struct task t;
        struct policy *pol;
        int resolved; /* config_resolve's result */
};

static void fx_init(struct fx *f, const char *tenant, long cli_n, long wait_s, const char *limits) {
        char buf[512];
        memset(f, 0, sizeof *f);
        snprintf(buf, sizeof buf, "{\"version\":1,\"mounts\":[],\"limits\":%s}", limits);
        assert_int_equal(policy_parse("t.json", buf, strlen(buf), &f->pol, &err), 0);
        f->cli.tenant = tenant;
        f->cli.max_concurrent = cli_n;
        f->cli.wait_slot_s = wait_s;
        f->cli.status_fd = f->cli.key_fd = -1;
        f->t.pol = f->pol;
        f->resolved = config_resolve(&f->cli, f->pol, &f->t.cfg, &err);
        status_init(&f->t.status);
}

static void fx_done(struct fx *f) {
        slot_release(&f->t);
        assert_null(f->t.slot);
        policy_free(f->pol);
}

static void remove_tenant_dir(const char *tenant) {
        char base[512], cmd[700], *sub;
        assert_int_equal(slot_base_dir(base, sizeof base), 0);
        sub = strchr(base, '\n');
        *sub++ = 0;
        snprintf(cmd, sizeof cmd, "rm -rf '%s/%s/%s'", base, sub, tenant);
        assert_int_equal(system(cmd), 0);
}

static void test_acquire(void **state) {
        char tenant[64];
        struct fx a, b, c;
        int64_t t0;
        snprintf(tenant, sizeof tenant, "ut-slots-%d", (int)getpid());

        fx_init(&a, tenant, 1, 0, "{}");
        assert_int_equal(slot_acquire(&a.t, &err), 0);
        assert_non_null(a.t.slot);

        /* all busy: 75 at once */
        fx_init(&b, tenant, 1, 0, "{}");
        t0 = now_ms();
        assert_true(slot_acquire(&b.t, &err) < 0);
        assert_true(now_ms() - t0 < 500);
        assert_int_equal(err.exit_code, SR_EXIT_TEMPFAIL);
        assert_non_null(strstr(err.msg, tenant));
        assert_non_null(strstr(err.msg, "--wait-slot"));
        assert_null(b.t.slot);
        fx_done(&b);

        /* --wait-slot 1: 75 after about a second */
        fx_init(&b, tenant, 1, 1, "{}");
        t0 = now_ms();
        assert_true(slot_acquire(&b.t, &err) < 0);
        assert_true(now_ms() - t0 >= 1000 && now_ms() - t0 < 3000);
        assert_int_equal(err.exit_code, SR_EXIT_TEMPFAIL);
        fx_done(&b);

        /* another tenant is not affected */
        char other[80];
        snprintf(other, sizeof other, "%s-b", tenant);
        fx_init(&c, other, 1, 0, "{}");
        assert_int_equal(slot_acquire(&c.t, &err), 0);
        fx_done(&c);
        remove_tenant_dir(other);

        /* waiting gets the slot once the holder is gone: the forked child
         * shares the locked open file and keeps it for 300 ms */
        pid_t pid = fork();
        if (pid == 0) {
                usleep(300000);
                _exit(0);
        }
        fx_done(&a);
        fx_init(&b, tenant, 1, 5, "{}");
        assert_int_equal(slot_acquire(&b.t, &err), 0);
        fx_done(&b);
        waitpid(pid, NULL, 0);
        remove_tenant_dir(tenant);
}

static void test_policy_cap(void **state) {
        struct fx f;
        char tenant[64];
        snprintf(tenant, sizeof tenant, "ut-cap-%d", (int)getpid());
        /* the worker may narrow the policy's cap, never widen it */
        fx_init(&f, tenant, 5, 0, "{\"max_concurrent\":2}");
        assert_true(f.resolved < 0);
        assert_int_equal(err.exit_code, SR_EXIT_REFUSED);
        assert_non_null(strstr(err.msg, "limits.max_concurrent 2"));
        fx_done(&f);
        /* policy cap alone */
        struct fx g, h, i;
        fx_init(&g, tenant, -1, 0, "{\"max_concurrent\":2}");
        fx_init(&h, tenant, -1, 0, "{\"max_concurrent\":2}");
        fx_init(&i, tenant, 1, 0, "{\"max_concurrent\":2}");
        assert_int_equal(slot_acquire(&g.t, &err), 0);
        assert_true(slot_acquire(&i.t, &err) < 0); /* narrowed to 1: slot-0 busy */
        assert_int_equal(slot_acquire(&h.t, &err), 0);
        fx_done(&g);
        fx_done(&h);
        fx_done(&i);
        /* no cap: nothing taken, no tenant needed */
        fx_init(&f, NULL, -1, 0, "{}");
        assert_int_equal(slot_acquire(&f.t, &err), 0);
        assert_null(f.t.slot);
        fx_done(&f);
        /* a cap without a tenant: usage error */
        fx_init(&f, NULL, 2, 0, "{}");
        assert_true(slot_acquire(&f.t, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_LAUNCHER);
        fx_done(&f);
        remove_tenant_dir(tenant);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_dir_created_private, setup, teardown),
                cmocka_unit_test_setup_teardown(test_try_and_release, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crashed_holder_frees, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_dirs, setup, teardown),
                cmocka_unit_test(test_base_dir),
                cmocka_unit_test(test_acquire),
                cmocka_unit_test(test_policy_cap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
