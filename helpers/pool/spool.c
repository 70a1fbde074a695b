/* sealrun-pool: the spool directory (incoming/ → claimed/ → done/) and the status files in done/. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers/pool/pool.h"
#include "policy/status.h"
#include "policy/trusted_file.h"

/* Our own spool directories: owned by us, not writable by others (a
 * world-writable incoming/ would let any local user submit tasks). */
static int spool_subdir(int dirfd, const char *dir, const char *name, mode_t mode, int *ret, struct sr_error *e) {
        int r = private_dir_open(dirfd, name,
                                 &(struct private_dir){ .create_mode = mode, .owner = geteuid(), .forbidden = 002 },
                                 ret, NULL);
        if (r < 0 && r != -EPERM)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "spool", "%s/%s: cannot open: %s", dir, name, strerror(-r));
        if (r == -EPERM) {
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "spool-permissions",
                               "%s/%s: must be owned by the pool's user (uid %u) and not writable by others", dir, name,
                               (unsigned)geteuid());
        }
        return 0;
}

int spool_open(struct pool *p, const char *dir, struct sr_error *e) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "spool", "%s: cannot open the spool directory: %s", dir,
                               strerror(errno));
        if ((r = spool_subdir(fd, dir, "incoming", 0770, &p->incoming_fd, e)) < 0 ||
            (r = spool_subdir(fd, dir, "claimed", 0750, &p->claimed_fd, e)) < 0 ||
            (r = spool_subdir(fd, dir, "done", 0750, &p->done_fd, e)) < 0)
                return r;
        if (asprintf(&p->incoming_path, "%s/incoming", dir) < 0 || asprintf(&p->done_path, "%s/done", dir) < 0)
                return -ENOMEM;
        return 0;
}

struct entry {
        char *name;
        struct timespec mtime;
};

static int entry_cmp(const void *a, const void *b) {
        const struct entry *x = a, *y = b;
        if (x->mtime.tv_sec != y->mtime.tv_sec)
                return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
        if (x->mtime.tv_nsec != y->mtime.tv_nsec)
                return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
        return strcmp(x->name, y->name);
}

