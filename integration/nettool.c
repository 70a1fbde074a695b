/* Tiny network probe for the network integration tests (run inside and outside
 * the sandbox): list interfaces, TCP self-test on one address, client, server.
 * Every subcommand gives up after a few seconds so a test can never hang. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int usage(void) {
        fprintf(stderr, "usage: nettool ifaces | addr IFNAME | self ADDR | connect ADDR PORT [TIMEOUT_MS]\n"
                        "       | serve ADDR PORT COUNT [READY_FILE] | userve NAME COUNT READY_FILE | uconnect NAME\n");
        return 2;
}

static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        memset(ss, 0, sizeof *ss);
        if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
                a4->sin_family = AF_INET;
                a4->sin_port = htons((uint16_t)port);
                *len = sizeof *a4;
                return AF_INET;
        }
        if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t)port);
                *len = sizeof *a6;
                return AF_INET6;
        }
        fprintf(stderr, "nettool: %s: not an address\n", addr);
        exit(2);
}

static const char *ntop(const struct sockaddr *sa, char *buf, size_t n) {
        const void *p = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                                 : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        return inet_ntop(sa->sa_family, p, buf, (socklen_t)n) ? buf : "?";
}

/* "name up|down addr..." per interface, one line each, sorted as listed. */
static int cmd_ifaces(void) {
        struct if_nameindex *ni = if_nameindex(), *i;
        struct ifaddrs *ifa = NULL;
        if (!ni || getifaddrs(&ifa) < 0) {
                perror("nettool: ifaces");
                return 1;
        }
        for (i = ni; i->if_index; i++) {
                unsigned flags = 0;
                char line[1024] = "", b[INET6_ADDRSTRLEN];
                for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
                        if (strcmp(a->ifa_name, i->if_name) != 0)
                                continue;
                        flags = a->ifa_flags;
                        if (a->ifa_addr && (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6)) {
                                strncat(line, " ", sizeof line - strlen(line) - 1);
                                strncat(line, ntop(a->ifa_addr, b, sizeof b), sizeof line - strlen(line) - 1);
                        }
                }
                printf("%s %s%s\n", i->if_name, (flags & IFF_UP) ? "up" : "down", line);
        }
        freeifaddrs(ifa);
        if_freenameindex(ni);
        return 0;
}

static int cmd_addr(const char *name) {
        struct ifaddrs *ifa = NULL;
        char b[INET_ADDRSTRLEN];
        int found = 0;
        if (getifaddrs(&ifa) < 0)
                return 1;
        for (struct ifaddrs *a = ifa; a; a = a->ifa_next)
                if (strcmp(a->ifa_name, name) == 0 && a->ifa_addr && a->ifa_addr->sa_family == AF_INET) {
                        printf("%s\n", ntop(a->ifa_addr, b, sizeof b));
                        found = 1;
                }
        freeifaddrs(ifa);
        return found ? 0 : 1;
}

static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int err = 0;
        socklen_t el = sizeof err;
        if (connect(fd, sa, len) == 0)
                return 0;
        if (errno != EINPROGRESS)
                return -errno;
        if (poll(&p, 1, timeout_ms) <= 0)
                return -ETIMEDOUT;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                return -errno;
        return -err;
}

/* Listen on ADDR (ephemeral port), connect to it, accept, exchange bytes. */
static int cmd_self(const char *addr) {
        struct sockaddr_storage ss;
        socklen_t len;
        int af = sockaddr_of(addr, 0, &ss, &len), one = 1, r;
        int l = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0), c, a;
        char buf[8] = "";
        if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *)&ss, &len) < 0) {
                fprintf(stderr, "nettool: listen on %s: %s\n", addr, strerror(errno));
                return 1;
        }
        c = socket(af, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c < 0 || (r = connect_timeout(c, (struct sockaddr *)&ss, len, 3000)) < 0) {
                fprintf(stderr, "nettool: connect to %s: %s\n", addr, strerror(c < 0 ? errno : -r));
                return 1;
        }
        a = accept(l, NULL, NULL);
        if (a < 0 || write(a, "ping", 4) != 4) {
                fprintf(stderr, "nettool: accept on %s: %s\n", addr, strerror(errno));
                return 1;
        }
        struct pollfd p = { .fd = c, .events = POLLIN };
        if (poll(&p, 1, 3000) != 1 || read(c, buf, 4) != 4 || memcmp(buf, "ping", 4) != 0) {
                fprintf(stderr, "nettool: no data over %s\n", addr);
                return 1;
        }
        printf("ok %s\n", addr);
        return 0;
}

