/* The fleet worker stand-in: a fresh process (never holding a canary) that runs sealrun once, as a pool worker would,
 * and reports.
 *
 * Protocol: stdin is the orchestrator's control pipe (EOF = exit), stdout
 * carries lines "started PID", "exit CODE", "fd N TARGET" (fds it holds
 * after sealrun ended, other than 0-2) and "done". The pool key is opened
 * here and passed as --key-fd 3 (or given by path); the payload's socket
 * arrives as fd 5 and is passed with --pass-fd 5. */
#include "helpers/leaktest/leaktest.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

/* Above the fds the child puts in place (0-5), so no dup2 is a no-op that
 * would keep O_CLOEXEC. */
static int high(int fd) {
        if (fd < 0)
                return fd;
        int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
        close(fd);
        return h;
}

static int open_out(const char *path) {
        return high(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
}

/* SEALRUN_LEAKTEST_PREBUILT=1: a task that passes no fd runs in a pre-built
 * sandbox: the first child is "sealrun --prepare" with the build options
 * (it stays the supervisor, its exit code the task's), a second child claims
 * it with "sealrun --run" and the task options (docs/prebuilt.md). */
static bool build_option(const char *a, int *arity) {
        static const struct {
                const char *name;
                int arity;
        } opts[] = { { "--policy", 1 }, { "--tenant", 1 },   { "--ro-bind", 2 },    { "--bind", 2 },
                     { "--tmpfs", 1 },  { "--network", 1 },  { "--hostname", 1 },   { "--audit-socket", 1 },
                     { "--audit", 1 },  { "--bind-try", 2 }, { "--ro-bind-try", 2 } };
        for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
                if (strcmp(a, opts[i].name) == 0) {
                        *arity = opts[i].arity;
                        return true;
                }
        return false;
}

static pid_t spawn_prebuilt(const char *sealrun, char **args, const char *sock, int fd_err) {
        char **b = calloc(64 + 8, sizeof *b);
        size_t nb = 0;
        pid_t c;
        int ar;
        if (!b)
                return -1;
        b[nb++] = (char *)sealrun;
        b[nb++] = (char *)"--prepare";
        b[nb++] = (char *)"--claim-socket";
        b[nb++] = (char *)sock;
        for (size_t i = 1; args[i] && strcmp(args[i], "--") != 0 && nb + 3 < 64; i++)
                if (build_option(args[i], &ar))
                        for (int k = 0; k <= ar && args[i]; k++)
                                b[nb++] = args[i + (size_t)k];
        b[nb] = NULL;
        c = fork();
        if (c == 0) {
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(fd_err, 2) < 0)
                        _exit(125);
                close_range(3, ~0u, 0);
                execv(sealrun, b);
                _exit(127);
        }
        free(b);
        return c;
}

/* args minus the build options, with --run SOCK in front */
static void claim_args(char **args, const char *sock) {
        size_t w = 1;
        int ar;
        char **rest = calloc(256, sizeof *rest);
        size_t nr = 0;
        bool opts = true;
        if (!rest)
                return;
        for (size_t i = 1; args[i]; i++) {
                if (opts && strcmp(args[i], "--") == 0)
                        opts = false;
                if (opts && build_option(args[i], &ar)) {
                        i += (size_t)ar;
                        continue;
                }
                rest[nr++] = args[i];
        }
        args[w++] = (char *)"--run";
        args[w++] = (char *)sock;
        for (size_t i = 0; i < nr; i++)
                args[w++] = rest[i];
        args[w] = NULL;
        free(rest);
}

