/* The supervisor: validate, prepare the host side, clone, supervise, report.
 *
 * Every refusal happens before the clone. After it, the supervisor only
 * relays: child step errors arrive over the sync socket with the step's name,
 * signals are forwarded to sandbox init, and the timeout escalates from
 * SIGTERM to init's kill-all (SIGUSR1) to SIGKILL of init and its cgroup.
 *
 * The relayed signals are blocked from main()'s first line. Until the
 * payload's execve succeeded, one of them cancels the launch: at a step
 * boundary of the setup table (launcher/setup.c; or, after the clone, by killing the
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
#include "launcher/egress.h"
#include "launcher/hostcheck.h"
#include "launcher/interrupt.h"
#include "launcher/mounts.h"
#include "launcher/net.h"
#include "launcher/prepared.h"
#include "launcher/sandbox.h"
#include "launcher/seccomp.h"
#include "launcher/slots.h"
#include "launcher/sync.h"
#include "launcher/setup.h"
#include "launcher/task.h"
#include "launcher/trace.h"

#define SCRUB_WAIT_MS 2000 /* init's kill-all + scrub before SIGKILL */


struct run_state {
        bool exited_msg, scrub_msg;
        bool init_ready;   /* init's loop runs: relayed signals queue there */
        bool running;      /* the payload's execve succeeded */
        bool inject_acked; /* staging was allowed to start */
        int interrupt_sig; /* a relayed signal came before execve */
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
                        sr_fail(&rs->child_err, m->value ? m->value : SR_EXIT_LAUNCHER, m->err, m->step, "%s: %s",
                                m->step, m->text);
                }
                break;
        case SYNC_INIT_READY: rs->init_ready = true; break;
        case SYNC_EXECED:
                /* "running" only once the payload really runs: never for a
                 * command that is not found, a refusal or a cancel */
                if (!rs->running && t->cfg.status_fd >= 0)
                        status_write_started(t->cfg.status_fd, &t->status);
                if (!rs->running)
                        creds_on_running(t);
                rs->running = true;
                break;
        case SYNC_EXEC_FAILED: rs->exec_err = m->err ? m->err : ENOENT; break;
        case SYNC_INJECT: {
                int r;
                if (rs->interrupt_sig)
                        /* cancelled: nothing may be staged, and no inject event */
                        r = sr_fail(&e, 128 + rs->interrupt_sig, EINTR, "interrupted-setup",
                                    "the launch was interrupted");
                else
                        r = creds_on_inject(t, m->text, &e);
                rs->inject_acked = r >= 0;
                sync_send(t->sync_parent, SYNC_INJECT_ACK, r < 0 ? -r : 0, r < 0 ? e.exit_code : 0, "audit",
                          r < 0 ? e.msg : NULL);
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
                /* the payload's exit code stands; the failed wipe is said once */
                if (m->err != 0 && m->text[0])
                        fprintf(stderr, "sealrun: scrub: %s\n", m->text);
                break;
        case SYNC_NOTE:
                if (t->status.n_not_enforced < ELEMENTSOF(t->status.not_enforced))
                        t->status.not_enforced[t->status.n_not_enforced++] = status_own(&t->status, m->text);
                break;
        default: break;
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
                return; /* already cancelling */
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
        int64_t deadline = t->cfg.timeout_ms > 0 ? t->start_ms + t->cfg.timeout_ms : -1;
        int stage = 0;
        bool sync_eof = false, claimer_gone = false;
        for (;;) {
                /* Init closes its end as it starts to exit, but the pidfd
                 * turns readable only once its namespaces are torn down: a
                 * socket at EOF would wake poll at once, a busy loop that
                 * took 1-2 ms of CPU per launch. Stop watching it then. */
                /* a pre-built sandbox's claimer sends nothing after its claim:
                 * its end closing means it died, and the task is cancelled
                 * like a fresh sealrun's would be (its init's PDEATHSIG) */
                struct pollfd pf[5] = {
                        { .fd = t->pidfd, .events = POLLIN },
                        { .fd = sync_eof ? -1 : t->sync_parent, .events = POLLIN },
                        { .fd = sigfd, .events = POLLIN },
                        { .fd = egress_poll_fd(t), .events = POLLIN },
                        { .fd = claimer_gone ? -1 : t->claim_sock, .events = POLLIN },
                };
                int timeout = -1, r;
                if (deadline >= 0) {
                        int64_t left = deadline - now_ms();
                        timeout = left < 0 ? 0 : (int)left;
                }
                r = poll(pf, 5, timeout);
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
                if (r > 0 && pf[3].revents)
                        egress_on_readable(t);
                if (r > 0 && pf[4].revents) {
                        claimer_gone = true;
                        if (!t->status.timed_out)
                                on_signal(t, rs, SIGTERM);
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
                        t->reaped = true;
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
        if (rs->interrupt_sig && !rs->running && !t->status.timed_out)
                return setup_interrupted(t, rs->interrupt_sig, t->status.interrupted_step, e);
        if (rs->child_failed) {
                *e = rs->child_err;
                hostcheck_annotate(e, t->as_root, !t->no_userns);
                return e->exit_code;
        }
        if (rs->exec_err) {
                sr_fail(e, rs->exec_err == ENOENT || rs->exec_err == ENOTDIR ? SR_EXIT_NOTFOUND : SR_EXIT_NOEXEC,
                        rs->exec_err, "exec", "%s: %s", t->cfg.argv[0],
                        rs->exec_err == ENOENT ? "command not found" : strerror(rs->exec_err));
                return e->exit_code;
        }
        if (t->status.timed_out) {
                sr_fail(e, SR_EXIT_TIMEOUT, ETIMEDOUT, "timeout", "task timed out after %lld.%03lld s and was killed",
                        t->cfg.timeout_ms / 1000, t->cfg.timeout_ms % 1000);
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
        sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "init",
                "sandbox init ended without reporting the task's status (wait status 0x%x)", init_status);
        return SR_EXIT_LAUNCHER;
}

static void report(struct task *t, int code, const struct sr_error *e) {
        t->status.exit_code = code;
        t->status.wall_ms = now_ms() - t->start_ms;
        if (e && e->msg[0]) {
                fprintf(stderr, "sealrun: %s\n", e->msg);
                t->status.error = status_own(&t->status, e->msg);
                if (code == SR_EXIT_REFUSED || code == SR_EXIT_TEMPFAIL)
                        t->status.refused = status_own(&t->status, e->reason);
                if (code == SR_EXIT_LAUNCHER && strcmp(e->reason, "usage") != 0 &&
                    strcmp(e->reason, "bad-input") != 0 && e->reason[0])
                        t->status.failed_step = status_own(&t->status, e->reason);
        }
        if (t->cfg.status_fd >= 0)
                status_write_final(t->cfg.status_fd, &t->status);
}

/* The report: after the sandbox's host resources were released (usage,
 * OOM verdict), before the task's audit connection and slot are. */
static void finish(struct task *t, struct run_state *rs, int code, int sig, struct sr_error *e) {
        /* memory.oom.group kills sandbox init together with the payload, so
         * init cannot report: the task was SIGKILLed by the OOM killer. */
        if (t->status.oom_killed && t->pidfd >= 0 && !sig && !rs->exited_msg && !rs->child_failed && !rs->exec_err &&
            !t->status.timed_out) {
                code = 128 + SIGKILL;
                t->status.signal = SIGKILL;
                memset(e, 0, sizeof *e);
        }
        if (t->cfg.profile && rs->scrub_msg && t->status.scrubbed)
                audit_scrub(t);
        t->status.exit_code = code;
        /* a refusal or failure has its one stderr line: audit trouble on the
         * way out is only listed in audit.missing */
        if (e->msg[0])
                audit_quiet(t);
        if (sig && !audit_launched(t))
                audit_deny(t, "interrupted-setup");
        audit_exit(t, sig ? "interrupted-setup" : NULL);
        report(t, code, e);
}

int supervisor_run(const struct cli *cli) {
        /* resolved from a heap copy, so that nothing the sandbox keeps points
         * into the argv block sandbox init wipes */
        _cleanup_free_ struct cli *input = cli_dup(cli);
        struct task t = { .cli = input,
                          .sync_parent = -1,
                          .sync_child = -1,
                          .pidfd = -1,
                          .exec_report = -1,
                          .prepared = cli->prepare,
                          .prepare_cli = input,
                          .claim_sock = -1,
                          .claim_listen = -1,
                          .cfg = { .status_fd = cli->status_fd, .task = cli->task, .key_fd = -1 } };
        struct run_state rs = { 0 };
        struct sr_error e = { 0 };
        int sigfd = -1, code, r, sig = 0;
        size_t done = 0;
        bool stopped = false;

        status_init(&t.status);
        t.start_ms = now_ms();
        t.status.task = cli->task;
        t.status.tenant = cli->tenant;
        t.caller_uid = getuid();
        t.caller_gid = getgid();
        t.as_root = geteuid() == 0;
        signal(SIGPIPE, SIG_IGN);

        if (!input)
                r = sr_fail(&e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        else if ((r = interrupt_open(&sigfd)) < 0)
                sr_fail(&e, SR_EXIT_LAUNCHER, -r, "signalfd", "cannot watch for signals (signalfd: %s)", strerror(-r));
        else if ((r = setup_run(&t, sigfd, &done, &sig, &e)) < 0)
                setup_refused(&t, done, &e);
        else if (t.prepared) {
                const char *step = "prepare";
                r = prepared_serve(&t, sigfd, &sig, &step, &e);
                if (r < 0)
                        setup_refused_step(&t, step, &e);
                else if (r > 0) {
                        /* stopped before any claim: torn down, nothing ran */
                        memset(&e, 0, sizeof e);
                        sig = 0;
                        stopped = true;
                }
        }
        if (stopped)
                code = 0;
        else if (r < 0)
                code = e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
        else {
                code = task_exit_code(&t, &rs, supervise(&t, &rs, sigfd), &e);
                sig = t.status.interrupted_signal;
        }
        setup_release(&t, done, SETUP_SANDBOX);
        finish(&t, &rs, code, sig, &e);
        setup_release(&t, done, SETUP_TASK);
        audit_close(&t); /* opened for a deny by a refusal before the audit step */
        if (sigfd >= 0)
                close(sigfd);
        code = t.status.exit_code;
        prepared_done(&t, code);
        status_free(&t.status);
        trace_emit();
        return code;
}
