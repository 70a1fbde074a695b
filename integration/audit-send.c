/* Test client for sealrun-auditd: sends raw messages (good, garbage, oversized) and prints the replies.
 *
 * audit-send [--no-wait] [--linger MS] [--timeout MS] SOCKET MSG...
 *   MSG "-"         read messages from stdin, one per line
 *   MSG "@big:N"    N bytes of 'x' (oversized / garbage)
 *   MSG "@empty"    a zero-length message
 *   anything else   sent as is
 * Each reply is printed on stdout, one line; "(no reply)" after a timeout.
 * --no-wait sends everything without reading replies; --linger keeps the
 * connection open (silent) for MS before closing. Exit 0, or 1 on socket errors.
 *
 * audit-send --serve SOCKET --refuse EVENT
 *   a fake collector for tests: acks every event except those of type EVENT,
 *   which get an error reply "refused-by-test"; prints what it receives. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int timeout_ms = 5000;
static int no_wait;

static int send_one(int fd, const char *msg, size_t len) {
        char buf[65536];
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;
        if (send(fd, msg, len, MSG_NOSIGNAL) < 0) {
                printf("(send failed: %s)\n", strerror(errno));
                return 1;
        }
        if (no_wait)
                return 0;
        if (poll(&p, 1, timeout_ms) <= 0) {
                printf("(no reply)\n");
                return 0;
        }
        n = recv(fd, buf, sizeof buf - 1, 0);
        if (n <= 0) {
                printf("(connection closed)\n");
                return 1;
        }
        buf[n] = 0;
        printf("%s\n", buf);
        fflush(stdout);
        return 0;
}

/* "seq":N out of a message, 0 when absent. */
static unsigned long seq_of(const char *m) {
        const char *p = strstr(m, "\"seq\":");
        return p ? strtoul(p + 6, NULL, 10) : 0;
}

static int serve(const char *path, const char *refuse) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char pat[64];
        int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        snprintf(pat, sizeof pat, "\"event\":\"%s\"", refuse);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 16) < 0) {
                fprintf(stderr, "audit-send: %s: %s\n", path, strerror(errno));
                return 1;
        }
        for (;;) {
                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                char buf[65536], rep[256];
                ssize_t n;
                if (c < 0)
                        continue;
                while ((n = recv(c, buf, sizeof buf - 1, 0)) > 0) {
                        buf[n] = 0;
                        printf("%s\n", buf);
                        fflush(stdout);
                        if (strstr(buf, pat))
                                snprintf(rep, sizeof rep,
                                         "{\"schema\":1,\"seq\":%lu,\"status\":\"error\",\"error\":\"refused-by-test\","
                                         "\"message\":\"refused\"}",
                                         seq_of(buf));
                        else
                                snprintf(rep, sizeof rep, "{\"schema\":1,\"seq\":%lu,\"status\":\"ok\",\"line\":%lu}",
                                         seq_of(buf), seq_of(buf));
                        (void)!send(c, rep, strlen(rep), MSG_NOSIGNAL);
                }
                close(c);
        }
}

int main(int argc, char **argv) {
        if (argc == 5 && strcmp(argv[1], "--serve") == 0 && strcmp(argv[3], "--refuse") == 0)
                return serve(argv[2], argv[4]);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, i = 1, linger = 0, rc = 0;
        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--no-wait") == 0)
                        no_wait = 1;
                else if (strcmp(argv[i], "--linger") == 0 && i + 1 < argc)
                        linger = atoi(argv[++i]);
                else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
                        timeout_ms = atoi(argv[++i]);
                else {
                        fprintf(stderr, "audit-send: unknown option %s\n", argv[i]);
                        return 2;
                }
        }
        if (i >= argc) {
                fprintf(stderr, "usage: audit-send [--no-wait] [--linger MS] [--timeout MS] SOCKET MSG...\n");
                return 2;
        }
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[i++]);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                fprintf(stderr, "audit-send: %s: %s\n", sa.sun_path, strerror(errno));
                return 1;
        }
        for (; i < argc; i++) {
                if (strcmp(argv[i], "-") == 0) {
                        char *line = NULL;
                        size_t cap = 0;
                        ssize_t n;
                        while ((n = getline(&line, &cap, stdin)) > 0) {
                                if (line[n - 1] == '\n')
                                        line[--n] = 0;
                                rc |= send_one(fd, line, (size_t)n);
                        }
                        free(line);
                } else if (strncmp(argv[i], "@big:", 5) == 0) {
                        size_t n = strtoul(argv[i] + 5, NULL, 10);
                        char *b = malloc(n ? n : 1);
                        if (!b)
                                return 1;
                        memset(b, 'x', n);
                        rc |= send_one(fd, b, n);
                        free(b);
                } else if (strcmp(argv[i], "@empty") == 0) {
                        rc |= send_one(fd, "", 0);
                } else
                        rc |= send_one(fd, argv[i], strlen(argv[i]));
        }
        if (linger > 0)
                usleep((useconds_t)linger * 1000);
        close(fd);
        return rc;
}
