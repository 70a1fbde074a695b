/* sealrun-auditd: the audit collector (command line, socket and directory setup). */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "helpers/auditd/server.h"
#include "policy/audit_proto.h"

#define SD_LISTEN_FDS_START 3

struct opts {
        const char *socket;
        const char *dir;
        const char *allow;
        int64_t rotate_bytes;  /* 0 = no size limit */
        int64_t rotate_age_ms; /* 0 = no age limit */
};

/* N[K|M|G] bytes, at least 4 KiB. */
static int parse_size(const char *s, int64_t *ret) {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || v <= 0)
                return -EINVAL;
        switch (*end) {
        case 'K':
                v <<= 10;
                end++;
                break;
        case 'M':
                v <<= 20;
                end++;
                break;
        case 'G':
                v <<= 30;
                end++;
                break;
        }
        if (*end || v < 4096 || v > (1LL << 50))
                return -EINVAL;
        *ret = v;
        return 0;
}

/* N(s|m|h|d). */
static int parse_age(const char *s, int64_t *ret) {
        char *end;
        long long v, mult;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || v <= 0 || end[0] == 0 || end[1] != 0)
                return -EINVAL;
        mult = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400 : 0;
        if (!mult || v > 366LL * 86400 / mult)
                return -EINVAL;
        *ret = v * mult * 1000;
        return 0;
}

static void usage(FILE *f) {
        fputs("usage: sealrun-auditd --dir DIR [--socket PATH] [--allow FILE] [--rotate-size N[K|M|G]] [--rotate-age "
              "N(s|m|h|d)]\n"
              "  --socket PATH  AF_UNIX SOCK_SEQPACKET socket to create (default " AUDIT_DEFAULT_SOCKET ");\n"
              "                 ignored when systemd passes one (LISTEN_FDS/LISTEN_PID)\n"
              "  --dir DIR      where DIR/<tenant>.jsonl files are appended (created 0750 if missing)\n"
              "  --allow FILE   uid -> tenants map; without it only uid 0 may write events\n"
              "  --rotate-size N, --rotate-age AGE\n"
              "                 start a new DIR/<tenant>.jsonl when the current one reaches N bytes (>= 4K)\n"
              "                 or its first line is AGE old; the old file becomes\n"
              "                 <tenant>.jsonl.NNNNNN and the hash chain runs on across files\n"
              "Signals: TERM/INT stop cleanly, HUP reloads --allow, USR1 logs the counters.\n",
              f);
}

static int parse_args(int argc, char **argv, struct opts *o, struct sr_error *e) {
        static const struct option lo[] = {
                { "socket", required_argument, NULL, 's' },      { "dir", required_argument, NULL, 'd' },
                { "allow", required_argument, NULL, 'a' },       { "help", no_argument, NULL, 'h' },
                { "rotate-size", required_argument, NULL, 'S' }, { "rotate-age", required_argument, NULL, 'A' },
                { "version", no_argument, NULL, 'V' },           { 0 },
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
                switch (c) {
                case 's': o->socket = optarg; break;
                case 'd': o->dir = optarg; break;
                case 'a': o->allow = optarg; break;
                case 'S':
                        if (parse_size(optarg, &o->rotate_bytes) < 0)
                                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                               "--rotate-size: expected N[K|M|G], at least 4K");
                        break;
                case 'A':
                        if (parse_age(optarg, &o->rotate_age_ms) < 0)
                                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                               "--rotate-age: expected N followed by s, m, h or d, up to 366d");
                        break;
                case 'h': usage(stdout); exit(0);
                case 'V': printf("sealrun-auditd %s\n", SEALRUN_VERSION); exit(0);
                default:
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "%s: unknown option or missing value (see --help)", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "%s: unexpected argument", argv[optind]);
        if (!o->dir)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "--dir DIR is required");
        if (o->socket && (o->socket[0] != '/' || strlen(o->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "--socket: must be an absolute path shorter than 108 bytes");
        return 0;
}

/* systemd socket activation: exactly one AF_UNIX SOCK_SEQPACKET listening socket at fd 3. */
static int listen_fds(int *ret, struct sr_error *e) {
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        long p, n;
        int type = 0, domain = 0, acc = 0;
        socklen_t l = sizeof type;
        if (!pid || !fds || parse_long(pid, 1, INT32_MAX, &p) < 0 || p != getpid())
                return 0;
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        if (parse_long(fds, 0, 64, &n) < 0 || n != 1)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "LISTEN_FDS: expected exactly one socket, got %s",
                               fds);
        if (getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_SEQPACKET ||
            getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_DOMAIN, &domain, &l) < 0 || domain != AF_UNIX ||
            getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 || !acc)
                return sr_fail(
                        e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                        "LISTEN_FDS: fd 3 is not a listening AF_UNIX SOCK_SEQPACKET socket (ListenSequentialPacket=)");
        if (fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC) < 0 ||
            fcntl(SD_LISTEN_FDS_START, F_SETFL, fcntl(SD_LISTEN_FDS_START, F_GETFL) | O_NONBLOCK) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "LISTEN_FDS: %s", strerror(errno));
        *ret = SD_LISTEN_FDS_START;
        return 1;
}

