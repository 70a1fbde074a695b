/* The supervisor: validate, prepare the host side, clone, supervise, report.
 *
 * Every refusal happens before the clone. After it, the supervisor only
 * relays: child step errors arrive over the sync socket with the step's name,
 * signals are forwarded to sandbox init, and the timeout escalates from
 * SIGTERM to init's kill-all (SIGUSR1) to SIGKILL of init and its cgroup. */
#include "launcher/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher/audit.h"
#include "launcher/cgroup.h"
#include "launcher/creds.h"
#include "launcher/hostcheck.h"
#include "launcher/mounts.h"
#include "launcher/net.h"
#include "launcher/sandbox.h"
#include "launcher/seccomp.h"
#include "launcher/slots.h"
#include "launcher/sync.h"
#include "launcher/task.h"
#include "launcher/trace.h"

extern char **environ;

#define SCRUB_WAIT_MS 2000  /* init's kill-all + scrub before SIGKILL */

static int fd_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

static int env_push(char ***envp, size_t *n, const char *name, const char *value) {
        char *kv, **nv;
        size_t nl = strlen(name);
        for (size_t i = 0; i < *n; i++)
                if (strncmp((*envp)[i], name, nl) == 0 && (*envp)[i][nl] == '=') {
                        if (asprintf(&kv, "%s=%s", name, value) < 0)
                                return -ENOMEM;
                        free((*envp)[i]);
                        (*envp)[i] = kv;
                        return 0;
                }
        nv = realloc(*envp, (*n + 2) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        *envp = nv;
        if (asprintf(&nv[*n], "%s=%s", name, value) < 0)
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

/* The payload's environment is built, never inherited: only names the
 * policy declares pass, then fixed values, then --setenv. */
static int build_env(struct task *t) {
        const struct policy *p = t->pol;
        size_t n = 0;
        t->envp = calloc(1, sizeof *t->envp);
        if (!t->envp)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_env_pass; i++) {
                const char *v = getenv(p->env_pass[i]);
                if (v && env_push(&t->envp, &n, p->env_pass[i], v) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < p->n_env_set; i++)
                if (env_push(&t->envp, &n, p->env_set[i].name, p->env_set[i].value) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < t->cli->n_setenv; i++)
                if (env_push(&t->envp, &n, t->cli->setenv[i].name, t->cli->setenv[i].value) < 0)
                        return -ENOMEM;
        return 0;
}

static int prepare(struct task *t, struct sr_error *e) {
        const struct cli *c = t->cli;
        int r;

        r = policy_load(c->policy ? c->policy : policy_default_path(), &t->pol, e);
        if (r < 0)
                return r;
        if (t->pol->tenant && c->tenant && strcmp(t->pol->tenant, c->tenant) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "cross-tenant", "--tenant %s: the policy %s is bound to tenant %s",
                               c->tenant, t->pol->file, t->pol->tenant);
        for (size_t i = 0; i < c->n_binds; i++)
                if ((r = policy_add_bind(t->pol, c->binds[i].src, c->binds[i].dst, c->binds[i].ro, e)) < 0)
                        return r;
        if (c->status_fd >= 0 && !fd_open(c->status_fd))
                return sr_fail(e, SR_EXIT_LAUNCHER, EBADF, "usage", "--status-fd %d: not an open file descriptor", c->status_fd);
        if (c->trace_fd >= 0 && (r = trace_enable(c->trace_fd)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "usage", "--trace-fd %d: %s", c->trace_fd,
                               r == -EBADF ? "not an open file descriptor" : strerror(-r));
        for (size_t i = 0; i < c->n_pass_fds; i++)
                if (!fd_open(c->pass_fds[i]))
                        return sr_fail(e, SR_EXIT_LAUNCHER, EBADF, "usage", "--pass-fd %d: not an open file descriptor", c->pass_fds[i]);
        /* Task input may narrow the policy, never widen it. */
        if (c->timeout_ms > 0 && (t->pol->limits.timeout_ms == 0 || c->timeout_ms < t->pol->limits.timeout_ms))
                t->pol->limits.timeout_ms = c->timeout_ms;
        t->hostname = c->hostname ? c->hostname : t->pol->hostname;
        t->chdir = c->chdir ? c->chdir : t->pol->chdir;
        if (build_env(t) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        trace_point(TRACE_POLICY_LOADED);
        return 0;
}

struct run_state {
        bool exited_msg, running, scrub_msg;
        int payload_status;
        int exec_err;
        struct sr_error child_err;
        bool child_failed;
};

static void handle_msg(struct task *t, struct run_state *rs, const struct sync_msg *m) {
        struct sr_error e = { 0 };
        switch (m->type) {
        case SYNC_ERROR:
                if (!rs->child_failed) {
                        rs->child_failed = true;
                        sr_fail(&rs->child_err, m->value ? m->value : SR_EXIT_LAUNCHER, m->err, m->step, "%s: %s", m->step, m->text);
                }
                break;
        case SYNC_RUNNING:
                rs->running = true;
                if (t->cli->status_fd >= 0)
                        status_write_started(t->cli->status_fd, &t->status);
                break;
        case SYNC_EXEC_FAILED:
                rs->exec_err = m->err ? m->err : ENOENT;
                break;
        case SYNC_INJECT: {
                int r = creds_on_inject(t, m->text, &e);
                sync_send(t->sync_parent, SYNC_INJECT_ACK, r < 0 ? -r : 0, r < 0 ? e.exit_code : 0, "audit", r < 0 ? e.msg : NULL);
                if (r < 0 && !rs->child_failed) {
                        rs->child_failed = true;
                        rs->child_err = e;
                }
                break;
        }
        case SYNC_EXITED:
                rs->exited_msg = true;
                rs->payload_status = m->value;
                break;
        case SYNC_SCRUBBED:
                rs->scrub_msg = true;
                t->status.scrubbed = m->err == 0;
                break;
        case SYNC_NOTE:
                if (t->status.n_not_enforced < ELEMENTSOF(t->status.not_enforced))
                        t->status.not_enforced[t->status.n_not_enforced++] = strdup(m->text);
                break;
        default:
                break;
        }
}

static void send_init(struct task *t, int sig) {
        syscall(SYS_pidfd_send_signal, t->pidfd, sig, NULL, 0);
}

/* Supervise until sandbox init exits; returns its wait status. */
static int supervise(struct task *t, struct run_state *rs, int sigfd) {
        int64_t deadline = t->pol->limits.timeout_ms > 0 ? t->start_ms + t->pol->limits.timeout_ms : -1;
        int stage = 0, pending = 0;
        bool sync_eof = false;
        for (;;) {
                /* Init closes its end as it starts to exit, but the pidfd
                 * turns readable only once its namespaces are torn down: a
                 * socket at EOF would wake poll at once, a busy loop that
                 * took 1-2 ms of CPU per launch. Stop watching it then. */
                struct pollfd pf[3] = {
                        { .fd = t->pidfd, .events = POLLIN },
                        { .fd = sync_eof ? -1 : t->sync_parent, .events = POLLIN },
                        { .fd = sigfd, .events = POLLIN },
                };
                int timeout = -1, r;
                if (deadline >= 0) {
                        int64_t left = deadline - now_ms();
                        timeout = left < 0 ? 0 : (int)left;
                }
                r = poll(pf, 3, timeout);
                if (r < 0 && errno != EINTR)
                        break;
                if (r == 0 && deadline >= 0 && now_ms() >= deadline) {
                        if (stage == 0) {
                                t->status.timed_out = true;
                                send_init(t, SIGTERM);
                                deadline = now_ms() + t->pol->limits.kill_grace_ms;
                        } else if (stage == 1) {
                                send_init(t, SIGUSR1);
                                deadline = now_ms() + SCRUB_WAIT_MS;
                        } else {
                                send_init(t, SIGKILL);
                                cgroup_kill(t);
                                deadline = -1;
                        }
                        stage++;
                        continue;
                }
                if (r > 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        struct sync_msg m;
                        int rr = sync_recv(t->sync_parent, &m, 0);
                        if (rr == 0)
                                handle_msg(t, rs, &m);
                        else if (rr != -ETIMEDOUT)
                                sync_eof = true;
                }
                if (r > 0 && (pf[2].revents & POLLIN)) {
                        struct signalfd_siginfo si;
                        if (read(sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
                                pending = (int)si.ssi_signo;
                }
                /* Init handles relayed signals only once it runs its loop
                 * (before that the kernel drops them for a pid-namespace
                 * init), so a cancel during setup waits for SYNC_RUNNING. */
                if (pending && rs->running) {
                        send_init(t, pending);
                        pending = 0;
                }
                if (r > 0 && (pf[0].revents & POLLIN))
                        break;
        }
        /* Drain what init said before it exited. */
        for (;;) {
                struct sync_msg m;
                if (sync_recv(t->sync_parent, &m, 0) < 0)
                        break;
                handle_msg(t, rs, &m);
        }
        {
                siginfo_t si = { 0 };
                struct rusage ru = { 0 };
                if (syscall(SYS_waitid, P_PIDFD, t->pidfd, &si, WEXITED, &ru) == 0) {
                        t->status.cpu_user_ms = ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000;
                        t->status.cpu_sys_ms = ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
                        t->status.max_rss_kb = ru.ru_maxrss;
                        if (si.si_code == CLD_EXITED)
                                return W_EXITCODE(si.si_status, 0);
                        return si.si_status & 0x7f;
                }
        }
        return W_EXITCODE(SR_EXIT_LAUNCHER, 0);
}

static int task_exit_code(struct task *t, struct run_state *rs, int init_status, struct sr_error *e) {
        if (rs->child_failed) {
                *e = rs->child_err;
                hostcheck_annotate(e, t->as_root, !t->no_userns);
                return e->exit_code;
        }
        if (rs->exec_err) {
                sr_fail(e, rs->exec_err == ENOENT || rs->exec_err == ENOTDIR ? SR_EXIT_NOTFOUND : SR_EXIT_NOEXEC, rs->exec_err, "exec",
                        "%s: %s", t->cli->argv[0], rs->exec_err == ENOENT ? "command not found" : strerror(rs->exec_err));
                return e->exit_code;
        }
        if (t->status.timed_out) {
                sr_fail(e, SR_EXIT_TIMEOUT, ETIMEDOUT, "timeout", "task timed out after %lld.%03lld s and was killed",
                        t->pol->limits.timeout_ms / 1000, t->pol->limits.timeout_ms % 1000);
                if (rs->exited_msg && WIFSIGNALED(rs->payload_status))
                        t->status.signal = WTERMSIG(rs->payload_status);
                return SR_EXIT_TIMEOUT;
        }
        if (rs->exited_msg) {
                if (WIFSIGNALED(rs->payload_status)) {
                        t->status.signal = WTERMSIG(rs->payload_status);
                        return 128 + t->status.signal;
                }
                return WEXITSTATUS(rs->payload_status);
        }
        sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "init", "sandbox init ended without reporting the task's status (wait status 0x%x)", init_status);
        return SR_EXIT_LAUNCHER;
}

static void report(struct task *t, int code, const struct sr_error *e) {
        t->status.exit_code = code;
        t->status.wall_ms = now_ms() - t->start_ms;
        if (e && e->msg[0]) {
                fprintf(stderr, "sealrun: %s\n", e->msg);
                t->status.error = e->msg;
                if (code == SR_EXIT_REFUSED || code == SR_EXIT_TEMPFAIL)
                        t->status.refused = e->reason;
                if (code == SR_EXIT_LAUNCHER && strcmp(e->reason, "usage") != 0 && strcmp(e->reason, "bad-input") != 0 && e->reason[0])
                        t->status.failed_step = e->reason;
        }
        if (t->cli->status_fd >= 0)
                status_write_final(t->cli->status_fd, &t->status);
}

int supervisor_run(const struct cli *cli) {
        struct task t = { .cli = cli, .sync_parent = -1, .sync_child = -1, .pidfd = -1 };
        struct run_state rs = { 0 };
        struct sr_error e = { 0 };
        sigset_t mask;
        int sigfd = -1, code, init_status, r;

        status_init(&t.status);
        t.start_ms = now_ms();
        t.status.task = cli->task;
        t.status.tenant = cli->tenant;
        t.caller_uid = getuid();
        t.caller_gid = getgid();
        t.as_root = geteuid() == 0;
        signal(SIGPIPE, SIG_IGN);

        r = prepare(&t, &e);
        if (r >= 0)
                r = sandbox_prepare_ids(&t, &e);
        if (r >= 0)
                r = audit_open(&t, &e);
        if (r >= 0 && (r = creds_prepare(&t, &e)) < 0)
                audit_deny(&t, e.reason);
        if (r >= 0)
                r = slot_acquire(&t, &e);
        if (r >= 0)
                r = net_prepare(&t, &e);
        if (r >= 0)
                r = seccomp_prepare(&t, &e);
        if (r >= 0)
                r = cgroup_prepare(&t, &e);
        if (r >= 0)
                r = audit_launch(&t, &e);
        if (r < 0) {
                if (!e.msg[0])
                        sr_fail(&e, SR_EXIT_LAUNCHER, -r, "prepare", "cannot prepare the sandbox: %s", strerror(-r));
                code = e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
                cgroup_release(&t);     /* a step after cgroup_prepare failed: no empty task cgroup stays */
                goto out;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC);

        trace_point(TRACE_CLONE);
        r = sandbox_spawn(&t, &e);
        if (r >= 0)
                t.status.pid = t.pid;
        if (r >= 0)
                r = cgroup_attach(&t, &e);
        if (r >= 0)
                r = net_setup_parent(&t, &e);
        if (r >= 0 && sync_send(t.sync_parent, SYNC_GO, 0, 0, "go", NULL) < 0)
                r = sr_fail(&e, SR_EXIT_LAUNCHER, EPIPE, "clone", "the sandbox died during setup");
        trace_point(TRACE_GO);
        if (r < 0) {
                if (t.pidfd >= 0) {
                        send_init(&t, SIGKILL);
                        syscall(SYS_waitid, P_PIDFD, t.pidfd, &(siginfo_t){ 0 }, WEXITED, NULL);
                }
                code = e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
                goto release;
        }
        init_status = supervise(&t, &rs, sigfd);
        code = task_exit_code(&t, &rs, init_status, &e);

release:
        cgroup_kill(&t);
        net_release(&t);
        cgroup_release(&t);
        /* memory.oom.group kills sandbox init together with the payload, so
         * init cannot report: the task was SIGKILLed by the OOM killer. */
        if (t.status.oom_killed && !rs.exited_msg && !rs.child_failed && !rs.exec_err && !t.status.timed_out) {
                code = 128 + SIGKILL;
                t.status.signal = SIGKILL;
                memset(&e, 0, sizeof e);
        }
        if (cli->profile && rs.scrub_msg && t.status.scrubbed)
                audit_scrub(&t);
        creds_release(&t);
out:
        net_release(&t);
        t.status.exit_code = code;
        audit_exit(&t);
        report(&t, code, &e);
        slot_release(&t);
        audit_close(&t);
        if (sigfd >= 0)
                close(sigfd);
        for (char **ev = t.envp; ev && *ev; ev++)
                free(*ev);
        free(t.envp);
        mounts_release(&t);
        seccomp_task_release(&t);
        policy_free(t.pol);
        trace_emit();
        return code;
}
