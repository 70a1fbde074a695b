/* Audit spool: root-owned per-task entries of undelivered events, written by sealrun and drained later.
 *
 * Entry file (one per task, "t-PID-RANDOM", 0600, text lines):
 *   sealrun-audit-spool 1
 *   owner PID STARTTIME          (the supervisor; alive = same start time in /proc)
 *   socket PATH                  (where the events go)
 *   A {abandoned event}          (optional: sent if the owner vanished unfinished)
 *   E {event}                    (zero or more, encoded as sent: seq and time kept)
 *   C                            (the owner finished: no abandoned record)
 * The collector deduplicates by tenant, task, pid and seq, so an entry
 * delivered twice (two drainers, a lost ack) still gives one line per event. */
#include "policy/audit_spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "policy/audit_client.h"
#include "policy/trusted_file.h"

#define SPOOL_MAGIC "sealrun-audit-spool 1\n"

int audit_spool_open(const char *dir, bool create, int *ret_fd, struct sr_error *e) {
        int r;
        _cleanup_close_ int fd = -1;
        struct stat st;
        if (geteuid() != 0)
                return sr_fail(
                        e, SR_EXIT_TEMPFAIL, EPERM, "audit-spool",
                        "audit spool: only root spools (an unprivileged caller's payload could forge spooled events)");
        if (!dir)
                dir = getenv(AUDIT_SPOOL_ENV);
        if (!dir || !*dir)
                dir = AUDIT_SPOOL_DEFAULT;
        if (dir[0] != '/')
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "audit spool %s: must be an absolute path", dir);
        if (create && strcmp(dir, AUDIT_SPOOL_DEFAULT) == 0 && mkdir("/var/lib/sealrun", 0755) < 0 && errno != EEXIST)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "audit-spool",
                               "audit spool: /var/lib/sealrun: cannot create: %m");
        r = private_dir_open(AT_FDCWD, dir,
                             &(struct private_dir){ .create_mode = create ? 0700 : 0, .owner = 0, .forbidden = 077 },
                             &fd, &st);
        if (r == -EPERM || r == -ENOTDIR || r == -ELOOP)
                return sr_fail(e, SR_EXIT_TEMPFAIL, EPERM, "audit-spool",
                               "audit spool %s: must be a directory owned by root with mode 0700", dir);
        if (r < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-spool", "audit spool %s: cannot open: %s", dir,
                               strerror(-r));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static bool entry_name(const char *n) {
        return n[0] == 't' && n[1] == '-' && strlen(n) < 64 && !strchr(n, '/');
}

/* A directory stream of its own on dirfd (a dup: closedir leaves dirfd
 * open), read from the start. */
static int dir_reopen(int dirfd, DIR **ret) {
        int dfd = dup(dirfd);
        if (dfd < 0 || !(*ret = fdopendir(dfd))) {
                int r = -errno;
                if (dfd >= 0)
                        close(dfd);
                return r;
        }
        rewinddir(*ret);
        return 0;
}

int audit_spool_count(int dirfd, size_t *ret) {
        DIR *d;
        struct dirent *de;
        size_t n = 0;
        int r;
        if ((r = dir_reopen(dirfd, &d)) < 0)
                return r;
        while ((de = readdir(d)))
                n += entry_name(de->d_name);
        closedir(d);
        *ret = n;
        return 0;
}

static long long start_time(pid_t pid) {
        char p[64], buf[1024], *s;
        int fd;
        ssize_t n;
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
                return -1;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        /* field 22; the command name (field 2) may hold spaces and ')' */
        if (!(s = strrchr(buf, ')')))
                return -1;
        for (int f = 2; f < 22 && s; f++)
                s = strchr(s + 1, ' ');
        return s ? strtoll(s + 1, NULL, 10) : -1;
}

