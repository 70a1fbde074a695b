/* Resource hogs for the resource tests, run inside the sandbox:
 *   hog mem MB         touch MB MiB of anonymous memory, print "survived"
 *   hog forks N        fork up to N sleeping children, print how many forks succeeded
 *   hog spin MS [P]    P processes (default 2) burn CPU for MS ms of wall time
 *   hog escape S       double-fork into a new session, everyone ignores SIGTERM, sleep S s
 *   hog runas UID GID CMD...   (root, VM tier) drop to UID/GID, no groups, exec CMD */
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mem(long mb) {
        size_t sz = (size_t)mb << 20;
        char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
                perror("mmap");
                return 2;
        }
        for (size_t i = 0; i < sz; i += 4096)
                m[i] = (char)i;
        printf("survived\n");
        return 0;
}

static int forks(long n) {
        long ok = 0;
        for (long i = 0; i < n; i++) {
                pid_t p = fork();
                if (p == 0) {
                        sleep(60);
                        _exit(0);
                }
                if (p < 0)
                        break;
                ok++;
        }
        printf("%ld\n", ok);
        fflush(stdout);
        return 0;
}

static int spin(long dur, long procs) {
        long long end = ms() + dur;
        for (long i = 1; i < procs; i++)
                if (fork() == 0)
                        break;
        for (volatile unsigned long x = 0; ms() < end; x++)
                ;
        while (wait(NULL) > 0)
                ;
        return 0;
}

static int escape(long s) {
        signal(SIGTERM, SIG_IGN);
        if (fork() == 0) {
                setsid();
                if (fork() == 0) {
                        sleep((unsigned)s);
                        _exit(0);
                }
                _exit(0);
        }
        sleep((unsigned)s);
        return 0;
}

static int runas(char **argv) {
        uid_t u = (uid_t)strtoul(argv[0], NULL, 10);
        gid_t g = (gid_t)strtoul(argv[1], NULL, 10);
        if (setgroups(0, NULL) < 0 || setresgid(g, g, g) < 0 || setresuid(u, u, u) < 0) {
                perror("runas");
                return 125;
        }
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        return 127;
}

int main(int argc, char **argv) {
        long a = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
        if (argc > 2 && strcmp(argv[1], "mem") == 0)
                return mem(a);
        if (argc > 2 && strcmp(argv[1], "forks") == 0)
                return forks(a);
        if (argc > 2 && strcmp(argv[1], "spin") == 0)
                return spin(a, argc > 3 ? strtol(argv[3], NULL, 10) : 2);
        if (argc > 2 && strcmp(argv[1], "escape") == 0)
                return escape(a);
        if (argc > 4 && strcmp(argv[1], "runas") == 0)
                return runas(argv + 2);
        fprintf(stderr, "usage: hog mem MB | forks N | spin MS [P] | escape S | runas UID GID CMD...\n");
        return 64;
}
