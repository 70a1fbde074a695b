/* sealrun --run PATH: the claimer's side of a pre-built sandbox (policy/claim.h), with the exit-code contract of
 * sealrun.
 *
 * It sends its own command line (without --run PATH), its environment, its
 * cwd, its stdio and the fds its options name; relays SIGTERM, SIGINT,
 * SIGHUP and SIGQUIT to the sandbox's supervisor (whose pid came with
 * READY, checked to be our uid by SO_PEERCRED); and exits with the task's
 * code. No pre-built sandbox at PATH is exit 75 (take a fresh one, or run
 * without --run). */
#include "launcher/prepared.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "launcher/interrupt.h"
#include "policy/claim.h"

extern char **environ;

static int fail(int code, const char *path, const char *what, int err) {
        fprintf(stderr, "sealrun: --run %s: %s%s%s\n", path, what, err ? ": " : "", err ? strerror(err) : "");
        return code;
}

int prepared_run_client(int argc, char **argv, const struct cli *c) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int s = -1, cwd = -1, args = -1, pidfd = -1, sigfd = -1;
        char **rest = calloc((size_t)argc + 2, sizeof *rest);
        int numbers[2], fds[CLAIM_FIXED_FDS + 2], n_num = 0, r;
        size_t n = 0;
        struct claim_msg m;
        size_t n_got;

        if (!rest)
                return fail(SR_EXIT_LAUNCHER, c->run, "out of memory", 0);
        /* the command line minus --run PATH: options, "--", the command */
        for (int i = 1; i < argc && argv + i < c->argv; i++) {
                if (strcmp(argv[i], "--run") == 0) {
                        i++;
                        continue;
                }
                if (strncmp(argv[i], "--run=", 6) == 0 || strcmp(argv[i], "--") == 0)
                        continue;
                rest[n++] = argv[i];
        }
        rest[n++] = "--";
        for (int i = 0; i < c->argc; i++)
                rest[n++] = c->argv[i];
        if (c->status_fd >= 0)
                numbers[n_num++] = c->status_fd;
        if (c->key_fd >= 0)
                numbers[n_num++] = c->key_fd;
        if (strlen(c->run) >= sizeof sa.sun_path) {
                free(rest);
                return fail(SR_EXIT_LAUNCHER, c->run, "path too long", 0);
        }
        strcpy(sa.sun_path, c->run);
        s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
                free(rest);
                return fail(SR_EXIT_TEMPFAIL, c->run, "no pre-built sandbox to claim", errno);
        }
        if ((r = claim_check_peer(s, NULL)) < 0) {
                free(rest);
                return fail(SR_EXIT_REFUSED, c->run, "the sandbox's supervisor is not our uid", -r);
        }
        r = claim_recv(s, &m, fds, 0, &n_got, -1);
        if (r < 0 || m.type != CLAIM_READY || m.value <= 0) {
                free(rest);
                return fail(SR_EXIT_TEMPFAIL, c->run, "the pre-built sandbox went away before the claim", 0);
        }
        pidfd = (int)syscall(SYS_pidfd_open, (pid_t)m.value, 0);
        cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        args = claim_args_new(rest, n, environ, numbers, (size_t)n_num);
        free(rest);
        if (cwd < 0 || args < 0)
                return fail(SR_EXIT_LAUNCHER, c->run, "cannot pack the claim", cwd < 0 ? errno : -args);
        fds[0] = args;
        fds[1] = cwd;
        fds[2] = 0;
        fds[3] = 1;
        fds[4] = 2;
        for (int i = 0; i < n_num; i++)
                fds[CLAIM_FIXED_FDS + i] = numbers[i];
        if ((r = claim_send(s, CLAIM_TASK, 0, fds, CLAIM_FIXED_FDS + (size_t)n_num)) < 0)
                return fail(SR_EXIT_TEMPFAIL, c->run, "the pre-built sandbox went away before the claim", -r);
        if (interrupt_open(&sigfd) < 0)
                sigfd = -1;
        for (;;) {
                struct pollfd pf[2] = { { .fd = s, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                        break;
                if (pf[1].revents & POLLIN) {
                        int sig = interrupt_take(sigfd);
                        if (sig > 0 && pidfd >= 0)
                                syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
                }
                if (!pf[0].revents)
                        continue;
                r = claim_recv(s, &m, fds, 0, &n_got, 0);
                if (r == -ETIMEDOUT)
                        continue;
                if (r == 0 && m.type == CLAIM_EXIT)
                        return m.value;
                break;
        }
        return fail(SR_EXIT_LAUNCHER, c->run, "the pre-built sandbox ended without reporting the task's exit code", 0);
}
