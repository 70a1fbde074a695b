/* The report's metadata: when, on which kernel, which sealrun, under which policy (so CI can tell runs apart). */
#include "helpers/leaktest/leaktest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>

void meta_time(struct report_meta *m, int when) {
        char *dst = when ? m->finished : m->started;
        time_t now = time(NULL);
        struct tm tm;
        if (gmtime_r(&now, &tm))
                strftime(dst, sizeof m->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* First line of `PATH --version`, run directly (no shell), within 5 s. */
static void tool_version(const char *path, char *buf, size_t size) {
        int p[2], status;
        size_t n = 0;
        pid_t pid;
        buf[0] = 0;
        if (!path || pipe2(p, O_CLOEXEC) < 0)
                return;
        pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(p[1], 1);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 2);
                }
                execl(path, path, "--version", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        if (pid > 0) {
                struct pollfd pf = { .fd = p[0], .events = POLLIN };
                while (n + 1 < size && poll(&pf, 1, 5000) > 0) {
                        ssize_t r = read(p[0], buf + n, size - 1 - n);
                        if (r <= 0)
                                break;
                        n += (size_t)r;
                }
                buf[n] = 0;
                buf[strcspn(buf, "\n")] = 0;
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        close(p[0]);
}

void meta_host(struct report_meta *m, const char *sealrun) {
        struct utsname u;
        if (uname(&u) == 0)
                snprintf(m->kernel, sizeof m->kernel, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
        tool_version(sealrun, m->sealrun_version, sizeof m->sealrun_version);
}

void meta_policy(struct report_meta *m, const char *what, const char *path) {
        uint8_t h[32], buf[65536];
        crypto_generichash_state st;
        ssize_t n;
        int fd;
        snprintf(m->policy, sizeof m->policy, "%s", what);
        m->policy_hash[0] = 0;
        if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
                return;
        crypto_generichash_init(&st, NULL, 0, sizeof h);
        while ((n = read(fd, buf, sizeof buf)) > 0)
                crypto_generichash_update(&st, buf, (size_t)n);
        close(fd);
        if (n < 0)
                return;
        crypto_generichash_final(&st, h, sizeof h);
        sodium_bin2hex(m->policy_hash, sizeof m->policy_hash, h, sizeof h);
}
