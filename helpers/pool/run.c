/* sealrun-pool: run a task through the real sealrun (key and status by fd), reap it, stop it. */
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers/pool/pool.h"

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
                      struct argv_buf *a) {
        const struct pool_config *c = &p->cfg;
        int r = 0;
        r |= push(a, p->sealrun);
        r |= push(a, "--tenant"), r |= push(a, c->tenant);
        r |= push(a, "--task"), r |= push(a, rq->task);
        r |= push(a, "--policy"), r |= push(a, c->policy);
        r |= push(a, "--status-fd"), r |= push(a, "4");
        if (c->timeout_s > 0)
                r |= push(a, "--timeout"), r |= push(a, timeout);
        if (c->audit_socket)
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
static _Noreturn void child_exec(struct pool *p, pid_t parent, char **argv, int key_fd, int status_fd, int out_fd,
                                 int err_fd) {
        char xdg[4200];
        char *envp[4] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL, NULL, NULL };
        size_t ne = 1;
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
        if (p->runtime_dir) {
                snprintf(xdg, sizeof xdg, "XDG_RUNTIME_DIR=%s", p->runtime_dir);
                envp[ne++] = xdg;
        }
        /* a root pool's tenant id registry, when the operator moved it */
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, "SEALRUN_TENANT_IDS=", 19) == 0) {
                        envp[ne++] = *e;
                        break;
                }
        execve(argv[0], argv, envp);
        fprintf(stderr, "sealrun-pool: %s: cannot execute %s: %s\n", p->cfg.tenant, argv[0], strerror(errno));
        _exit(errno == ENOENT ? SR_EXIT_NOTFOUND : SR_EXIT_NOEXEC);
}

int run_start(struct pool *p, const char *name, struct pool_request *rq, struct sr_error *e) {
        struct pool_task *slot = NULL;
        struct argv_buf a = { 0 };
        _cleanup_close_ int status_fd = -1, key_fd = -1, out_fd = -1, err_fd = -1;
        _cleanup_free_ char *profile = NULL, *work = NULL;
        char part[160], timeout[32];
        pid_t pid;
        int r;

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
        if ((r = build_argv(p, rq, profile, timeout, work, &a)) < 0) {
                unlinkat(p->done_fd, part, 0);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        }
        pid_t parent = getpid();
        pid = fork();
        if (pid == 0)
                child_exec(p, parent, a.v, key_fd, status_fd, out_fd, err_fd);
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
        p->running++;
        fprintf(stderr, "sealrun-pool: %s: task %s started (sealrun pid %d)\n", p->cfg.tenant, slot->task, (int)pid);
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
                if (!t)
                        continue;
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