static int scan_dir(int dirfd, char ***ret) {
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct entry *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        char **out;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        rewinddir(d);
        while ((de = readdir(d))) {
                struct stat st;
                /* "name.json" only: writers create ".name.tmp" and rename it in */
                if (!pool_spool_name_valid(de->d_name) || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (n == cap) {
                        struct entry *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
                        if (!nv)
                                break;
                        v = nv;
                }
                if (!(v[n].name = strdup(de->d_name)))
                        break;
                v[n++].mtime = st.st_mtim;
        }
        closedir(d);
        if (n > 1)
                qsort(v, n, sizeof *v, entry_cmp);
        out = calloc(n + 1, sizeof *out);
        for (size_t i = 0; i < n; i++) {
                if (out)
                        out[i] = v[i].name;
                else
                        free(v[i].name);
        }
        free(v);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

int spool_scan(struct pool *p, char ***ret) {
        return scan_dir(p->incoming_fd, ret);
}

void spool_names_free(char **names) {
        for (size_t i = 0; names && names[i]; i++)
                free(names[i]);
        free(names);
}

int spool_claim(struct pool *p, const char *name) {
        /* Atomic: of two pools of the same tenant, exactly one wins. */
        if (renameat2(p->incoming_fd, name, p->claimed_fd, name, RENAME_NOREPLACE) < 0)
                return -errno;
        return 0;
}

int spool_read_request(struct pool *p, const char *name, struct pool_request *ret, struct sr_error *e) {
        /* O_NONBLOCK: a FIFO dropped into the spool must not hang the pool. */
        _cleanup_close_ int fd = openat(p->claimed_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len;
        int r;
        *ret = (struct pool_request){ 0 };
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "bad-request", "%s: cannot open: %s", name, strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "bad-request", "%s: not a regular file", name);
        if (st.st_size > POOL_REQUEST_MAX)
                return sr_fail(e, SR_EXIT_LAUNCHER, EFBIG, "bad-request", "%s: larger than %d bytes", name,
                               POOL_REQUEST_MAX);
        if ((r = read_fd_all(fd, POOL_REQUEST_MAX, &buf, &len)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "bad-request", "%s: cannot read: %s", name, strerror(-r));
        return pool_request_parse(name, buf, len, p->cfg.tenant, ret, e);
}

void spool_done_stem(const char *task, const char *name, char out[130]) {
        if (task && task_id_valid(task))
                snprintf(out, 130, "%s", task);
        else
                snprintf(out, 130, "%.*s", (int)(strlen(name) - 5), name);
}

bool spool_task_known(struct pool *p, const char *stem) {
        char f[160];
        for (long i = 0; i < p->cfg.max_tasks; i++)
                if (p->tasks[i].pid && strcmp(p->tasks[i].task, stem) == 0)
                        return true;
        snprintf(f, sizeof f, "%s.json", stem);
        if (faccessat(p->done_fd, f, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return true;
        snprintf(f, sizeof f, "%s.part", stem);
        return faccessat(p->done_fd, f, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static const char *audit_mode_name(enum pool_audit_mode m) {
        return m == POOL_AUDIT_REQUIRED ? "required" : m == POOL_AUDIT_BEST_EFFORT ? "best-effort" : "off";
}

/* Write a whole status file as done/<stem>.part, then rename it into place. */
static int write_status(struct pool *p, const char *stem, const struct status *st) {
        char part[160], done[160];
        int fd, r;
        snprintf(part, sizeof part, "%s.part", stem);
        snprintf(done, sizeof done, "%s.json", stem);
        fd = openat(p->done_fd, part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return -errno;
        r = status_write_final(fd, st);
        if (r >= 0 && fdatasync(fd) < 0)
                r = -errno;
        close(fd);
        if (r >= 0 && renameat2(p->done_fd, part, p->done_fd, done, RENAME_NOREPLACE) < 0)
                r = -errno;
        if (r < 0)
                unlinkat(p->done_fd, part, 0);
        return r;
}

void spool_refuse(struct pool *p, const char *name, const char *task, const struct sr_error *why) {
        struct status st;
        char stem[130];
        int r;
        spool_done_stem(task, name, stem);
        status_init(&st);
        st.task = stem;
        st.tenant = p->cfg.tenant;
        st.exit_code = why->exit_code;
        st.refused = why->reason;
        st.error = why->msg;
        st.audit_mode = audit_mode_name(p->cfg.audit);
        if (pool_audit_deny(p->audit, task, why->reason) < 0)
                st.audit_missing[st.n_audit_missing++] = "deny";
        fprintf(stderr, "sealrun-pool: %s: refused %s: %s\n", p->cfg.tenant, name, why->msg);
        if (spool_task_known(p, stem))
                fprintf(stderr, "sealrun-pool: %s: %s: task %s is running or has a status already; not overwritten\n",
                        p->cfg.tenant, name, stem);
        else if ((r = write_status(p, stem, &st)) < 0)
                fprintf(stderr, "sealrun-pool: %s: done/%s.json: cannot write: %s\n", p->cfg.tenant, stem,
                        strerror(-r));
        unlinkat(p->claimed_fd, name, 0);
}

/* Does the status stream already end with a final object (one with "exit_code")? */
static bool has_final(const char *buf, size_t len) {
        const char *line;
        json_t *o;
        bool ok;
        while (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len == 0)
                return false;
        line = memrchr(buf, '\n', len);
        line = line ? line + 1 : buf;
        o = json_loadb(line, len - (size_t)(line - buf), 0, NULL);
        ok = json_is_object(o) && json_object_get(o, "exit_code");
        json_decref(o);
        return ok;
}

int spool_finish(struct pool *p, const char *stem, int status_fd, int exit_code, const char *error) {
        _cleanup_free_ char *buf = NULL;
        char part[160], done[160];
        size_t len = 0;
        int r;
        snprintf(part, sizeof part, "%s.part", stem);
        snprintf(done, sizeof done, "%s.json", stem);
        if (lseek(status_fd, 0, SEEK_SET) < 0 || (r = read_fd_all(status_fd, POOL_STATUS_MAX, &buf, &len)) < 0)
                buf = NULL, len = 0;
        if (!buf || !has_final(buf, len)) {
                struct status st;
                status_init(&st);
                st.task = stem;
                st.tenant = p->cfg.tenant;
                st.exit_code = exit_code;
                st.error = error;
                st.refused = exit_code == SR_EXIT_TEMPFAIL ? "interrupted" : NULL;
                if (len > 0 && buf[len - 1] != '\n')
                        (void)write_all(status_fd, "\n", 1);
                (void)status_write_final(status_fd, &st);
        }
        if (fdatasync(status_fd) < 0 && errno != EINVAL)
                return -errno;
        if (renameat2(p->done_fd, part, p->done_fd, done, RENAME_NOREPLACE) < 0)
                return -errno;
        return 0;
}

void spool_recover(struct pool *p) {
        char **names = NULL;
        if (scan_dir(p->claimed_fd, &names) < 0)
                return;
        for (size_t i = 0; names[i]; i++) {
                struct pool_request rq;
                struct sr_error e = { 0 };
                char stem[130], part[160];
                int fd;
                (void)spool_read_request(p, names[i], &rq, &e);
                spool_done_stem(rq.task, names[i], stem);
                snprintf(part, sizeof part, "%s.json", stem);
                if (faccessat(p->done_fd, part, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        goto next; /* finished; only the claimed file was left */
                snprintf(part, sizeof part, "%s.part", stem);
                fd = openat(p->done_fd, part, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0 && errno == ENOENT)
                        fd = openat(p->done_fd, part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
                if (fd >= 0) {
                        lseek(fd, 0, SEEK_END);
                        if (spool_finish(p, stem, fd, SR_EXIT_TEMPFAIL,
                                         "the pool stopped before the task finished; it was not completed") == 0)
                                fprintf(stderr,
                                        "sealrun-pool: %s: task %s was interrupted by a pool restart (done/%s.json)\n",
                                        p->cfg.tenant, stem, stem);
                        close(fd);
                }
next:
                unlinkat(p->claimed_fd, names[i], 0);
                pool_request_free(&rq);
        }
        spool_names_free(names);
}