int worker_main(int argc, char **argv) {
        const char *sealrun = NULL, *out = NULL, *err = NULL, *status = NULL, *key_file = NULL;
        int i, fd_out, fd_err, fd_status, fd_key = -1, st;
        bool pass_socket = false;
        char **args;
        size_t na = 0;
        pid_t c;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        break;
                if (i + 1 >= argc)
                        goto usage;
                if (strcmp(argv[i], "--sealrun") == 0)
                        sealrun = argv[++i];
                else if (strcmp(argv[i], "--out") == 0)
                        out = argv[++i];
                else if (strcmp(argv[i], "--err") == 0)
                        err = argv[++i];
                else if (strcmp(argv[i], "--status") == 0)
                        status = argv[++i];
                else if (strcmp(argv[i], "--key-file") == 0)
                        key_file = argv[++i];
                else if (strcmp(argv[i], "--pass-socket") == 0)
                        pass_socket = strcmp(argv[++i], "1") == 0;
                else
                        goto usage;
        }
        if (i >= argc || !sealrun || !out || !err || !status)
                goto usage;
        i++;
        args = calloc((size_t)(argc - i) + 8, sizeof *args);
        if (!args)
                return 1;
        args[na++] = (char *)sealrun;
        fd_out = open_out(out);
        fd_err = open_out(err);
        fd_status = open_out(status);
        if (fd_out < 0 || fd_err < 0 || fd_status < 0) {
                printf("error the worker cannot open its output files: %s\n", strerror(errno));
                return 1;
        }
        if (key_file) {
                /* as a fleet worker does: the key reaches sealrun as an fd */
                fd_key = high(open(key_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
                if (fd_key < 0) {
                        printf("error the worker cannot open the pool key %s: %s\n", key_file, strerror(errno));
                        return 1;
                }
                args[na++] = (char *)"--key-fd";
                args[na++] = (char *)"3";
        }
        args[na++] = (char *)"--status-fd";
        args[na++] = (char *)"4";
        for (; i < argc; i++)
                args[na++] = argv[i];
        args[na] = NULL;

        setvbuf(stdout, NULL, _IOLBF, 0);
        const char *pre = getenv("SEALRUN_LEAKTEST_PREBUILT");
        pid_t claimer = -1;
        char sock[PATH_MAX];
        if (pre && strcmp(pre, "1") == 0 && !pass_socket) {
                snprintf(sock, sizeof sock, "%s.prebuilt.sock", status);
                unlink(sock);
                c = spawn_prebuilt(sealrun, args, sock, fd_err);
                if (c < 0)
                        return 1;
                for (int k = 0; k < 500 && access(sock, F_OK) != 0; k++)
                        usleep(10000);
                claim_args(args, sock);
                claimer = fork();
                if (claimer < 0)
                        return 1;
        } else
                c = fork();
        if (c < 0)
                return 1;
        if (c == 0 || claimer == 0) {
                int devnull = high(open("/dev/null", O_RDONLY | O_CLOEXEC));
                /* fd 5 (the payload's socket) is already in place */
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(fd_out, 1) < 0 || dup2(fd_err, 2) < 0 ||
                    (fd_key >= 0 && dup2(fd_key, 3) < 0) || dup2(fd_status, 4) < 0)
                        _exit(125);
                int keep_max = pass_socket ? 5 : 4;
                close_range((unsigned)keep_max + 1, ~0u, 0);
                if (!pass_socket)
                        close(5);
                if (fd_key < 0)
                        close(3);
                execv(sealrun, args);
                dprintf(2, "sealrun-leaktest worker: exec %s: %s\n", sealrun, strerror(errno));
                _exit(127);
        }
        close(fd_out);
        close(fd_err);
        close(fd_status);
        if (fd_key >= 0)
                close(fd_key);
        close(5); /* the payload's socket belongs to the sandbox now */
        printf("started %d\n", (int)c);
        if (claimer > 0)
                while (waitpid(claimer, NULL, 0) < 0 && errno == EINTR)
                        ;
        while (waitpid(c, &st, 0) < 0)
                if (errno != EINTR)
                        return 1;
        printf("exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char lp[64], target[512];
                int fd = atoi(de->d_name);
                if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd <= 2 || fd == dirfd(d))
                        continue;
                snprintf(lp, sizeof lp, "/proc/self/fd/%s", de->d_name);
                ssize_t n = readlink(lp, target, sizeof target - 1);
                target[n > 0 ? n : 0] = '\0';
                printf("fd %d %s\n", fd, target);
        }
        if (d)
                closedir(d);
        printf("done\n");
        fflush(stdout);
        /* stay, so the host can look at this process after the release */
        for (;;) {
                char b[16];
                ssize_t r = read(0, b, sizeof b);
                if (r == 0 || (r < 0 && errno != EINTR))
                        break;
        }
        free(args);
        return 0;
usage:
        fprintf(stderr, "sealrun-leaktest --worker: internal mode, bad arguments\n");
        return 2;
}
