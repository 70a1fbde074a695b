/* Sandbox init: pid 1 of the new pid namespace.
 *
 * It forks the payload, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to it, kills
 * the whole namespace on SIGUSR1 (the supervisor's "grace is over"), reaps
 * every orphan, and once the payload is gone kills what is left, scrubs the
 * credentials and reports the payload's status over the sync socket. */
#include "launcher/init.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "launcher/child.h"
#include "launcher/creds.h"
#include "launcher/sync.h"
#include "launcher/trace.h"

static void reap_all(void) {
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

static int finish(struct task *t, int status) {
        struct sr_error e = { 0 };
        int r;
        trace_point(TRACE_EXIT);
        /* Nothing of the task may outlive its payload: kill(-1) from pid 1
         * reaches every other process of the namespace. */
        kill(-1, SIGKILL);
        reap_all();
        r = creds_scrub(t, &e);
        sync_send(t->sync_child, SYNC_EXITED, 0, status, "init", NULL);
        sync_send(t->sync_child, SYNC_SCRUBBED, r < 0 ? -r : 0, 0, "scrub", r < 0 ? e.msg : NULL);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

int init_run(struct task *t) {
        sigset_t mask, old;
        struct pollfd pf[2];
        pid_t payload;
        int sfd;

        /* The payload must not read init's memory or exe (CVE-2019-5736 class). */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, &old);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
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
         * readable by the payload through /proc/1/cmdline: move what the
         * sandbox still needs to the heap, then wipe the block. */
        if (t->cli->arg_area) {
                struct cli *own = cli_dup(t->cli);
                char *area = t->cli->arg_area;
                size_t len = t->cli->arg_area_len;
                if (!own) {
                        struct sr_error e;
                        sr_fail(&e, SR_EXIT_LAUNCHER, ENOMEM, "init", "out of memory");
                        sync_send_error(t->sync_child, "init", &e);
                        return SR_EXIT_LAUNCHER;
                }
                if (t->chdir && t->chdir == t->cli->chdir)
                        t->chdir = own->chdir;
                t->cli = own;
                memset(area, 0, len);
                snprintf(area, len, "sealrun-init");
        }
        payload = fork();
        if (payload < 0) {
                struct sr_error e;
                sr_fail(&e, SR_EXIT_LAUNCHER, errno, "init", "fork: %s", strerror(errno));
                sync_send_error(t->sync_child, "init", &e);
                return SR_EXIT_LAUNCHER;
        }
        if (payload == 0) {
                close(sfd);
                sigprocmask(SIG_SETMASK, &old, NULL);
                child_payload(t);
        }
        sync_send(t->sync_child, SYNC_RUNNING, 0, payload, "init", NULL);

        pf[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        pf[1] = (struct pollfd){ .fd = t->sync_child, .events = 0 };
        for (;;) {
                struct signalfd_siginfo si;
                if (poll(pf, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[1].revents & (POLLHUP | POLLERR)) {
                        /* The supervisor is gone: the task dies with it, and
                         * its credentials are wiped all the same. */
                        finish(t, W_EXITCODE(SR_EXIT_LAUNCHER, 0));
                        return SR_EXIT_LAUNCHER;
                }
                if (!(pf[0].revents & POLLIN))
                        continue;
                if (read(sfd, &si, sizeof si) != sizeof si)
                        continue;
                switch (si.ssi_signo) {
                case SIGCHLD:
                        for (;;) {
                                int st;
                                pid_t p = waitpid(-1, &st, WNOHANG);
                                if (p <= 0)
                                        break;
                                if (p == payload)
                                        return finish(t, st);
                        }
                        break;
                case SIGUSR1:
                        kill(-1, SIGKILL);
                        break;
                default:
                        kill(payload, (int)si.ssi_signo);
                        break;
                }
        }
        kill(-1, SIGKILL);
        reap_all();
        return SR_EXIT_LAUNCHER;
}
