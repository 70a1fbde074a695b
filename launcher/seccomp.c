/* seccomp: libseccomp compiles the policy to BPF in the supervisor (with an
 * on-disk cache, so a warm launch never pays the compile), and the payload
 * loads the program with a plain seccomp(2) as its last step before execve. */
#include "launcher/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_INSNS 4096 /* BPF_MAXINSNS */

struct seccomp_ctx {
        struct seccomp_bpf bpf;
        enum seccomp_origin origin;
};

static void release_ctx(scmp_filter_ctx *c) {
        if (*c)
                seccomp_release(*c);
}

static int compile_parsed(const struct policy_seccomp *s, struct seccomp_bpf *ret, struct sr_error *e) {
        _cleanup_(release_ctx) scmp_filter_ctx c = NULL;
        _cleanup_close_ int mfd = -1;
        _cleanup_free_ struct sock_filter *prog = NULL;
        struct stat st;
        int r;

        c = seccomp_init(s->default_action);
        if (!c)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "seccomp",
                               "seccomp (%s): libseccomp refused the default action", s->source ? s->source : "?");
        /* Another architecture's syscall numbers (i386 via int 0x80, x32 via
         * the 0x40000000 bit) are killed unless the policy lists it. */
        if ((r = seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
            (r = seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 0)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "seccomp", "seccomp: cannot set filter attributes: %s",
                               strerror(-r));
        /* A binary tree keeps long profiles fast; older libseccomp lacks it. */
        (void)seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        for (size_t i = 0; i < s->n_arches; i++) {
                r = seccomp_arch_add(c, s->arches[i]);
                if (r < 0 && r != -EEXIST)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "seccomp", "seccomp (%s): architecture %u: %s",
                                       s->source, s->arches[i], strerror(-r));
        }
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct seccomp_rule *rule = &s->rules[i];
                struct scmp_arg_cmp cmp[SECCOMP_MAX_ARGS];
                /* libseccomp refuses rules that repeat the default action; they change nothing. */
                if (rule->action == s->default_action)
                        continue;
                for (size_t k = 0; k < rule->n_args; k++)
                        cmp[k] = (struct scmp_arg_cmp){ .arg = rule->args[k].index,
                                                        .op = (enum scmp_compare)rule->args[k].op,
                                                        .datum_a = rule->args[k].value,
                                                        .datum_b = rule->args[k].value_two };
                r = seccomp_rule_add_array(c, rule->action, rule->nr, (unsigned)rule->n_args, cmp);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "seccomp",
                                       "seccomp (%s): rule %zu for %s: libseccomp: %s", s->source, i, rule->name,
                                       strerror(-r));
        }
        /* libseccomp 2.5 exports to an fd only: a memfd keeps it in memory. */
        mfd = memfd_create("sealrun-seccomp", MFD_CLOEXEC);
        if (mfd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "seccomp", "memfd_create: %s", strerror(errno));
        if ((r = seccomp_export_bpf(c, mfd)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "seccomp", "seccomp (%s): export: %s", s->source, strerror(-r));
        if (fstat(mfd, &st) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "seccomp", "fstat: %s", strerror(errno));
        if (st.st_size <= 0 || st.st_size % (off_t)sizeof *prog || st.st_size / (off_t)sizeof *prog > MAX_INSNS)
                return sr_fail(e, SR_EXIT_LAUNCHER, E2BIG, "seccomp",
                               "seccomp (%s): the filter has %lld instructions (at most %d)", s->source,
                               (long long)(st.st_size / (off_t)sizeof *prog), MAX_INSNS);
        prog = malloc((size_t)st.st_size);
        if (!prog)
                return -ENOMEM;
        if (pread(mfd, prog, (size_t)st.st_size, 0) != st.st_size)
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "seccomp", "cannot read the exported filter");
        ret->len = (size_t)st.st_size / sizeof *prog;
        ret->prog = TAKE_PTR(prog);
        ret->flags = s->flags;
        return 0;
}

int seccomp_compile(const struct policy_seccomp *s, struct seccomp_bpf *ret, struct sr_error *e) {
        struct policy_seccomp builtin = { 0 };
        int r;
        if (s->set && !s->builtin)
                return compile_parsed(s, ret, e);
        /* No section, or {"profile": "default"}: the stock profile. */
        r = pol_seccomp_builtin(&builtin, e);
        if (r == 0)
                r = compile_parsed(&builtin, ret, e);
        pol_seccomp_free(&builtin);
        return r;
}

