/* Test client for sealrun-auditd: sends raw messages (good, garbage, oversized) and prints the replies.
 *
 * audit-send [--no-wait] [--linger MS] [--timeout MS] SOCKET MSG...
 *   MSG "-"         read messages from stdin, one per line
 *   MSG "@big:N"    N bytes of 'x' (oversized / garbage)
 *   MSG "@empty"    a zero-length message
 *   anything else   sent as is
 * Each reply is printed on stdout, one line; "(no reply)" after a timeout.
 * --no-wait sends everything without reading replies; --linger keeps the
 * connection open (silent) for MS before closing. Exit 0, or 1 on socket errors. */
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

int main(int argc, char **argv) {
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
