/* Cgroup file helpers: read/write control files by dir fd, kill listed processes, create/remove task dirs. */
#include "launcher/cgroup_impl.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

/* cgroup.procs of a fork bomb at pids.max can be long; never unbounded. */
#define CG_READ_MAX (8u << 20)
/* A task dir younger than this may belong to a supervisor between its mkdir
 * and its flock: treat it as live, never as a stale leftover. */
#define CG_STALE_MIN_AGE_S 3

int cg_write(int dirfd, const char *file, const char *text) {
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        size_t n = strlen(text);
        ssize_t w;
        if (fd < 0)
                return -errno;
        /* A control file takes one value per write(2): no partial retries. */
        w = write(fd, text, n);
        if (w < 0)
                return -errno;
        return (size_t)w == n ? 0 : -EIO;
}

int cg_writef(int dirfd, const char *file, const char *fmt, ...) {
        char buf[128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        return cg_write(dirfd, file, buf);
}

int cg_read(int dirfd, const char *file, char **ret) {
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        return read_fd_all(fd, CG_READ_MAX, ret, NULL);
}

int64_t cg_read_u64(int dirfd, const char *file) {
        _cleanup_free_ char *s = NULL;
        char *end;
        long long v;
        if (cg_read(dirfd, file, &s) < 0)
                return -1;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || v < 0 || (*end && *end != '\n'))
                return -1;
        return v;
}

int64_t cg_keyed_value(const char *text, const char *key) {
        size_t kl = strlen(key);
        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
                        char *end;
                        long long v = strtoll(l + kl + 1, &end, 10);
                        if (end == l + kl + 1 || v < 0)
                                return -1;
                        return v;
                }
        }
        return -1;
}

int64_t cg_read_keyed(int dirfd, const char *file, const char *key) {
        _cleanup_free_ char *s = NULL;
        if (cg_read(dirfd, file, &s) < 0)
                return -1;
        return cg_keyed_value(s, key);
}

