/* Escape suite: runs every probe in its own child and prints one JSON line per probe.
 *
 *   escape [--target-self] [--only NAME[,NAME...]] [--list]
 *
 * Each line: {"probe":"tiocsti","result":"denied","errno":"EPERM","detail":"..."}
 * result is denied | allowed | absent | killed | skipped. The program always
 * exits 0 when it could run; what counts as an escape is for the caller
 * (integration/t-escape.sh) to decide. --target-self aims the "pid 1" probes
 * at this program's own main process, a target the kernel lets a same-uid
 * process attack, to show those probes can report "allowed". */
#include "integration/escape/escape.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const int DENY_PERM[] = { EPERM, EACCES, 0 };
const int DENY_PERM_RO[] = { EPERM, EACCES, EROFS, 0 };
const int DENY_SECCOMP_NS[] = { EPERM, EACCES, ENOSYS, 0 };

static const char *const result_names[] = { "denied", "allowed", "absent", "killed", "skipped" };

void set_detail(struct outcome *o, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->detail, sizeof o->detail, fmt, ap);
        va_end(ap);
}

void set_result(struct outcome *o, long ret, int err, const int *denied, const char *fmt, ...) {
        va_list ap;
        if (ret >= 0) {
                o->result = R_ALLOWED;
                o->err = 0;
        } else {
                o->result = R_ALLOWED;
                o->err = err;
                for (const int *d = denied; *d; d++)
                        if (*d == err)
                                o->result = R_DENIED;
                if (err == ENOSYS && o->result != R_DENIED)
                        o->result = R_ABSENT;
        }
        va_start(ap, fmt);
        vsnprintf(o->detail, sizeof o->detail, fmt, ap);
        va_end(ap);
}

static void json_str(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch == '"' || ch == '\\')
                        printf("\\%c", ch);
                else if (ch < 0x20 || ch > 0x7e)
                        printf("\\u%04x", ch);
                else
                        putchar(ch);
        }
        putchar('"');
}

static void print(const char *name, const struct outcome *o) {
        printf("{\"probe\":");
        json_str(name);
        printf(",\"result\":\"%s\",\"errno\":", result_names[o->result]);
        if (o->err)
                json_str(strerrorname_np(o->err) ? strerrorname_np(o->err) : "?");
        else
                printf("null");
        printf(",\"detail\":");
        json_str(o->detail);
        printf("}\n");
        fflush(stdout);
}

/* One probe in a forked child: a seccomp kill or a stuck call costs only that child. */
static void run_one(const struct ctx *c, const struct probe *p) {
        struct outcome o = { .result = R_SKIPPED };
        int pfd[2], st;
        pid_t pid;
        if (pipe(pfd) < 0) {
                set_detail(&o, "pipe: %s", strerror(errno));
                print(p->name, &o);
                return;
        }
        pid = fork();
        if (pid < 0) {
                set_detail(&o, "fork: %s", strerror(errno));
                print(p->name, &o);
                return;
        }
        if (pid == 0) {
                close(pfd[0]);
                alarm(10);
                p->fn(c, &o);
                if (write(pfd[1], &o, sizeof o) != (ssize_t)sizeof o)
                        _exit(1);
                _exit(0);
        }
        close(pfd[1]);
        ssize_t n = read(pfd[0], &o, sizeof o);
        close(pfd[0]);
        waitpid(pid, &st, 0);
        if (n != (ssize_t)sizeof o) {
                memset(&o, 0, sizeof o);
                if (WIFSIGNALED(st)) {
                        o.result = R_KILLED;
                        set_detail(&o, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
                } else {
                        o.result = R_SKIPPED;
                        set_detail(&o, "probe ended without a result (status 0x%x)", st);
                }
        }
        print(p->name, &o);
}

static bool selected(const char *only, const char *name) {
        size_t n = strlen(name);
        if (!only)
                return true;
        for (const char *p = only; *p;) {
                const char *end = strchrnul(p, ',');
                if ((size_t)(end - p) == n && strncmp(p, name, n) == 0)
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}

int main(int argc, char **argv) {
        struct ctx c = { .target = 1, .main_pid = getpid() };
        const char *only = NULL;
        bool list = false;
        /* The memfd_exec probe runs us from a memfd: that it ran is the answer. */
        if (argc == 2 && strcmp(argv[1], "--exit-42") == 0)
                _exit(42);
        /* Before anything here opens a file: report what we were handed. */
        fd_scan_early();
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--target-self") == 0)
                        c.target = c.main_pid;
                else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
                        only = argv[++i];
                else if (strcmp(argv[i], "--list") == 0)
                        list = true;
                else {
                        fprintf(stderr, "usage: escape [--target-self] [--only NAME,...] [--list]\n");
                        return 2;
                }
        }
        signal(SIGPIPE, SIG_IGN);
        const struct probe *sets[] = { probes_sys, probes_fs, probes_new };
        const size_t ns[] = { probes_sys_n, probes_fs_n, probes_new_n };
        for (size_t s = 0; s < 3; s++)
                for (size_t i = 0; i < ns[s]; i++) {
                        if (!selected(only, sets[s][i].name))
                                continue;
                        if (list)
                                printf("%s\n", sets[s][i].name);
                        else
                                run_one(&c, &sets[s][i]);
                }
        return 0;
}
