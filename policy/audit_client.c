/* Audit client core: connect, send one event at a time, wait for its ack by seq. */
#include "policy/audit_client.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

struct audit_client {
        int fd;
        int timeout_ms;
        uint64_t next_seq;
        bool sent; /* the last message left this process */
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int remaining(int64_t deadline) {
        int64_t left = deadline - now_ms();
        return left > 0 ? (int)left : 0;
}

static int do_connect(struct audit_client *c, int64_t deadline) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;
        memcpy(sa.sun_path, c->path, sizeof sa.sun_path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        for (;;) {
                if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                        break;
                /* AF_UNIX: EAGAIN means the listen backlog is full; wait a little */
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN || remaining(deadline) == 0) {
                        int r = errno == EAGAIN ? -ETIMEDOUT : -errno;
                        close(fd);
                        return r;
                }
                nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
        }
        c->fd = fd;
        return 0;
}

int audit_client_connect(const char *path, int timeout_ms, struct audit_client **ret, struct sr_error *e) {
        struct audit_client *c;
        int r;
        if (!path || path[0] != '/' || strlen(path) >= sizeof c->path)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "audit: socket path must be absolute and shorter than 108 bytes");
        if (!(c = calloc(1, sizeof *c)))
                return sr_fail(e, SR_EXIT_TEMPFAIL, ENOMEM, "nomem", "audit: out of memory");
        c->fd = -1;
        c->timeout_ms = timeout_ms > 0 ? timeout_ms : POL_AUDIT_DEFAULT_TIMEOUT_MS;
        c->next_seq = 1;
        snprintf(c->path, sizeof c->path, "%s", path);
        if ((r = do_connect(c, now_ms() + c->timeout_ms)) < 0) {
                sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-unavailable", "audit: collector unreachable at %s: %s", path,
                        strerror(-r));
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

void audit_client_free(struct audit_client *c) {
        if (!c)
                return;
        if (c->fd >= 0)
                close(c->fd);
        free(c);
}

static int send_msg(struct audit_client *c, const char *msg, size_t len, int64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = c->fd, .events = POLLOUT };
                if (send(c->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                if (poll(&p, 1, remaining(deadline)) == 0)
                        return -ETIMEDOUT;
        }
}

/* Wait for the reply to seq; replies to earlier events that timed out are skipped. */
static int wait_reply(struct audit_client *c, uint64_t seq, int64_t deadline, struct audit_reply *rp,
                      struct sr_error *e) {
        char buf[AUDIT_MSG_MAX + 1];
        for (;;) {
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                ssize_t n;
                int r = poll(&p, 1, remaining(deadline));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0)
                        return -ETIMEDOUT;
                n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ECONNRESET;
                if ((size_t)n > AUDIT_MSG_MAX || audit_reply_decode(buf, (size_t)n, rp, e) < 0)
                        return -EPROTO;
                if (rp->seq == seq || (rp->seq == 0 && !rp->ok))
                        return 0;
        }
}

