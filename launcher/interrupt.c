/* Relayed signals: blocked first thing in main, then taken from a signalfd at step boundaries.
 *
 * Without this, SIGTERM in the first milliseconds (before the supervisor's
 * poll loop existed) took the default action: the supervisor died without a
 * stderr line or a status object, with a launch event and no exit, and with
 * its task cgroup left behind. */
#include "launcher/interrupt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int relayed_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static sigset_t inherited_ignored;

/* A relayed signal that sealrun inherited as ignored (nohup; an `&` in a
 * script ignores SIGINT and SIGQUIT) stays ignored: not blocked (a blocked
 * signal queues even when ignored), not relayed, and the task inherits the
 * ignore as it would without sealrun. */
static void relayed(sigset_t *s, bool with_chld) {
        sigemptyset(s);
        for (size_t i = 0; i < sizeof relayed_signals / sizeof relayed_signals[0]; i++)
                if (!sigismember(&inherited_ignored, relayed_signals[i]))
                        sigaddset(s, relayed_signals[i]);
        if (with_chld)
                sigaddset(s, SIGCHLD);
}

void interrupt_block(void) {
        sigset_t s;
        sigemptyset(&inherited_ignored);
        for (size_t i = 0; i < sizeof relayed_signals / sizeof relayed_signals[0]; i++) {
                struct sigaction sa;
                if (sigaction(relayed_signals[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                        sigaddset(&inherited_ignored, relayed_signals[i]);
        }
        relayed(&s, true);
        sigprocmask(SIG_BLOCK, &s, NULL);
}

void interrupt_unblock(void) {
        sigset_t s;
        relayed(&s, true);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
}

int interrupt_open(int *ret_fd) {
        sigset_t s;
        int fd;
        relayed(&s, true);
        fd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int interrupt_take(int sigfd) {
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == sizeof si)
                if (si.ssi_signo != SIGCHLD)
                        return (int)si.ssi_signo;
        return 0;
}

bool interrupt_pending(void) {
        sigset_t pend, s;
        relayed(&s, false);
        if (sigpending(&pend) < 0)
                return false;
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&s, sig) && sigismember(&pend, sig))
                        return true;
        return false;
}

const char *interrupt_name(int sig, char buf[16]) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev)
                snprintf(buf, 16, "SIG%s", abbrev);
        else
                snprintf(buf, 16, "signal %d", sig);
        return buf;
}
