/* The one exec site: fd hygiene, working directory, PATH search, execve. */
#include "launcher/exec.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "launcher/sync.h"
#include "launcher/trace.h"

static int cmp_int(const void *a, const void *b) {
        return *(const int *)a - *(const int *)b;
}

int exec_close_fds(struct task *t, struct sr_error *e) {
        int kept[CLI_MAX_LIST + 2];
        size_t n = 0;
        unsigned lo = 3;
        kept[n++] = t->sync_child;
        if (t->exec_report >= 0)
                kept[n++] = t->exec_report;
        for (size_t i = 0; i < t->cfg.n_pass_fds; i++)
                kept[n++] = t->cfg.pass_fds[i];
        qsort(kept, n, sizeof *kept, cmp_int);
        /* Close the gaps between kept fds; close_range(2) needs no /proc. */
        for (size_t i = 0; i < n; i++) {
                if (kept[i] < (int)lo)
                        continue;
                if ((unsigned)kept[i] > lo && syscall(SYS_close_range, lo, (unsigned)kept[i] - 1, 0) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "close_fds", "close_range: %s", strerror(errno));
                lo = (unsigned)kept[i] + 1;
        }
        if (syscall(SYS_close_range, lo, ~0U, 0) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "close_fds", "close_range: %s", strerror(errno));
        for (size_t i = 0; i < t->cfg.n_pass_fds; i++) {
                int fd = t->cfg.pass_fds[i], fl = fcntl(fd, F_GETFD);
                if (fl >= 0)
                        fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
        }
        return 0;
}

static const char *env_get(char **envp, const char *name) {
        size_t n = strlen(name);
        for (char **p = envp; p && *p; p++)
                if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
                        return *p + n + 1;
        return NULL;
}

/* execvpe() searches the caller's PATH; the payload's PATH is in envp. */
static int exec_search(char **argv, char **envp) {
        const char *path = env_get(envp, "PATH"), *p;
        char buf[4096];
        int err = ENOENT;
        if (strchr(argv[0], '/')) {
                execve(argv[0], argv, envp);
                return errno;
        }
        if (!path)
                path = "/usr/local/bin:/usr/bin:/bin";
        for (p = path;;) {
                const char *end = strchrnul(p, ':');
                size_t n = (size_t)(end - p);
                if (n && n + strlen(argv[0]) + 2 <= sizeof buf) {
                        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, argv[0]);
                        execve(buf, argv, envp);
                        if (errno != ENOENT && errno != ENOTDIR)
                                err = errno; /* remember EACCES like execvp */
                }
                if (!*end)
                        break;
                p = end + 1;
        }
        return err;
}

void exec_report_failure(struct task *t) {
        if (t->exec_report > 2 && write(t->exec_report, "!", 1) < 0) {
                /* init then sees a clean close; the supervisor still has the error */
        }
}

void exec_payload(struct task *t) {
        int err;
        const char *dir = t->cfg.chdir ? t->cfg.chdir : "/";
        if (chdir(dir) < 0) {
                struct sr_error e;
                sr_fail(&e, SR_EXIT_LAUNCHER, errno, "chdir", "cannot change to %s inside the sandbox: %s", dir,
                        strerror(errno));
                sync_send_error(t->sync_child, "chdir", &e);
                exec_report_failure(t);
                _exit(SR_EXIT_LAUNCHER);
        }
        trace_point(TRACE_PAYLOAD_EXEC);
        err = exec_search(t->cfg.argv, t->envp);
        sync_send(t->sync_child, SYNC_EXEC_FAILED, err, 0, "exec", NULL);
        exec_report_failure(t);
        _exit(err == ENOENT || err == ENOTDIR ? SR_EXIT_NOTFOUND : SR_EXIT_NOEXEC);
}