int seccomp_get(const struct policy_seccomp *s, int dirfd, uid_t owner, struct seccomp_bpf *ret,
                enum seccomp_origin *ret_origin, struct sr_error *e) {
        char key[SECCOMP_KEY_HEX];
        int r, lr = -ENOENT;

        r = seccomp_embedded_get(s, ret);
        if (r == -ENOMEM)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        if (r == 0) {
                *ret_origin = SECCOMP_EMBEDDED;
                return 0;
        }
        if (dirfd >= 0) {
                if ((r = seccomp_cache_key(s, key)) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "seccomp", "seccomp: cannot hash the filter");
                lr = seccomp_cache_lookup(dirfd, key, owner, ret);
                if (lr == 0) {
                        *ret_origin = SECCOMP_CACHE_HIT;
                        return 0;
                }
                if (lr == -ENOMEM)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        }
        if ((r = seccomp_compile(s, ret, e)) < 0)
                return r;
        if (dirfd < 0) {
                *ret_origin = SECCOMP_CACHE_OFF;
                return 0;
        }
        /* A bad entry is never trusted: the store renames a new one over it
         * (a failed store only costs the next launch a compile). */
        (void)seccomp_cache_store(dirfd, key, ret);
        *ret_origin = lr == -ENOENT ? SECCOMP_CACHE_MISS : SECCOMP_CACHE_REBUILT;
        return 0;
}

int seccomp_prepare(struct task *t, struct sr_error *e) {
        _cleanup_close_ int dir = -1;
        t->seccomp = calloc(1, sizeof *t->seccomp);
        if (!t->seccomp)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        /* Names a borrowed profile allows that libseccomp does not know: left
         * out, and said once in the status. */
        t->status.seccomp_skipped = (const char *const *)t->pol->seccomp.skipped;
        t->status.n_seccomp_skipped = t->pol->seccomp.n_skipped;
        /* No "seccomp" section means the stock profile, never no filter. */
        dir = seccomp_uses_embedded(&t->pol->seccomp) ? -1 : seccomp_cache_dir_open(t);
        return seccomp_get(&t->pol->seccomp, dir, geteuid(), &t->seccomp->bpf, &t->seccomp->origin, e);
}

int seccomp_apply(struct task *t, struct sr_error *e) {
        struct seccomp_ctx *c = t->seccomp;
        struct sock_fprog fp;
        if (!c || !c->bpf.prog || !c->bpf.len)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "seccomp", "seccomp: no filter was prepared");
        /* Unprivileged filters need it, and the design needs it first. */
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPERM, "seccomp", "seccomp: no_new_privs is not set");
        fp.len = (unsigned short)c->bpf.len;
        fp.filter = c->bpf.prog;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, c->bpf.flags, &fp) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "seccomp", "seccomp: cannot load the filter: %s",
                               strerror(errno));
        return 0;
}

/* A memfd is code no mount option or Landlock rule vetted once it can be
 * executed (execveat(fd, "", AT_EMPTY_PATH) or /proc/self/fd/N). The stock
 * filter lets memfd_create through only with MFD_NOEXEC_SEAL; this covers
 * every profile where the kernel allows it: vm.memfd_noexec is per pid
 * namespace since 6.3 and only ever raised, and 2 makes every memfd of the
 * namespace non-executable and refuses MFD_EXEC. The sysctl is written
 * through the host's /proc before pivot_root and before the id switch: the
 * kernel checks sysctl write permission against the global root uid, so
 * only a root caller's sandbox can set it (an unprivileged caller's cannot,
 * whatever its capabilities in the user namespace). */
int seccomp_memfd_noexec(struct task *t, struct sr_error *e) {
        _cleanup_close_ int fd = -1;
        if (!t->as_root)
                return 0;
        fd = open("/proc/sys/vm/memfd_noexec", O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0 && errno == ENOENT)
                return 0; /* before 6.3: the stock filter alone refuses executable memfds */
        if (fd < 0 || write(fd, "2\n", 2) != 2)
                return sr_fail(e, SR_EXIT_REFUSED, errno, "memfd_noexec",
                               "cannot set vm.memfd_noexec=2 in the sandbox's pid namespace: %s", strerror(errno));
        return 0;
}

void seccomp_task_release(struct task *t) {
        if (!t->seccomp)
                return;
        free(t->seccomp->bpf.prog);
        free(t->seccomp);
        t->seccomp = NULL;
}
