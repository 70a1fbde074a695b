/* Escape probe for network mode "proxy", run as the payload: tries to reach
 * around or into the egress proxy and prints one "NAME RESULT" line per try
 * (RESULT "ok" or the errno name). A control target (a child the probe forks
 * itself) shows the same tries succeed where nothing protects the target.
 *   egress_escape proxy        kill/trace/read the process named sealrun-proxy
 *   egress_escape control      the same against the probe's own child
 *   egress_escape killall [CMD ARGS...]   kill(-1, SIGKILL), then exec CMD
 *   egress_escape bind PORT | raw | packet | udp ADDR PORT | tcp ADDR PORT | dns NAME */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_ether.h>

static void res(const char *name, int r) {
        printf("%s %s\n", name, r >= 0 ? "ok" : strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
}

static pid_t find_comm(const char *want) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        pid_t found = -1;
        while (d && (de = readdir(d))) {
                char p[300], comm[64] = "";
                FILE *f;
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(p, sizeof p, "/proc/%s/comm", de->d_name);
                if (!(f = fopen(p, "r")))
                        continue;
                if (fgets(comm, sizeof comm, f) && strncmp(comm, want, strlen(want)) == 0 && comm[strlen(want)] == '\n')
                        found = atoi(de->d_name);
                fclose(f);
        }
        if (d)
                closedir(d);
        return found;
}

static void nspid(pid_t n) {
        char p[64], line[256];
        FILE *f;
        snprintf(p, sizeof p, "/proc/%d/status", (int)n);
        f = fopen(p, "r");
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "NSpid:", 6) == 0) {
                        int fields = 0;
                        for (char *s = strtok(line + 6, " \t\n"); s; s = strtok(NULL, " \t\n"))
                                fields++;
                        printf("nspid_levels %d\n", fields);
                }
        if (f)
                fclose(f);
}

/* n: the number in /proc (the outer namespace when /proc is the outer one); own: our own number for it, or 0 */
static void attack(pid_t n, pid_t own) {
        char p[64], buf[64];
        int fd;
        snprintf(p, sizeof p, "/proc/%d/mem", (int)n);
        fd = open(p, O_RDONLY);
        res("mem", fd);
        snprintf(p, sizeof p, "/proc/%d/environ", (int)n);
        fd = open(p, O_RDONLY);
        if (fd >= 0 && read(fd, buf, sizeof buf) < 0)
                fd = -1;
        res("environ", fd);
        snprintf(p, sizeof p, "/proc/%d/fd/0", (int)n);
        res("fd", (int)readlink(p, buf, sizeof buf));
        snprintf(p, sizeof p, "/proc/%d/cwd/", (int)n);
        res("cwd", open(p, O_RDONLY | O_DIRECTORY));
        nspid(n);
        /* the proxy's number is only meaningful in the outer namespace: by
         * number we try only against the control, whose number is ours */
        if (own) {
                long r = ptrace(PTRACE_SEIZE, own, 0, 0);
                res("ptrace", (int)r);
                if (r == 0)
                        ptrace(PTRACE_DETACH, own, 0, 0);
        }
        snprintf(p, sizeof p, "/proc/%d", (int)n);
        fd = open(p, O_RDONLY | O_DIRECTORY);
        res("pidfd_kill", fd < 0 ? -1 : (int)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0));
}

static int tcp(const char *addr, int port) {
        struct sockaddr_storage ss = { 0 };
        struct sockaddr_in *a4 = (void *)&ss;
        struct sockaddr_in6 *a6 = (void *)&ss;
        socklen_t sl;
        int fd, af = strchr(addr, ':') ? AF_INET6 : AF_INET;
        if (af == AF_INET) {
                a4->sin_family = AF_INET;
                a4->sin_port = htons((uint16_t)port);
                inet_pton(AF_INET, addr, &a4->sin_addr);
                sl = sizeof *a4;
        } else {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t)port);
                inet_pton(AF_INET6, addr, &a6->sin6_addr);
                sl = sizeof *a6;
        }
        fd = socket(af, SOCK_STREAM, 0);
        if (fd < 0)
                return -1;
        return connect(fd, (struct sockaddr *)&ss, sl);
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 2 && strcmp(argv[1], "proxy") == 0) {
                pid_t n = find_comm("sealrun-proxy");
                printf("found %s\n", n > 0 ? "yes" : "no");
                if (n > 0)
                        attack(n, 0);
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "control") == 0) {
                pid_t c = fork();
                if (c == 0) {
                        prctl(PR_SET_NAME, "victim", 0, 0, 0);
                        pause();
                        _exit(0);
                }
                usleep(100000);
                attack(find_comm("victim"), c);
                waitpid(c, NULL, 0);
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "killall") == 0) {
                /* everything this process can signal, then (optionally) run argv[2..] */
                res("killall", kill(-1, SIGKILL));
                usleep(200000);
                if (argc > 2) {
                        execv(argv[2], argv + 2);
                        return 127;
                }
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "bind") == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                res("bind", bind(fd, (struct sockaddr *)&sa, sizeof sa));
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "raw") == 0) {
                res("raw", socket(AF_INET, SOCK_RAW, IPPROTO_TCP));
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "packet") == 0) {
                res("packet", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "udp") == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
                int fd = socket(AF_INET, SOCK_DGRAM, 0);
                inet_pton(AF_INET, argv[2], &sa.sin_addr);
                res("udp", (int)sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof sa));
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "tcp") == 0) {
                res("tcp", tcp(argv[2], atoi(argv[3])));
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "dns") == 0) {
                struct addrinfo *ai = NULL, hints = { .ai_socktype = SOCK_STREAM };
                int r = getaddrinfo(argv[2], NULL, &hints, &ai);
                char a[64] = "";
                if (r == 0 && ai)
                        getnameinfo(ai->ai_addr, ai->ai_addrlen, a, sizeof a, NULL, 0, NI_NUMERICHOST);
                printf("dns %s\n", r == 0 ? a : r == EAI_NONAME ? "NONAME" : gai_strerror(r));
                return 0;
        }
        fprintf(stderr, "usage: see the header of egress_escape.c\n");
        return 2;
}
