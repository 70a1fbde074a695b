/* sealrun-pool: run a task through the real sealrun (key and status by fd), reap it, stop it. */
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers/pool/pool.h"
#include "policy/claim.h"

#define KILL_PREBUILT_MS 5000 /* on stop: an unclaimed sandbox's teardown */

/* Fixed fds in sealrun: the pool key (only when the task has a profile) and the status stream. */
#define RUN_KEY_FD 3
#define RUN_STATUS_FD 4

struct argv_buf {
        char **v;
        size_t n, cap;
};

static int push(struct argv_buf *a, const char *s) {
        if (a->n + 2 > a->cap) {
                char **nv = realloc(a->v, (a->cap = a->cap ? a->cap * 2 : 64) * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                a->v = nv;
        }
        a->v[a->n++] = (char *)s;
        a->v[a->n] = NULL;
        return 0;
}

/* sealrun --tenant T --task ID --policy P --status-fd 4 [--timeout S] [--audit-socket A]
 *         [--profile DIR/NAME --key-fd 3 --trust F... --revoked F --scope S...] -- COMMAND...
 * Nothing secret is on it: the key travels as fd 3. */
static int build_argv(struct pool *p, struct pool_request *rq, char *profile, char *timeout, char *work,
                      struct argv_buf *a, bool claim) {
        const struct pool_config *c = &p->cfg;
        int r = 0;
        /* a claim of a pre-built sandbox: its task options only (the
         * sandbox has the pool's sealrun, tenant, policy and audit socket) */
        if (!claim) {
                r |= push(a, p->sealrun);
                r |= push(a, "--tenant"), r |= push(a, c->tenant);
        }
        r |= push(a, "--task"), r |= push(a, rq->task);
        if (!claim)
                r |= push(a, "--policy"), r |= push(a, c->policy);
        r |= push(a, "--status-fd"), r |= push(a, "4");
        if (c->timeout_s > 0)
                r |= push(a, "--timeout"), r |= push(a, timeout);
        if (c->audit_socket && !claim)
                r |= push(a, "--audit-socket"), r |= push(a, c->audit_socket);
        /* The task's own copy of its work dir (done/<task>.work), never the
         * source: the policy must allow extra binds, or sealrun refuses (77). */
        if (work) {
                r |= push(a, "--bind"), r |= push(a, work), r |= push(a, c->work_path);
                r |= push(a, "--chdir"), r |= push(a, c->work_path);
        }
        if (rq->profile) {
                r |= push(a, "--profile"), r |= push(a, profile);
                r |= push(a, "--key-fd"), r |= push(a, "3");
                for (size_t i = 0; i < c->n_trust; i++)
                        r |= push(a, "--trust"), r |= push(a, c->trust[i]);
                if (c->revoked)
                        r |= push(a, "--revoked"), r |= push(a, c->revoked);
                for (size_t i = 0; i < rq->n_scopes; i++)
                        r |= push(a, "--scope"), r |= push(a, rq->scopes[i]);
        }
        r |= push(a, "--");
        for (size_t i = 0; i < rq->argc; i++)
                r |= push(a, rq->argv[i]);
        return r ? -ENOMEM : 0;
}

extern char **environ;

/* In the forked child: stdin /dev/null, stdout/stderr to the task's output
 * files, the key and status fds in place, everything else closed, exec. */
/* sealrun's environment: PATH, XDG_RUNTIME_DIR (its slot files) and, for a
 * root pool whose operator moved it, the tenant id registry. */
static void sealrun_env(struct pool *p, char *envp[4], char xdg[4200]) {
        size_t ne = 0;
        envp[ne++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        envp[1] = envp[2] = envp[3] = NULL;
        if (p->runtime_dir) {
                snprintf(xdg, 4200, "XDG_RUNTIME_DIR=%s", p->runtime_dir);
                envp[ne++] = xdg;
        }
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, "SEALRUN_TENANT_IDS=", 19) == 0) {
                        envp[ne++] = *e;
                        break;
                }
}

