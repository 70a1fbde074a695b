/* The supervisor: validate, prepare the host side, clone, supervise, report.
 *
 * Every refusal happens before the clone. After it, the supervisor only
 * relays: child step errors arrive over the sync socket with the step's name,
 * signals are forwarded to sandbox init, and the timeout escalates from
 * SIGTERM to init's kill-all (SIGUSR1) to SIGKILL of init and its cgroup.
 *
 * The relayed signals are blocked from main()'s first line. Until the
 * payload's execve succeeded, one of them cancels the launch: at a step
 * boundary of the setup table below (or, after the clone, by killing the
 * half-built sandbox), then the normal teardown releases whatever was
 * prepared, one stderr line and the final status say "interrupted", and the
 * audit trail gets exit (after a launch) or deny with "interrupted-setup".
 * Once the payload runs, a signal is the task's business (relayed). */
#include "launcher/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher/audit.h"
#include "launcher/cgroup.h"
#include "launcher/creds.h"
#include "launcher/hostcheck.h"
#include "launcher/interrupt.h"
#include "launcher/mounts.h"
#include "launcher/net.h"
#include "launcher/sandbox.h"
#include "launcher/seccomp.h"
#include "launcher/slots.h"
#include "launcher/sync.h"
#include "launcher/task.h"
#include "launcher/testhook.h"

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
        return 0;
}

