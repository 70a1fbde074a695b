/* Sandbox init: pid 1 of the new pid namespace.
 *
 * It forks the payload, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to it, kills
 * the whole namespace on SIGUSR1 (the supervisor's "grace is over"), reaps
 * every orphan, and once the payload is gone kills what is left, scrubs the
 * credentials and reports the payload's status over the sync socket.
 *
 * A close-on-exec pipe tells init when the payload's execve succeeded (the
 * write end closes without a failure byte); only then does the supervisor
 * write the "running" status line, and only then is a relayed signal the
 * payload's. A relayed signal before that cancels the launch: init kills the
 * half-built task and still scrubs whatever was staged. */
#include "launcher/init.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "launcher/child.h"
#include "launcher/creds.h"
#include "launcher/egress.h"
#include "launcher/sync.h"
#include "launcher/trace.h"

/* Where the payload is on its way to execve, as seen through the
 * close-on-exec pipe: a byte means a setup step or execve failed (the payload
 * reported why itself), a close without one means execve succeeded. */
enum exec_state { EXEC_PENDING, EXEC_DONE, EXEC_FAILED };

struct init_state {
        pid_t payload;
        int exec_rd; /* read end of the exec pipe, or -1 once settled */
        enum exec_state exec;
        bool interrupted; /* a relayed signal came before execve: setup was cut short */
};