static void drop_conn(struct audit_client *c) {
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

int audit_client_send_msg(struct audit_client *c, const char *msg, size_t len, uint64_t seq, const char *name,
                          int timeout_ms, uint64_t *ret_line, struct sr_error *e) {
        struct audit_reply rp;
        int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : c->timeout_ms);
        int r;

        c->sent = false;
        /* a message that never left can be sent again on a new connection */
        for (int attempt = 0;; attempt++) {
                if (c->fd < 0 && (r = do_connect(c, deadline)) < 0)
                        return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-unavailable",
                                       "audit: event \"%s\" not recorded: collector unreachable at %s: %s", name,
                                       c->path, strerror(-r));
                r = send_msg(c, msg, len, deadline);
                if (r == 0)
                        break;
                drop_conn(c);
                if (attempt > 0 || r == -ETIMEDOUT)
                        return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-unavailable",
                                       "audit: event \"%s\" not recorded: cannot send to %s: %s", name, c->path,
                                       strerror(-r));
        }
        c->sent = true;
        r = wait_reply(c, seq, deadline, &rp, e);
        if (r == -ETIMEDOUT)
                return sr_fail(e, SR_EXIT_TEMPFAIL, ETIMEDOUT, "audit-timeout",
                               "audit: event \"%s\" not acknowledged by %s within %lld ms", name, c->path,
                               (long long)(timeout_ms > 0 ? timeout_ms : c->timeout_ms));
        if (r < 0) {
                drop_conn(c);
                return sr_fail(e, SR_EXIT_TEMPFAIL, -r, "audit-unavailable",
                               "audit: event \"%s\" not acknowledged: collector at %s %s", name, c->path,
                               r == -EPROTO ? "sent a malformed reply" : "went away");
        }
        if (!rp.ok) {
                /* an older collector cannot know newer event kinds: say so */
                if (strstr(msg, "\"rev\":") &&
                    (strcmp(rp.error, "bad-message") == 0 || strcmp(rp.error, "unsupported-rev") == 0))
                        return sr_fail(
                                e, SR_EXIT_TEMPFAIL, EPROTONOSUPPORT, "audit-refused",
                                "audit: event \"%s\" needs audit protocol revision %d; the collector at %s predates it "
                                "(%s: %s); upgrade sealrun-auditd",
                                name, AUDIT_REV, c->path, rp.error, rp.message);
                return sr_fail(e, SR_EXIT_TEMPFAIL, strcmp(rp.error, "not-allowed") == 0 ? EPERM : EBADMSG,
                               "audit-refused", "audit: event \"%s\" refused by the collector: %s: %s", name, rp.error,
                               rp.message);
        }
        if (ret_line)
                *ret_line = rp.line;
        return 0;
}

int audit_client_encode(struct audit_client *c, struct audit_event *ev, char **ret, size_t *ret_len,
                        struct sr_error *e) {
        /* a caller-chosen seq (per task, kept across connections) wins */
        if (ev->seq == 0)
                ev->seq = c->next_seq;
        if (ev->seq >= c->next_seq)
                c->next_seq = ev->seq + 1;
        if (!ev->time[0])
                audit_time_now(ev->time);
        return audit_event_encode(ev, ret, ret_len, e);
}

int audit_client_send(struct audit_client *c, struct audit_event *ev, uint64_t *ret_line, struct sr_error *e) {
        _cleanup_free_ char *msg = NULL;
        size_t len;
        int r;
        if ((r = audit_client_encode(c, ev, &msg, &len, e)) < 0)
                return r;
        return audit_client_send_msg(c, msg, len, ev->seq, audit_event_name(ev->type), 0, ret_line, e);
}

bool audit_client_sent(const struct audit_client *c) {
        return c && c->sent;
}

int audit_emit_revoke(const char *socket, enum pol_audit_mode mode, int timeout_ms, const char *tenant,
                      const char *profile, long long version, const char *key_id, const char *reason,
                      struct sr_error *e) {
        struct audit_client *c = NULL;
        struct audit_event ev;
        struct sr_error local = { 0 };
        int r;
        if (mode == POL_AUDIT_OFF || mode == POL_AUDIT_UNSET)
                return 0;
        audit_event_init(&ev, AUDIT_EV_REVOKE);
        ev.tenant = tenant;
        ev.profile = profile;
        ev.profile_version = profile ? version : -1;
        ev.key_id = key_id;
        ev.reason = reason;
        ev.pid = getpid();
        r = audit_client_connect(socket ? socket : AUDIT_DEFAULT_SOCKET, timeout_ms, &c, &local);
        if (r == 0)
                r = audit_client_send(c, &ev, NULL, &local);
        audit_client_free(c);
        if (r < 0 && mode == POL_AUDIT_BEST_EFFORT) {
                fprintf(stderr, "sealctl: warning: %s (best-effort: the revocation itself is recorded)\n", local.msg);
                return 0;
        }
        if (r < 0 && e)
                *e = local;
        return r;
}