/* Connect; print what the server sends (one line). Exit 0 connected, 1 not. */
static int cmd_connect(const char *addr, int port, int timeout_ms) {
        struct sockaddr_storage ss;
        socklen_t len;
        int af = sockaddr_of(addr, port, &ss, &len), r;
        int c = socket(af, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        char buf[256];
        ssize_t n;
        if (c < 0 || (r = connect_timeout(c, (struct sockaddr *)&ss, len, timeout_ms)) < 0) {
                printf("refused %s:%d: %s\n", addr, port, strerror(c < 0 ? errno : -r));
                return 1;
        }
        struct pollfd p = { .fd = c, .events = POLLIN };
        if (poll(&p, 1, timeout_ms) != 1 || (n = read(c, buf, sizeof buf - 1)) <= 0) {
                printf("connected %s:%d: no data\n", addr, port);
                return 0;
        }
        buf[n] = 0;
        printf("connected %s:%d: %s", addr, port, buf);
        return 0;
}

/* Listen on ADDR:PORT (IP_FREEBIND: the address may appear later, as the
 * host end of a veth does), answer COUNT clients with "hello PEER\n". */
static int cmd_serve(const char *addr, int port, int count, const char *ready) {
        struct sockaddr_storage ss, peer;
        socklen_t len, pl;
        int af = sockaddr_of(addr, port, &ss, &len), one = 1;
        int l = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char b[INET6_ADDRSTRLEN], msg[128];
        alarm(60);
        if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            setsockopt(l, af == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, af == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one,
                       sizeof one) < 0 ||
            bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 16) < 0) {
                fprintf(stderr, "nettool: serve on %s:%d: %s\n", addr, port, strerror(errno));
                return 1;
        }
        if (ready) {
                FILE *f = fopen(ready, "w");
                if (!f || fclose(f) != 0)
                        return 1;
        }
        for (int i = 0; i < count; i++) {
                pl = sizeof peer;
                int a = accept(l, (struct sockaddr *)&peer, &pl);
                if (a < 0)
                        return 1;
                snprintf(msg, sizeof msg, "hello %s\n", ntop((struct sockaddr *)&peer, b, sizeof b));
                if (write(a, msg, strlen(msg)) < 0)
                        return 1;
                close(a);
        }
        return 0;
}

/* Abstract unix sockets belong to the network namespace: NAME is given
 * without the leading NUL. */
static socklen_t abstract_addr(const char *name, struct sockaddr_un *sa) {
        memset(sa, 0, sizeof *sa);
        sa->sun_family = AF_UNIX;
        strncpy(sa->sun_path + 1, name, sizeof sa->sun_path - 2);
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa->sun_path + 1));
}

static int cmd_userve(const char *name, int count, const char *ready) {
        struct sockaddr_un sa;
        socklen_t len = abstract_addr(name, &sa);
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        FILE *f;
        alarm(60);
        if (l < 0 || bind(l, (struct sockaddr *)&sa, len) < 0 || listen(l, 4) < 0) {
                fprintf(stderr, "nettool: userve @%s: %s\n", name, strerror(errno));
                return 1;
        }
        if (!(f = fopen(ready, "w")) || fclose(f) != 0)
                return 1;
        for (int i = 0; i < count; i++) {
                int a = accept(l, NULL, NULL);
                if (a < 0 || write(a, "hello unix\n", 11) < 0)
                        return 1;
                close(a);
        }
        return 0;
}

static int cmd_uconnect(const char *name) {
        struct sockaddr_un sa;
        socklen_t len = abstract_addr(name, &sa);
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&sa, len) < 0) {
                printf("refused @%s: %s\n", name, strerror(errno));
                return 1;
        }
        printf("connected @%s\n", name);
        return 0;
}

int main(int argc, char **argv) {
        if (argc >= 2 && strcmp(argv[1], "ifaces") == 0)
                return cmd_ifaces();
        if (argc == 3 && strcmp(argv[1], "addr") == 0)
                return cmd_addr(argv[2]);
        if (argc == 3 && strcmp(argv[1], "self") == 0)
                return cmd_self(argv[2]);
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "connect") == 0)
                return cmd_connect(argv[2], atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 2000);
        if ((argc == 5 || argc == 6) && strcmp(argv[1], "serve") == 0)
                return cmd_serve(argv[2], atoi(argv[3]), atoi(argv[4]), argc == 6 ? argv[5] : NULL);
        if (argc == 5 && strcmp(argv[1], "userve") == 0)
                return cmd_userve(argv[2], atoi(argv[3]), argv[4]);
        if (argc == 3 && strcmp(argv[1], "uconnect") == 0)
                return cmd_uconnect(argv[2]);
        return usage();
}