/* Bind PATH; a stale socket (nobody answers) is replaced, a live one refused. */
static int listen_path(const char *path, int *ret, struct sr_error *e) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;
        mode_t old;
        char dir[sizeof sa.sun_path], *slash;
        int r;

        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        snprintf(dir, sizeof dir, "%s", path);
        if ((slash = strrchr(dir, '/')) && slash != dir) {
                *slash = 0;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "%s: cannot create: %s", dir,
                                       strerror(errno));
        }
        if (lstat(path, &st) == 0) {
                _cleanup_close_ int probe = -1;
                if (!S_ISSOCK(st.st_mode))
                        return sr_fail(e, SR_EXIT_LAUNCHER, EEXIST, "setup", "%s: exists and is not a socket", path);
                probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0)
                        return sr_fail(e, SR_EXIT_TEMPFAIL, EADDRINUSE, "busy", "%s: another collector is listening",
                                       path);
                if (unlink(path) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "%s: cannot remove a stale socket: %s",
                                       path, strerror(errno));
        }
        if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "socket: %s", strerror(errno));
        /* anyone may connect; the allow map (by SO_PEERCRED uid) decides what is written */
        old = umask(0111);
        r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        umask(old);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "%s: cannot bind: %s", path, strerror(errno));
        if (listen(fd, 128) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "%s: cannot listen: %s", path, strerror(errno));
        *ret = TAKE_FD(fd);
        return 0;
}

/* Open (or create) DIR and take its lock: two collectors must never extend the same chain. */
static int open_dir(const char *dir, int *ret_dir, int *ret_lock, struct sr_error *e) {
        _cleanup_close_ int dfd = -1, lfd = -1;
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "%s: cannot create: %s", dir, strerror(errno));
        if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "%s: cannot open: %s", dir, strerror(errno));
        if ((lfd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "%s/.lock: %s", dir, strerror(errno));
        if (flock(lfd, LOCK_EX | LOCK_NB) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "busy", "%s: another collector writes here", dir);
        *ret_dir = TAKE_FD(dfd);
        *ret_lock = TAKE_FD(lfd);
        return 0;
}

int main(int argc, char **argv) {
        struct opts o = { 0 };
        struct sr_error e = { 0 };
        struct auditd d = { .listen_fd = -1, .dir_fd = -1, .epoll_fd = -1, .signal_fd = -1 };
        int lock_fd = -1, r;
        bool bound = false;
        sigset_t mask;

        if (parse_args(argc, argv, &o, &e) < 0)
                goto fail;
        if (sodium_init() < 0) {
                sr_fail(&e, SR_EXIT_LAUNCHER, EIO, "setup", "libsodium failed to initialise");
                goto fail;
        }
        /* block before anything is created, so a TERM during setup is not lost */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* a file size limit must surface as a write error (no ack), not kill us */
        signal(SIGXFSZ, SIG_IGN);

        /* clients must never exhaust the fds: a level-triggered listen socket
         * would spin on EMFILE. Leave room for tenant files and the rest. */
        {
                struct rlimit rl;
                d.max_clients = 16;
                if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                        rlim_t want = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
                        if (rl.rlim_cur < want) {
                                rl.rlim_cur = want;
                                (void)setrlimit(RLIMIT_NOFILE, &rl);
                                (void)getrlimit(RLIMIT_NOFILE, &rl);
                        }
                        if (rl.rlim_cur > AUDITD_MAX_OPEN_FILES + 64 + 16)
                                d.max_clients = rl.rlim_cur - AUDITD_MAX_OPEN_FILES - 64;
                        if (d.max_clients > AUDITD_MAX_CLIENTS)
                                d.max_clients = AUDITD_MAX_CLIENTS;
                }
        }
        d.dir = o.dir;
        d.rotate_bytes = o.rotate_bytes;
        d.rotate_age_ms = o.rotate_age_ms;
        d.allow_path = o.allow;
        if (o.allow && audit_allow_load(o.allow, &d.allow, &e) < 0)
                goto fail;
        if (open_dir(o.dir, &d.dir_fd, &lock_fd, &e) < 0)
                goto fail;
        if ((r = listen_fds(&d.listen_fd, &e)) < 0)
                goto fail;
        if (r == 0) {
                if (!o.socket)
                        o.socket = AUDIT_DEFAULT_SOCKET;
                if (listen_path(o.socket, &d.listen_fd, &e) < 0)
                        goto fail;
                bound = true;
        }
        fprintf(stderr, "sealrun-auditd: listening on %s, writing %s, %s\n",
                bound ? o.socket : "fd 3 (socket activation)", o.dir,
                o.allow ? "allow map loaded" : "only uid 0 may write");
        r = auditd_run(&d, &e);
        if (bound)
                unlink(o.socket);
        auditd_log_stats(&d, "stopping");
        audit_allow_free(d.allow);
        if (r < 0)
                goto fail;
        return 0;
fail:
        fprintf(stderr, "sealrun-auditd: %s\n", e.msg);
        return e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
}