int audit_spool_begin(int dirfd, const char *socket, const struct audit_event *abandoned, struct audit_spool_entry *ret,
                      struct sr_error *e) {
        _cleanup_free_ char *tmpl = NULL, *hdr = NULL;
        struct timespec ts;
        int fd, n, r;

        ret->dirfd = dirfd;
        ret->fd = -1;
        ret->dirty = false;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(ret->name, sizeof ret->name, "t-%d-%lx%lx", (int)getpid(), (unsigned long)ts.tv_sec,
                 (unsigned long)ts.tv_nsec);
        if (abandoned && (r = audit_event_encode(abandoned, &tmpl, NULL, e)) < 0)
                return r;
        n = asprintf(&hdr, SPOOL_MAGIC "owner %d %lld\nsocket %s\n%s%s%s", (int)getpid(), start_time(getpid()), socket,
                     tmpl ? "A " : "", tmpl ? tmpl : "", tmpl ? "\n" : "");
        if (n < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, ENOMEM, "nomem", "out of memory");
        if ((fd = openat(dirfd, ret->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600)) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "audit-spool", "audit spool: cannot create an entry: %m");
        if ((r = write_all(fd, hdr, (size_t)n)) < 0) {
                close(fd);
                unlinkat(dirfd, ret->name, 0);
                errno = -r;
                return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-spool", "audit spool: cannot write an entry: %m");
        }
        ret->fd = fd;
        return 0;
}

void audit_spool_suspend(struct audit_spool_entry *s) {
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
        s->dirfd = -1;
}