static int parse_pids(const char *text, pid_t **ret, size_t *ret_n) {
        size_t n = 0, cap = 0;
        pid_t *v = NULL;
        for (const char *p = text; *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (n == cap) {
                        pid_t *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
                        if (!nv) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = nv;
                }
                if (pid > 0)
                        v[n++] = (pid_t)pid;
                p = end;
                while (*p == '\n')
                        p++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int pid_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

int cg_kill_procs(int dirfd) {
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;
        _cleanup_free_ pid_t *first = NULL, *again = NULL;
        _cleanup_free_ int *fds = NULL;
        size_t n1 = 0, n2 = 0;
        if (cg_read(dirfd, "cgroup.procs", &t1) < 0 || parse_pids(t1, &first, &n1) < 0 || n1 == 0)
                return 0;
        fds = calloc(n1, sizeof *fds);
        if (!fds)
                return (int)n1;
        /* Pin each process with a pidfd, then keep only those still listed:
         * a pid that died and was reused by a process outside the cgroup
         * between the two reads is never signalled. */
        for (size_t i = 0; i < n1; i++)
                fds[i] = (int)syscall(SYS_pidfd_open, first[i], 0);
        /* n2 == 0: everything died between the reads; nothing to signal. */
        if (cg_read(dirfd, "cgroup.procs", &t2) == 0 && parse_pids(t2, &again, &n2) == 0 && n2 > 0) {
                qsort(again, n2, sizeof *again, pid_cmp);
                for (size_t i = 0; i < n1; i++)
                        if (fds[i] >= 0 && bsearch(&first[i], again, n2, sizeof *again, pid_cmp))
                                syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, NULL, 0);
        }
        for (size_t i = 0; i < n1; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return (int)n1;
}

void cg_sleep_ms(int ms) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

bool cg_host_has_swap(void) {
        _cleanup_free_ char *s = NULL;
        _cleanup_close_ int fd = open("/proc/swaps", O_RDONLY | O_CLOEXEC);
        char *nl;
        if (fd < 0 || read_fd_all(fd, 1 << 20, &s, NULL) < 0)
                return true;  /* unknown: assume the worst */
        nl = strchr(s, '\n'); /* header line, then one line per swap area */
        return nl && nl[1];
}

/* rmdir a task dir below base_fd once it is empty; its processes are killed
 * first (a stale one's, or stragglers right after a kill). */
int cg_reap(int base_fd, const char *name) {
        _cleanup_close_ int fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* rmdir is refused (EBUSY) until the last task has left; right after a
         * kill the kernel may still be finishing exits. */
        for (int i = 0; i < 200; i++) {
                if (unlinkat(base_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                cg_kill_procs(fd);
                cg_sleep_ms(10);
        }
        return -EBUSY;
}

int cg_dir_remove(struct cg_dir *d) {
        int r;
        if (d->task_fd < 0)
                return 0;
        r = cg_reap(d->base_fd, d->name);
        /* closing the dir fd drops the flock that marked it live */
        close(d->task_fd);
        d->task_fd = -1;
        return r;
}

/* Every task dir is flock-ed by its supervisor for its whole life. Unlocked
 * and older than a few seconds (not between another supervisor's mkdir and
 * flock) means its supervisor died: returns the dir's fd, locked by us now. */
static int stale_lock(int base_fd, const char *name) {
        _cleanup_close_ int fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return -EBUSY;
        if (fstat(fd, &st) < 0 || time(NULL) - st.st_ctim.tv_sec < CG_STALE_MIN_AGE_S)
                return -EBUSY;
        return TAKE_FD(fd);
}

static int make_dir(struct cg_dir *d, const char *name) {
        for (int attempt = 0; attempt < 2; attempt++) {
                int fd;
                if (mkdirat(d->base_fd, name, 0755) == 0)
                        return 0;
                if (errno != EEXIST)
                        return -errno;
                fd = stale_lock(d->base_fd, name);
                if (fd < 0)
                        return fd == -ENOENT ? -EAGAIN : fd;
                cg_reap(d->base_fd, name);
                close(fd);
        }
        return -EBUSY;
}

int cg_dir_create(struct cg_dir *d, const char *name, struct sr_error *e) {
        int r;
        snprintf(d->name, sizeof d->name, "%s", name);
        r = make_dir(d, d->name);
        if (r == -EBUSY || r == -EAGAIN) {
                /* Another live task uses this id (task ids are the caller's;
                 * two workers may reuse one): this supervisor's own name. */
                snprintf(d->name, sizeof d->name, "%s.%d", name, (int)getpid());
                r = make_dir(d, d->name);
        }
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup", "cannot create cgroup %s/%s: %s", d->path, d->name,
                               strerror(-r));
        d->task_fd = openat(d->base_fd, d->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (d->task_fd < 0 || flock(d->task_fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                unlinkat(d->base_fd, d->name, AT_REMOVEDIR);
                if (d->task_fd >= 0)
                        close(d->task_fd);
                d->task_fd = -1;
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "cgroup", "cannot open cgroup %s/%s: %s", d->path, d->name,
                               strerror(-r));
        }
        return 0;
}

void cg_gc(struct cg_dir *d) {
        int dfd = fcntl(d->base_fd, F_DUPFD_CLOEXEC, 3), n = 0;
        DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        if (!dir) {
                if (dfd >= 0)
                        close(dfd);
                return;
        }
        /* bounded: a launch never spends long cleaning up after others */
        while ((de = readdir(dir)) && n < 32) {
                int fd;
                if (de->d_type != DT_DIR || strncmp(de->d_name, "task-", 5) != 0)
                        continue;
                fd = stale_lock(d->base_fd, de->d_name);
                if (fd < 0)
                        continue;
                cg_reap(d->base_fd, de->d_name);
                close(fd);
                n++;
        }
        closedir(dir);
}