static _Noreturn void child_exec(struct pool *p, pid_t parent, char **argv, int key_fd, int status_fd, int out_fd,
                                 int err_fd) {
        char xdg[4200];
        char *envp[4];
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* A worker that dies lets its tasks end cleanly (sealrun scrubs on SIGTERM). */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(SR_EXIT_TEMPFAIL); /* the worker died before we armed it */
        /* Move both above the targets first so that neither dup2 clobbers the other. */
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        status_fd = fcntl(status_fd, F_DUPFD, 10);
        out_fd = fcntl(out_fd, F_DUPFD, 10);
        err_fd = fcntl(err_fd, F_DUPFD, 10);
        if (key_fd >= 0)
                key_fd = fcntl(key_fd, F_DUPFD, 10);
        if (null_fd < 0 || status_fd < 0 || out_fd < 0 || err_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
            dup2(err_fd, 2) < 0 || dup2(status_fd, RUN_STATUS_FD) < 0 || (key_fd >= 0 && dup2(key_fd, RUN_KEY_FD) < 0))
                _exit(SR_EXIT_LAUNCHER);
        if (key_fd < 0)
                close(RUN_KEY_FD);
        syscall(SYS_close_range, RUN_STATUS_FD + 1, ~0U, 0);
        sealrun_env(p, envp, xdg);
        execve(argv[0], argv, envp);
        fprintf(stderr, "sealrun-pool: %s: cannot execute %s: %s\n", p->cfg.tenant, argv[0], strerror(errno));
        _exit(errno == ENOENT ? SR_EXIT_NOTFOUND : SR_EXIT_NOEXEC);
}

/* ---- pre-built sandboxes (sealrun --prepare --claim-fd 3) ---------------- */

void prebuilt_fill(struct pool *p) {
        for (long i = 0; i < p->cfg.prebuilt; i++) {
                struct pool_prebuilt *b = &p->pre[i];
                char fdarg[] = "3", xdg[4200], *envp[4];
                int sp[2];
                pid_t parent = getpid();
                if (b->pid)
                        continue;
                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                        return;
                b->pid = fork();
                if (b->pid == 0) {
                        char *argv[] = { p->sealrun, "--prepare",   "--claim-fd", fdarg, "--tenant", p->cfg.tenant,
                                         "--policy", p->cfg.policy, NULL,         NULL,  NULL };
                        sigset_t none;
                        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (p->cfg.audit_socket)
                                argv[8] = "--audit-socket", argv[9] = p->cfg.audit_socket;
                        sigemptyset(&none);
                        sigprocmask(SIG_SETMASK, &none, NULL);
                        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                                _exit(SR_EXIT_TEMPFAIL);
                        /* stderr stays the pool's (the journal) until a claim brings the task's */
                        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(sp[1], 3) < 0)
                                _exit(SR_EXIT_LAUNCHER);
                        syscall(SYS_close_range, 4, ~0U, 0);
                        sealrun_env(p, envp, xdg);
                        execve(argv[0], argv, envp);
                        _exit(SR_EXIT_NOEXEC);
                }
                close(sp[1]);
                if (b->pid < 0) {
                        b->pid = 0;
                        close(sp[0]);
                        return;
                }
                b->sock = sp[0];
                b->ready = false;
        }
}

/* A built one (its READY arrived), taken out of the set: its socket, and
 * the supervisor's pid in *ret_pid; -1 when none is ready. */
int prebuilt_take(struct pool *p, pid_t *ret_pid) {
        for (long i = 0; i < p->cfg.prebuilt; i++) {
                struct pool_prebuilt *b = &p->pre[i];
                struct claim_msg m;
                size_t n;
                int fds[1], sock;
                if (!b->pid)
                        continue;
                if (!b->ready && claim_recv(b->sock, &m, fds, 0, &n, 0) == 0 && m.type == CLAIM_READY &&
                    m.value == b->pid)
                        b->ready = true;
                if (!b->ready)
                        continue;
                sock = b->sock;
                *ret_pid = b->pid;
                *b = (struct pool_prebuilt){ .sock = -1 };
                return sock;
        }
        return -1;
}