int audit_spool_reopen(int dirfd, struct audit_spool_entry *s, struct sr_error *e) {
        if (s->fd >= 0 || !s->name[0])
                return 0;
        s->dirfd = dirfd;
        if ((s->fd = openat(dirfd, s->name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, errno, "audit-spool", "audit spool: entry %s: %m", s->name);
        return 0;
}

int audit_spool_add(struct audit_spool_entry *s, const char *msg, size_t len, struct sr_error *e) {
        struct stat st;
        int r;
        if (s->fd < 0)
                return sr_fail(e, SR_EXIT_TEMPFAIL, EBADF, "audit-spool", "audit spool: no entry");
        if (fstat(s->fd, &st) < 0 || st.st_size + (off_t)len + 3 > AUDIT_SPOOL_MAX_BYTES)
                return sr_fail(e, SR_EXIT_TEMPFAIL, EFBIG, "audit-spool-full", "audit spool: entry full");
        if ((r = write_all(s->fd, "E ", 2)) < 0 || (r = write_all(s->fd, msg, len)) < 0 ||
            (r = write_all(s->fd, "\n", 1)) < 0) {
                errno = -r;
                return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-spool", "audit spool: cannot write: %m");
        }
        s->dirty = true;
        return 0;
}

int audit_spool_finish(struct audit_spool_entry *s, struct sr_error *e) {
        int r = 0;
        if (s->fd < 0)
                return 0;
        if (!s->dirty) {
                unlinkat(s->dirfd, s->name, 0);
        } else if ((r = write_all(s->fd, "C\n", 2)) < 0 || fdatasync(s->fd) < 0 || fsync(s->dirfd) < 0) {
                r = r < 0 ? r : -errno;
                errno = -r;
                sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-spool", "audit spool: cannot make an entry durable: %m");
        }
        close(s->fd);
        s->fd = -1;
        s->name[0] = 0;
        return r;
}

/* Send one encoded event; its seq and name come from decoding it (which also
 * re-validates what was read back from disk). */
static int send_line(struct audit_client *c, const char *msg, int timeout_ms, struct sr_error *e) {
        struct audit_event ev;
        int r = audit_event_decode(msg, strlen(msg), &ev, e);
        if (r < 0)
                return r;
        r = audit_client_send_msg(c, msg, strlen(msg), ev.seq, audit_event_name(ev.type), timeout_ms, NULL, e);
        audit_event_free(&ev);
        return r;
}

/* The abandoned record, numbered after the entry's events and timed now. */
static int send_abandoned(struct audit_client *c, const char *tmpl, uint64_t after, int timeout_ms,
                          struct sr_error *e) {
        _cleanup_free_ char *msg = NULL;
        struct audit_event ev;
        int r = audit_event_decode(tmpl, strlen(tmpl), &ev, e);
        if (r < 0)
                return r;
        if (ev.type != AUDIT_EV_ABANDONED) {
                audit_event_free(&ev);
                return sr_fail(e, SR_EXIT_TEMPFAIL, EBADMSG, "audit-spool", "audit spool: bad abandoned record");
        }
        ev.seq = after + 1 > ev.seq ? after + 1 : ev.seq;
        audit_time_now(ev.time);
        r = audit_event_encode(&ev, &msg, NULL, e);
        if (r == 0)
                r = audit_client_send_msg(c, msg, strlen(msg), ev.seq, "abandoned", timeout_ms, NULL, e);
        audit_event_free(&ev);
        return r;
}

/* 1 delivered, 0 left (live or busy), -errno failed. */
static int flush_one(int dirfd, const char *name, const char *want_socket, int timeout_ms,
                     struct audit_flush_result *res) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct audit_client *c = NULL;
        struct sr_error e = { 0 };
        char *socket = NULL, *tmpl = NULL, *line, *save = NULL;
        bool complete = false, has_exit = false;
        long long pid = 0, st = 0;
        uint64_t max_seq = 0;
        struct stat sb;
        ssize_t n;
        int r = 0;

        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                return 0; /* gone, or another drainer has it */
        if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > AUDIT_SPOOL_MAX_BYTES ||
            !(buf = malloc(sb.st_size + 1)))
                return -EBADMSG;
        if ((n = read(fd, buf, sb.st_size)) != sb.st_size)
                return -EIO;
        buf[n] = 0;
        if (strncmp(buf, SPOOL_MAGIC, strlen(SPOOL_MAGIC)) != 0)
                return -EBADMSG;
        for (line = strtok_r(buf + strlen(SPOOL_MAGIC), "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (sscanf(line, "owner %lld %lld", &pid, &st) == 2)
                        continue;
                if (strncmp(line, "socket ", 7) == 0)
                        socket = line + 7;
                else if (strncmp(line, "A ", 2) == 0)
                        tmpl = line + 2;
                else if (strcmp(line, "C") == 0)
                        complete = true;
                else if (strncmp(line, "E ", 2) == 0) {
                        struct audit_event ev;
                        if (audit_event_decode(line + 2, strlen(line + 2), &ev, &e) < 0)
                                return -EBADMSG;
                        max_seq = ev.seq > max_seq ? ev.seq : max_seq;
                        has_exit |= ev.type == AUDIT_EV_EXIT;
                        audit_event_free(&ev);
                }
        }
        if (!socket)
                return -EBADMSG;
        if (want_socket && strcmp(socket, want_socket) != 0)
                return 0;
        /* a running task's entry is its marker, not ours to send */
        if (!complete && pid > 0 && start_time((pid_t)pid) == st && st >= 0) {
                res->live++;
                return 0;
        }
        /* second pass over the NUL-split buffer: the E lines in order */
        if ((r = audit_client_connect(socket, timeout_ms, &c, &e)) < 0)
                goto out;
        for (char *p = buf + strlen(SPOOL_MAGIC); p < buf + n; p += strlen(p) + 1) {
                if (strncmp(p, "E ", 2) != 0)
                        continue;
                if ((r = send_line(c, p + 2, timeout_ms, &e)) < 0)
                        goto out;
                res->events++;
        }
        if (!complete && !has_exit && tmpl) {
                if ((r = send_abandoned(c, tmpl, max_seq, timeout_ms, &e)) < 0)
                        goto out;
                res->events++;
                res->abandoned++;
        }
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                r = -errno;
out:
        audit_client_free(c);
        if (r < 0 && !res->first_error[0])
                snprintf(res->first_error, sizeof res->first_error, "%s", e.msg[0] ? e.msg : strerror(-r));
        return r < 0 ? r : 1;
}

int audit_spool_flush(int dirfd, const char *socket, int timeout_ms, int budget_ms, unsigned max_entries,
                      struct audit_flush_result *ret) {
        int64_t deadline = now_ms() + budget_ms;
        struct dirent *de;
        unsigned tried = 0;
        DIR *d;
        int r;

        memset(ret, 0, sizeof *ret);
        if ((r = dir_reopen(dirfd, &d)) < 0)
                return r;
        while ((de = readdir(d))) {
                int64_t left = deadline - now_ms();
                if (!entry_name(de->d_name))
                        continue;
                if (tried >= max_entries || left <= 0) {
                        ret->left++;
                        continue;
                }
                r = flush_one(dirfd, de->d_name, socket, (int)(left < timeout_ms ? left : timeout_ms), ret);
                if (r > 0) {
                        ret->delivered++;
                        tried++;
                } else if (r < 0) {
                        ret->left++;
                        tried++;
                }
        }
        closedir(d);
        return 0;
}
