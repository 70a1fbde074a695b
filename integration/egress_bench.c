/* Egress benchmark helper (make bench): a loopback server and a client that
 * measures connection setup and bulk throughput, directly or through the
 * egress proxy's CONNECT.
 *   egress_bench serve PORT greet|BYTES COUNT   accept COUNT connections (180 s at most): send 1 byte (greet) or BYTES,
 * close egress_bench latency HOST PORT N [PROXY_PORT]   connect (+ CONNECT) until the first byte; median/p90 in us
 *   egress_bench bulk HOST PORT [PROXY_PORT]        read until EOF; MiB/s
 *   egress_bench relay LPORT PORT                   one connection on 127.0.0.1:LPORT relayed to 127.0.0.1:PORT by
 *                                                   blocking splice(2) through a 1 MiB pipe: the ceiling any relay
 *                                                   process reaches on this machine (no parsing, no epoll) */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const char *host, int port, int proxy) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(proxy ? proxy : port)) };
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        inet_pton(AF_INET, proxy ? "127.0.0.1" : host, &sa.sin_addr);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return -1;
        if (proxy) {
                char req[512], buf[1];
                size_t seen = 0;
                int n = snprintf(req, sizeof req, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n", host, port, host,
                                 port);
                if (write(fd, req, (size_t)n) != n)
                        return -1;
                /* the head ends at the first CRLFCRLF; read it byte by byte */
                while (seen < 4) {
                        if (read(fd, buf, 1) != 1)
                                return -1;
                        seen = (buf[0] == (seen % 2 ? '\n' : '\r')) ? seen + 1 : (buf[0] == '\r');
                }
        }
        return fd;
}

static int cmp(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        if (argc == 5 && strcmp(argv[1], "serve") == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
                long long bytes = strcmp(argv[3], "greet") == 0 ? 1 : atoll(argv[3]);
                int one = 1, count = atoi(argv[4]), lfd = socket(AF_INET, SOCK_STREAM, 0);
                static char buf[1 << 16];
                sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                alarm(180); /* never outlive the benchmark */
                setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 128) < 0)
                        return perror("bind"), 1;
                printf("ready\n");
                fflush(stdout);
                for (int i = 0; i < count; i++) {
                        int fd = accept(lfd, NULL, NULL);
                        for (long long left = bytes; fd >= 0 && left > 0;) {
                                ssize_t n = write(fd, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
                                if (n <= 0)
                                        break;
                                left -= n;
                        }
                        if (fd >= 0)
                                close(fd);
                }
                return 0;
        }
        if ((argc == 5 || argc == 6) && strcmp(argv[1], "latency") == 0) {
                int n = atoi(argv[4]), proxy = argc == 6 ? atoi(argv[5]) : 0;
                double *t = calloc((size_t)n, sizeof *t);
                for (int i = 0; i < n; i++) {
                        double t0 = now();
                        char b;
                        int fd = dial(argv[2], atoi(argv[3]), proxy);
                        if (fd < 0 || read(fd, &b, 1) != 1)
                                return fprintf(stderr, "latency: connection %d failed\n", i), 1;
                        t[i] = (now() - t0) * 1e6;
                        close(fd);
                }
                qsort(t, (size_t)n, sizeof *t, cmp);
                printf("median_us %.0f p90_us %.0f\n", t[n / 2], t[n * 9 / 10]);
                return 0;
        }
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "bulk") == 0) {
                static char buf[1 << 17];
                long long total = 0;
                double t0 = now();
                int fd = dial(argv[2], atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 0);
                ssize_t r;
                if (fd < 0)
                        return fprintf(stderr, "bulk: cannot connect\n"), 1;
                while ((r = read(fd, buf, sizeof buf)) > 0)
                        total += r;
                printf("bytes %lld mib_s %.0f\n", total, (double)total / 1048576.0 / (now() - t0));
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "relay") == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
                int one = 1, p[2], lfd = socket(AF_INET, SOCK_STREAM, 0), cfd, ufd;
                sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                alarm(180);
                setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1) < 0)
                        return perror("bind"), 1;
                printf("ready\n");
                fflush(stdout);
                if ((cfd = accept(lfd, NULL, NULL)) < 0 || (ufd = dial("127.0.0.1", atoi(argv[3]), 0)) < 0 ||
                    pipe(p) < 0)
                        return perror("relay"), 1;
                (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
                for (;;) {
                        ssize_t n = splice(ufd, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE), m;
                        if (n <= 0)
                                return 0;
                        for (; n > 0; n -= m)
                                if ((m = splice(p[0], NULL, cfd, NULL, (size_t)n, SPLICE_F_MOVE)) <= 0)
                                        return 1;
                }
        }
        fprintf(stderr, "usage: see the header of egress_bench.c\n");
        return 2;
}
