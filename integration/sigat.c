/* Test helper: run a command and send it a signal a given number of microseconds after its start.
 *   sigat SIGNAL DELAY_US CMD [ARG...]   (SIGNAL: TERM, INT, HUP or a number)
 * Exits like a shell would: the command's code, or 128+N when it died of signal N.
 * The fault suite uses it to hit sealrun's first milliseconds precisely (pkill is far too slow). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        int sig, status;
        long us;
        pid_t pid;
        if (argc < 4) {
                fprintf(stderr, "usage: sigat SIGNAL DELAY_US CMD [ARG...]\n");
                return 125;
        }
        sig = strcmp(argv[1], "TERM") == 0  ? SIGTERM
              : strcmp(argv[1], "INT") == 0 ? SIGINT
              : strcmp(argv[1], "HUP") == 0 ? SIGHUP
                                            : atoi(argv[1]);
        us = atol(argv[2]);
        if (sig <= 0 || sig >= 65 || us < 0)
                return 125;
        /* As a caller that wants the one-line contract from the first
         * instruction does: the signals are blocked before the fork and across
         * execve, so one sent while the dynamic loader runs (before sealrun's
         * main can block it) stays pending and is read from its signalfd. */
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, &old);
        pid = fork();
        if (pid < 0)
                return 125;
        if (pid == 0) {
                execvp(argv[3], argv + 3);
                _exit(127);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (us > 0)
                nanosleep(&(struct timespec){ us / 1000000, (us % 1000000) * 1000 }, NULL);
        kill(pid, sig);
        while (waitpid(pid, &status, 0) < 0)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