static void reap_all(void) {
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

/* Settle the exec state when the pipe has news (wait: block until it has,
 * for when the payload is known to be gone). Announces a successful execve
 * to the supervisor, which then writes the "running" status line. */
static void exec_watch(struct task *t, struct init_state *st, bool wait) {
        struct pollfd p = { .fd = st->exec_rd, .events = POLLIN };
        char b;
        ssize_t n;
        if (st->exec_rd < 0 || poll(&p, 1, wait ? -1 : 0) <= 0)
                return;
        /* after our kill-all the close is the kill's doing, not an execve */
        if (st->interrupted) {
                close(st->exec_rd);
                st->exec_rd = -1;
                return;
        }
        n = read(st->exec_rd, &b, 1);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        st->exec = n == 0 ? EXEC_DONE : EXEC_FAILED;
        close(st->exec_rd);
        st->exec_rd = -1;
        if (st->exec == EXEC_DONE)
                sync_send(t->sync_child, SYNC_EXECED, 0, st->payload, "init", NULL);
}

static int finish(struct task *t, struct init_state *st, int status) {
        struct sr_error e = { 0 };
        int r, broker;
        trace_point(TRACE_EXIT);
        /* Nothing of the task may outlive its payload: kill(-1) from pid 1
         * reaches every other process of the namespace. */
        broker = egress_stop_proxy(t); /* proxy mode: its byte counts first, its wipe */
        kill(-1, SIGKILL);
        reap_all();
        /* The payload is gone, so the pipe is closed: it says whether it
         * ever ran (an execve just before our kill-all counts as run). */
        if (!st->interrupted)
                exec_watch(t, st, true);
        r = creds_scrub(t, &e);
        /* with a profile in proxy mode the broker held credentials: the
         * scrub covers its memory only if it wiped and exited by itself */
        if (r == 0 && broker < 0 && t->cfg.profile)
                r = sr_fail(&e, SR_EXIT_LAUNCHER, -broker, "scrub",
                            "the egress broker did not confirm the wipe of its credentials (%s)", strerror(-broker));
        sync_send(t->sync_child, SYNC_EXITED, st->interrupted && st->exec != EXEC_DONE ? EINTR : 0, status, "init",
                  NULL);
        sync_send(t->sync_child, SYNC_SCRUBBED, r < 0 ? -r : 0, 0, "scrub", r < 0 ? e.msg : NULL);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

/* A signal the supervisor relays: the payload's own business once it runs;
 * before execve the launch is being cancelled, and the half-built task
 * (credentials maybe staged) is killed and then scrubbed by finish(). */
static void relay(struct task *t, struct init_state *st, int sig) {
        exec_watch(t, st, false);
        if (st->exec == EXEC_DONE) {
                kill(st->payload, sig);
                return;
        }
        st->interrupted = true;
        kill(-1, SIGKILL);
}

int init_signalfd(sigset_t *ret_old) {
        static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 };
        sigset_t mask;
        int fd;
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        if (sigprocmask(SIG_BLOCK, &mask, ret_old) < 0)
                return -errno;
        fd = signalfd(-1, &mask, SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int init_run(struct task *t) {
        struct init_state st = { .exec_rd = -1, .exec = EXEC_PENDING };
        sigset_t old;
        struct pollfd pf[3];
        int sfd, ep[2];

        /* The payload must not read init's memory or exe (CVE-2019-5736 class). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                struct sr_error e;
                sr_fail(&e, SR_EXIT_LAUNCHER, errno, "init", "PR_SET_DUMPABLE: %s", strerror(errno));
                sync_send_error(t->sync_child, "init", &e);
                return SR_EXIT_LAUNCHER;
        }
        sfd = init_signalfd(&old); /* errno set when it fails */
        /* From here on credentials may exist: the supervisor's death must end
         * in finish() (kill, reap, scrub), not in a SIGKILL of init that
         * leaves the plaintext pages unwiped. SIGUSR1 is that path. */
        if (sfd >= 0 && prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) < 0) {
                close(sfd);
                sfd = -1;
        }
        if (sfd < 0) {
                struct sr_error e;
                sr_fail(&e, SR_EXIT_LAUNCHER, errno, "init", "signalfd: %s", strerror(errno));
                sync_send_error(t->sync_child, "init", &e);
                return SR_EXIT_LAUNCHER;
        }
        /* Host paths of the policy, profile and key sit in sealrun's argv,
         * readable by the payload through /proc/1/cmdline: wipe the block
         * (nothing points into it: the config was resolved from a heap copy
         * of the command line, see supervisor_run). */
        if (t->cfg.arg_area) {
                memset(t->cfg.arg_area, 0, t->cfg.arg_area_len);
                snprintf(t->cfg.arg_area, t->cfg.arg_area_len, "sealrun-init");
        }
        {
                struct sr_error e = { 0 };
                if (egress_start_proxy(t, &e) < 0) {
                        sync_send_error(t->sync_child, "egress", &e);
                        return SR_EXIT_LAUNCHER;
                }
        }
        if (pipe2(ep, O_CLOEXEC) < 0) {
                struct sr_error e;
                sr_fail(&e, SR_EXIT_LAUNCHER, errno, "init", "pipe2: %s", strerror(errno));
                sync_send_error(t->sync_child, "init", &e);
                return SR_EXIT_LAUNCHER;
        }
        st.payload = egress_fork_payload(t, ep[1]); /* fork(), or into its own pid namespace in proxy mode */
        if (st.payload < 0) {
                struct sr_error e;
                sr_fail(&e, SR_EXIT_LAUNCHER, (int)-st.payload, "init", "fork: %s", strerror((int)-st.payload));
                sync_send_error(t->sync_child, "init", &e);
                return SR_EXIT_LAUNCHER;
        }
        if (st.payload == 0) {
                close(sfd);
                close(ep[0]);
                t->exec_report = ep[1];
                sigprocmask(SIG_SETMASK, &old, NULL);
                child_payload(t);
        }
        close(ep[1]);
        st.exec_rd = ep[0];
        sync_send(t->sync_child, SYNC_INIT_READY, 0, st.payload, "init", NULL);

        pf[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        pf[1] = (struct pollfd){ .fd = t->sync_child, .events = 0 };
        for (;;) {
                struct signalfd_siginfo si;
                pf[2] = (struct pollfd){ .fd = st.exec_rd, .events = POLLIN };
                if (poll(pf, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[1].revents & (POLLHUP | POLLERR)) {
                        /* The supervisor is gone: the task dies with it, and
                         * its credentials are wiped all the same. */
                        finish(t, &st, W_EXITCODE(SR_EXIT_LAUNCHER, 0));
                        return SR_EXIT_LAUNCHER;
                }
                if (pf[2].revents)
                        exec_watch(t, &st, false);
                if (!(pf[0].revents & POLLIN))
                        continue;
                if (read(sfd, &si, sizeof si) != sizeof si)
                        continue;
                switch (si.ssi_signo) {
                case SIGCHLD:
                        for (;;) {
                                int ws;
                                pid_t p = waitpid(-1, &ws, WNOHANG);
                                if (p <= 0)
                                        break;
                                if (p == st.payload)
                                        return finish(t, &st, egress_payload_status(t, ws));
                        }
                        break;
                case SIGUSR1: kill(-1, SIGKILL); break;
                default: relay(t, &st, (int)si.ssi_signo); break;
                }
        }
        kill(-1, SIGKILL);
        reap_all();
        return SR_EXIT_LAUNCHER;
}