struct run_state {
        bool exited_msg, scrub_msg;
        bool init_ready;              /* init's loop runs: relayed signals queue there */
        bool running;                 /* the payload's execve succeeded */
        bool inject_acked;            /* staging was allowed to start */
        int interrupt_sig;            /* a relayed signal came before execve */
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
        case SYNC_INIT_READY:
                rs->init_ready = true;
                break;
        case SYNC_EXECED:
                /* "running" only once the payload really runs: never for a
                 * command that is not found, a refusal or a cancel */
                if (!rs->running && t->cli->status_fd >= 0)
                        status_write_started(t->cli->status_fd, &t->status);
                if (!rs->running)
                        creds_on_running(t);
                rs->running = true;
                break;
        case SYNC_EXEC_FAILED:
                rs->exec_err = m->err ? m->err : ENOENT;
                break;
        case SYNC_INJECT: {
                int r;
                if (rs->interrupt_sig)
                        /* cancelled: nothing may be staged, and no inject event */
                        r = sr_fail(&e, 128 + rs->interrupt_sig, EINTR, "interrupted-setup", "the launch was interrupted");
                else
                        r = creds_on_inject(t, m->text, &e);
                rs->inject_acked = r >= 0;
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
                /* a wipe of nothing is no scrub: only staged credentials count */
                t->status.scrubbed = m->err == 0 && rs->inject_acked;
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

/* A relayed signal while the sandbox runs. Once the payload runs it is the
 * task's (init forwards it). Before that it cancels the launch: init, once
 * its loop runs, decides (it alone knows whether execve has just happened)
 * and kills the half-built task, then scrubs; before its loop, init would
 * drop the signal (a pid namespace's init ignores what it has no handler
 * for), and no credential can exist yet, so it is killed outright. */
static void on_signal(struct task *t, struct run_state *rs, int sig) {
        struct sync_msg m;
        bool first = false;
        if (!rs->running && !rs->interrupt_sig) {
                first = true;
                /* What init has already said decides what the signal means:
                 * read it all first (an inject among it is refused now, so
                 * nothing is staged that a SIGKILL of init could not wipe). */
                rs->interrupt_sig = sig;
                while (sync_recv(t->sync_parent, &m, 0) == 0)
                        handle_msg(t, rs, &m);
                if (rs->running)
                        rs->interrupt_sig = 0;
        }
        if (rs->running) {
                send_init(t, sig);
                return;
        }
        if (!first)
                return;         /* already cancelling */
        t->status.interrupted_step = rs->init_ready ? "payload" : "init";
        if (rs->init_ready) {
                send_init(t, sig);
        } else {
                send_init(t, SIGKILL);
                cgroup_kill(t);
        }
}

/* Supervise until sandbox init exits; returns its wait status. */
static int supervise(struct task *t, struct run_state *rs, int sigfd) {
        int64_t deadline = t->pol->limits.timeout_ms > 0 ? t->start_ms + t->pol->limits.timeout_ms : -1;
        int stage = 0;
        for (;;) {
                struct pollfd pf[3] = {
                        { .fd = t->pidfd, .events = POLLIN },
                        { .fd = t->sync_parent, .events = POLLIN },
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
                if (r > 0 && (pf[1].revents & POLLIN)) {
                        struct sync_msg m;
                        if (sync_recv(t->sync_parent, &m, 0) == 0)
                                handle_msg(t, rs, &m);
                }
                if (r > 0 && (pf[2].revents & POLLIN)) {
                        int sig = interrupt_take(sigfd);
                        if (sig)
                                on_signal(t, rs, sig);
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

/* The launch was cancelled by sig before the payload ran. Exit 128+N like a
 * task killed by N (a worker's cancel reads the same either way), but the
 * stderr line, "interrupted" in the status and the audit reason say that the
 * task never ran. */
static int interrupted(struct task *t, int sig, const char *step, struct sr_error *e) {
        char name[16];
        t->status.interrupted_signal = sig;
        t->status.interrupted_step = step;
        sr_fail(e, 128 + sig, EINTR, "interrupted-setup",
                "interrupted by %s during setup (step \"%s\"): the task did not run, and everything prepared for it was removed",
                interrupt_name(sig, name), step);
        return e->exit_code;
}

static int task_exit_code(struct task *t, struct run_state *rs, int init_status, struct sr_error *e) {
        if (rs->interrupt_sig && !rs->running && !t->status.timed_out)
                return interrupted(t, rs->interrupt_sig, t->status.interrupted_step, e);
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

/* ---- setup: one table, in order -------------------------------------------
 * Every step's release is idempotent and runs in the common teardown of
 * supervisor_run, so a refusal, a failure or an interruption at any step
 * releases exactly what the steps before it prepared. */

static int step_policy(struct task *t, struct sr_error *e) {
        return prepare(t, e);
}

static int step_credentials(struct task *t, struct sr_error *e) {
        int r = creds_prepare(t, e);
        if (r < 0) {
                audit_quiet(t);     /* the refusal's line is the one line */
                audit_deny(t, e->reason);
        }
        return r;
}

static int step_clone(struct task *t, struct sr_error *e) {
        int r = sandbox_spawn(t, e);
        if (r >= 0)
                t->status.pid = t->pid;
        return r;
}

static int step_go(struct task *t, struct sr_error *e) {
        if (sync_send(t->sync_parent, SYNC_GO, 0, 0, "go", NULL) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "clone", "the sandbox died during setup");
        return 0;
}

struct setup_step {
        const char *name;     /* in messages and "interrupted"; the name SEALRUN_TEST_STOP_AT takes */
        int (*prepare)(struct task *t, struct sr_error *e);
};

/* Released in supervisor_run's teardown by: policy_free, audit_close,
 * creds_release, slot_release, net_release, seccomp_task_release,
 * cgroup_kill + cgroup_release, audit_exit (after a launch), SIGKILL and
 * reaping of init (after the clone). */
static const struct setup_step setup_steps[] = {
        { "policy", step_policy },
        { "ids", sandbox_prepare_ids },
        { "audit", audit_open },
        { "credentials", step_credentials },
        { "slot", slot_acquire },
        { "network", net_prepare },
        { "seccomp", seccomp_prepare },
        { "cgroup", cgroup_prepare },
        { "launch", audit_launch },
        { "clone", step_clone },
        { "cgroup_attach", cgroup_attach },
        { "network_parent", net_setup_parent },
        { "go", step_go },
};

/* Run the table; 0, or the step's failure, or the interruption (then
 * *ret_sig is set). A wait inside a step ends early when a signal is
 * pending (the slot wait), and the interruption is reported for that step. */
static int setup(struct task *t, int sigfd, int *ret_sig, struct sr_error *e) {
        for (size_t i = 0; i < ELEMENTSOF(setup_steps); i++) {
                int sig, r;
                testhook_pause(setup_steps[i].name);
                if ((sig = interrupt_take(sigfd)) > 0) {
                        *ret_sig = sig;
                        return -interrupted(t, sig, setup_steps[i].name, e);
                }
                r = setup_steps[i].prepare(t, e);
                if (r == -EINTR && (sig = interrupt_take(sigfd)) > 0) {
                        *ret_sig = sig;
                        return -interrupted(t, sig, setup_steps[i].name, e);
                }
                if (r < 0) {
                        if (!e->msg[0])
                                sr_fail(e, SR_EXIT_LAUNCHER, -r, setup_steps[i].name, "%s: cannot prepare the sandbox: %s",
                                        setup_steps[i].name, strerror(-r));
                        return r;
                }
        }
        return 0;
}

int supervisor_run(const struct cli *cli) {
        struct task t = { .cli = cli, .sync_parent = -1, .sync_child = -1, .pidfd = -1, .exec_report = -1 };
        struct run_state rs = { 0 };
        struct sr_error e = { 0 };
        int sigfd = -1, code, init_status, r, sig = 0;

        status_init(&t.status);
        t.start_ms = now_ms();
        t.status.task = cli->task;
        t.status.tenant = cli->tenant;
        t.caller_uid = getuid();
        t.caller_gid = getgid();
        t.as_root = geteuid() == 0;
        signal(SIGPIPE, SIG_IGN);

        if ((r = interrupt_open(&sigfd)) < 0) {
                sr_fail(&e, SR_EXIT_LAUNCHER, -r, "signalfd", "cannot watch for signals (signalfd: %s)", strerror(-r));
                code = SR_EXIT_LAUNCHER;
                goto out;
        }
        r = setup(&t, sigfd, &sig, &e);
        if (r < 0) {
                code = e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
                if (t.pidfd >= 0) {
                        send_init(&t, SIGKILL);
                        syscall(SYS_waitid, P_PIDFD, t.pidfd, &(siginfo_t){ 0 }, WEXITED, NULL);
                }
                goto release;
        }
        init_status = supervise(&t, &rs, sigfd);
        code = task_exit_code(&t, &rs, init_status, &e);
        sig = t.status.interrupted_signal;

release:
        cgroup_kill(&t);
        net_release(&t);
        cgroup_release(&t);
        /* memory.oom.group kills sandbox init together with the payload, so
         * init cannot report: the task was SIGKILLed by the OOM killer. */
        if (t.status.oom_killed && t.pidfd >= 0 && !sig && !rs.exited_msg && !rs.child_failed && !rs.exec_err &&
            !t.status.timed_out) {
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
        /* a refusal or failure has its one stderr line: audit trouble on the
         * way out is only listed in audit.missing */
        if (e.msg[0])
                audit_quiet(&t);
        if (sig && !audit_launched(&t))
                audit_deny(&t, "interrupted-setup");
        audit_exit(&t, sig ? "interrupted-setup" : NULL);
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
        return code;
}