/* The claim: the task's options and fds, as sealrun --run would send them. */
static int send_claim(struct pool *p, int sock, struct argv_buf *a, int key_fd, int status_fd, int out_fd, int err_fd) {
        char xdg[4200], *envp[4];
        int numbers[2] = { RUN_STATUS_FD, RUN_KEY_FD }, fds[CLAIM_FIXED_FDS + 2], args, cwd, null_fd, r;
        size_t n = key_fd >= 0 ? 2 : 1;
        sealrun_env(p, envp, xdg);
        args = claim_args_new(a->v, a->n, envp, numbers, n);
        cwd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (args < 0 || cwd < 0 || null_fd < 0)
                r = args < 0 ? args : -errno;
        else {
                fds[0] = args, fds[1] = cwd, fds[2] = null_fd, fds[3] = out_fd, fds[4] = err_fd;
                fds[5] = status_fd, fds[6] = key_fd;
                r = claim_send(sock, CLAIM_TASK, 0, fds, CLAIM_FIXED_FDS + n);
        }
        if (args >= 0)
                close(args);
        if (cwd >= 0)
                close(cwd);
        if (null_fd >= 0)
                close(null_fd);
        return r;
}

/* A pre-built sandbox's supervisor ended before a claim: replaced by fill. */
static bool prebuilt_reaped(struct pool *p, pid_t pid, int ws) {
        for (long i = 0; i < p->cfg.prebuilt; i++) {
                struct pool_prebuilt *b = &p->pre[i];
                if (b->pid != pid)
                        continue;
                close(b->sock);
                *b = (struct pool_prebuilt){ .sock = -1 };
                if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                        fprintf(stderr,
                                "sealrun-pool: %s: a pre-built sandbox ended before a claim (%s %d); replaced\n",
                                p->cfg.tenant, WIFEXITED(ws) ? "exit" : "signal",
                                WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
                return true;
        }
        return false;
}

void prebuilt_stop(struct pool *p) {
        int64_t deadline = now_ms() + KILL_PREBUILT_MS;
        bool left = false;
        for (long i = 0; i < p->cfg.prebuilt; i++)
                if (p->pre[i].pid) {
                        /* EOF on its claim socket, and SIGTERM: torn down unused */
                        close(p->pre[i].sock);
                        p->pre[i].sock = -1;
                        kill(p->pre[i].pid, SIGTERM);
                }
        do {
                left = false;
                for (long i = 0; i < p->cfg.prebuilt; i++) {
                        struct pool_prebuilt *b = &p->pre[i];
                        int ws;
                        if (b->pid && waitpid(b->pid, &ws, WNOHANG) == b->pid)
                                b->pid = 0;
                        left |= b->pid != 0;
                }
                if (left)
                        usleep(10000);
        } while (left && now_ms() < deadline);
        for (long i = 0; i < p->cfg.prebuilt; i++)
                if (p->pre[i].pid) {
                        kill(p->pre[i].pid, SIGKILL);
                        waitpid(p->pre[i].pid, NULL, 0);
                        p->pre[i].pid = 0;
                }
}

int run_start(struct pool *p, const char *name, struct pool_request *rq, struct sr_error *e) {
        struct pool_task *slot = NULL;
        struct argv_buf a = { 0 };
        _cleanup_close_ int status_fd = -1, key_fd = -1, out_fd = -1, err_fd = -1;
        _cleanup_free_ char *profile = NULL, *work = NULL;
        char part[160], timeout[32];
        pid_t pid = 0;
        int r, claim_sock;

        for (long i = 0; i < p->cfg.max_tasks && !slot; i++)
                if (!p->tasks[i].pid)
                        slot = &p->tasks[i];
        if (!slot)
                return sr_fail(e, SR_EXIT_TEMPFAIL, EBUSY, "pool-full", "no free task slot");
        if (rq->profile) {
                if (!p->cfg.profiles_dir)
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "no-profiles",
                                       "%s: $.profile: this pool has no profiles_dir configured", name);
                if (p->key_dir_fd < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "no-pool-key",
                                       "%s: $.profile: this pool has no pool key", name);
                /* A fresh open file description per task: concurrent sealruns
                 * must not share a file offset. */
                key_fd = openat(p->key_dir_fd, p->key_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (key_fd < 0)
                        return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "no-pool-key", "pool key %s: cannot open: %s",
                                       p->key_name, strerror(errno));
                if (asprintf(&profile, "%s/%s", p->cfg.profiles_dir, rq->profile) < 0)
                        return -ENOMEM;
        }
        snprintf(part, sizeof part, "%s.part", rq->task);
        status_fd = openat(p->done_fd, part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (status_fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "spool", "done/%s: cannot create: %s", part,
                               strerror(errno));
        if (rq->workdir && (r = workdir_prepare(p, name, rq, &work, e)) < 0) {
                unlinkat(p->done_fd, part, 0);
                return r;
        }
        /* The payload's output (and sealrun's own error line) per task, not in the pool's journal. */
        snprintf(part, sizeof part, "%s.out", rq->task);
        out_fd = openat(p->done_fd, part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
        snprintf(part, sizeof part, "%s.err", rq->task);
        err_fd = openat(p->done_fd, part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
        snprintf(part, sizeof part, "%s.part", rq->task);
        if (out_fd < 0 || err_fd < 0) {
                r = errno;
                unlinkat(p->done_fd, part, 0);
                return sr_fail(e, SR_EXIT_LAUNCHER, r, "spool", "done/%s.out or .err: cannot create: %s", rq->task,
                               strerror(r));
        }
        snprintf(timeout, sizeof timeout, "%ld", p->cfg.timeout_s);
        /* a work dir is a bind: it narrows the build, so such a task gets a
         * fresh sealrun (docs/prebuilt.md); any other takes a pre-built one */
        claim_sock = work ? -1 : prebuilt_take(p, &pid);
        if ((r = build_argv(p, rq, profile, timeout, work, &a, claim_sock >= 0)) < 0) {
                if (claim_sock >= 0)
                        close(claim_sock);
                unlinkat(p->done_fd, part, 0);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        }
        if (claim_sock >= 0) {
                r = send_claim(p, claim_sock, &a, key_fd, status_fd, out_fd, err_fd);
                if (r < 0) {
                        close(claim_sock);
                        /* its supervisor sees EOF and tears it down unused */
                        free(a.v);
                        unlinkat(p->done_fd, part, 0);
                        return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "prebuilt",
                                       "cannot hand the task to a pre-built "
                                       "sandbox: %s",
                                       strerror(-r));
                }
        } else {
                pid_t parent = getpid();
                pid = fork();
                if (pid == 0)
                        child_exec(p, parent, a.v, key_fd, status_fd, out_fd, err_fd);
        }
        free(a.v);
        if (pid < 0) {
                unlinkat(p->done_fd, part, 0);
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "fork", "cannot fork: %s", strerror(errno));
        }
        slot->pid = pid;
        slot->task = TAKE_PTR(rq->task);
        slot->claimed = strdup(name);
        slot->status_fd = TAKE_FD(status_fd);
        slot->started_ms = now_ms();
        slot->kill_stage = 0;
        slot->claim_sock = claim_sock > 0 ? claim_sock : 0;
        p->running++;
        fprintf(stderr, "sealrun-pool: %s: task %s started (sealrun pid %d%s)\n", p->cfg.tenant, slot->task, (int)pid,
                claim_sock >= 0 ? ", pre-built sandbox" : "");
        return 0;
}

/* One journal line per finished task (its status file has the details). */
static void log_end(struct pool *p, struct pool_task *t, int code) {
        fprintf(stderr, "sealrun-pool: %s: task %s ended: exit %d after %lld ms\n", p->cfg.tenant, t->task, code,
                (long long)(now_ms() - t->started_ms));
}

void run_reap(struct pool *p) {
        for (;;) {
                int ws, code, r;
                char why[160];
                pid_t pid = waitpid(-1, &ws, WNOHANG);
                struct pool_task *t = NULL;
                if (pid <= 0)
                        return;
                for (long i = 0; i < p->cfg.max_tasks; i++)
                        if (p->tasks[i].pid == pid)
                                t = &p->tasks[i];
                if (!t) {
                        (void)prebuilt_reaped(p, pid, ws);
                        continue;
                }
                code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                if (WIFEXITED(ws))
                        snprintf(why, sizeof why, "sealrun exited with %d without a final status", code);
                else
                        snprintf(why, sizeof why, "sealrun was killed by signal %d before writing a final status",
                                 WTERMSIG(ws));
                if ((r = spool_finish(p, t->task, t->status_fd, code, why)) < 0)
                        fprintf(stderr, "sealrun-pool: %s: done/%s.json: cannot record the status: %s\n", p->cfg.tenant,
                                t->task, strerror(-r));
                log_end(p, t, code);
                unlinkat(p->claimed_fd, t->claimed, 0);
                close(t->status_fd);
                if (t->claim_sock > 0)
                        close(t->claim_sock);
                free(t->task);
                free(t->claimed);
                *t = (struct pool_task){ .status_fd = -1 };
                p->running--;
        }
}

/* The sandbox init's host pid from sealrun's first status line, if it is
 * still sealrun's child (so a recycled pid is never signalled). */
static int sandbox_pidfd(struct pool_task *t) {
        char buf[512], path[64], stat[512];
        ssize_t n = pread(t->status_fd, buf, sizeof buf - 1, 0);
        json_t *o;
        long long pid = 0;
        int fd, sfd, ppid = 0;
        if (n <= 0)
                return -ENOENT;
        buf[n] = 0;
        if (strchr(buf, '\n'))
                *strchr(buf, '\n') = 0;
        o = json_loads(buf, 0, NULL);
        if (json_is_integer(json_object_get(o, "pid")))
                pid = json_integer_value(json_object_get(o, "pid"));
        json_decref(o);
        if (pid <= 1 || pid > INT32_MAX)
                return -ENOENT;
        fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
        if (fd < 0)
                return -errno;
        snprintf(path, sizeof path, "/proc/%lld/stat", pid);
        sfd = open(path, O_RDONLY | O_CLOEXEC);
        n = sfd >= 0 ? read(sfd, stat, sizeof stat - 1) : -1;
        if (sfd >= 0)
                close(sfd);
        if (n > 0) {
                stat[n] = 0;
                char *rp = strrchr(stat, ')');
                if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
                        ppid = 0;
        }
        if (ppid != t->pid) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

void run_stop(struct pool *p, int stage) {
        for (long i = 0; i < p->cfg.max_tasks; i++) {
                struct pool_task *t = &p->tasks[i];
                if (!t->pid || t->kill_stage >= stage)
                        continue;
                t->kill_stage = stage;
                if (stage == 1) {
                        /* sealrun forwards it to the sandbox, then scrubs and reports */
                        kill(t->pid, SIGTERM);
                } else if (stage == 2) {
                        /* The payload ignored SIGTERM: kill the sandbox's init, which
                         * takes its pid namespace down; sealrun still cleans up. */
                        int fd = sandbox_pidfd(t);
                        if (fd >= 0) {
                                syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
                                close(fd);
                        }
                        fprintf(stderr, "sealrun-pool: %s: task %s: killed its sandbox after the stop grace period\n",
                                p->cfg.tenant, t->task);
                } else {
                        kill(t->pid, SIGKILL);
                        fprintf(stderr, "sealrun-pool: %s: task %s: killed sealrun (no scrub confirmation)\n",
                                p->cfg.tenant, t->task);
                }
        }
}
