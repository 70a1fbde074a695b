/* An audit relay between sealrun and the real sealrun-auditd: it holds each event while the host looks at the sandbox.
 *
 * sealrun's "inject" event is sent while the decrypting process waits for
 * the collector's acknowledgement with the plaintext in its memory (DESIGN:
 * nothing is injected before "inject" is acked). Holding the event there is
 * the one moment the host can inspect that process: its limits, its
 * dumpability, the VmFlags of the pages that hold the plaintext. "exit"
 * comes after the release, when the supervisor is still alive. */
#include "helpers/leaktest/proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define MSG_MAX 65536

static int unix_addr(const char *path, struct sockaddr_un *sa) {
        memset(sa, 0, sizeof *sa);
        sa->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof sa->sun_path)
                return -ENAMETOOLONG;
        memcpy(sa->sun_path, path, strlen(path));
        return 0;
}

int proxy_open(struct proxy *p, const char *path, const char *upstream) {
        struct sockaddr_un sa;
        int r;
        memset(p, 0, sizeof *p);
        p->listen_fd = -1;
        snprintf(p->upstream, sizeof p->upstream, "%s", upstream);
        if ((r = unix_addr(path, &sa)) < 0)
                return r;
        p->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (p->listen_fd < 0)
                return -errno;
        unlink(path);
        if (bind(p->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(p->listen_fd, 64) < 0) {
                r = -errno;
                close(p->listen_fd);
                p->listen_fd = -1;
                return r;
        }
        return 0;
}

static void conn_close(struct proxy_conn *c) {
        if (c->down >= 0)
                close(c->down);
        if (c->up >= 0)
                close(c->up);
        c->down = c->up = -1;
        c->used = false;
}

void proxy_close(struct proxy *p) {
        for (size_t i = 0; i < PROXY_MAX_CONNS; i++)
                if (p->conns[i].used)
                        conn_close(&p->conns[i]);
        if (p->listen_fd >= 0)
                close(p->listen_fd);
        p->listen_fd = -1;
}

size_t proxy_pollfds(struct proxy *p, struct pollfd *fds, size_t max) {
        size_t n = 0;
        if (p->listen_fd >= 0 && n < max)
                fds[n++] = (struct pollfd){ .fd = p->listen_fd, .events = POLLIN };
        for (size_t i = 0; i < PROXY_MAX_CONNS; i++) {
                if (!p->conns[i].used)
                        continue;
                if (n + 2 > max)
                        break;
                fds[n++] = (struct pollfd){ .fd = p->conns[i].down, .events = POLLIN };
                fds[n++] = (struct pollfd){ .fd = p->conns[i].up, .events = POLLIN };
        }
        return n;
}

static void accept_one(struct proxy *p) {
        struct sockaddr_un sa;
        struct ucred cred;
        socklen_t cl = sizeof cred;
        int down = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC), up;
        size_t i;
        if (down < 0)
                return;
        for (i = 0; i < PROXY_MAX_CONNS && p->conns[i].used; i++)
                ;
        up = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        /* the collector being down must look down to sealrun too */
        if (i == PROXY_MAX_CONNS || up < 0 || unix_addr(p->upstream, &sa) < 0 ||
            connect(up, (struct sockaddr *)&sa, sizeof sa) < 0) {
                if (up >= 0)
                        close(up);
                close(down);
                p->refused++;
                return;
        }
        struct proxy_conn *c = &p->conns[i];
        memset(c, 0, sizeof *c);
        c->used = true;
        c->down = down;
        c->up = up;
        if (getsockopt(down, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
                c->peer = cred.pid;
        p->accepted++;
}

/* "event":"NAME" in one JSON message; a small search, not a parser: the
 * collector behind us is the one that validates. */
static void event_name(const char *msg, size_t len, char *out, size_t size) {
        static const char key[] = "\"event\"";
        out[0] = '\0';
        for (size_t i = 0; i + sizeof key - 1 < len; i++) {
                if (memcmp(msg + i, key, sizeof key - 1) != 0)
                        continue;
                size_t k = i + sizeof key - 1;
                while (k < len && (msg[k] == ' ' || msg[k] == ':'))
                        k++;
                if (k >= len || msg[k] != '"')
                        return;
                size_t o = 0;
                for (k++; k < len && msg[k] != '"' && o + 1 < size; k++)
                        out[o++] = msg[k];
                out[o] = '\0';
                return;
        }
}

static void relay(struct proxy *p, struct proxy_conn *c, bool from_down) {
        static char buf[MSG_MAX];
        ssize_t n = recv(from_down ? c->down : c->up, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                conn_close(c);
                return;
        }
        if (from_down) {
                char ev[32];
                event_name(buf, (size_t)n, ev, sizeof ev);
                p->messages++;
                if (p->on_event)
                        p->on_event(p->ud, ev, c->peer, buf, (size_t)n);
        }
        if (send(from_down ? c->up : c->down, buf, (size_t)n, MSG_NOSIGNAL) < 0)
                conn_close(c);
}

void proxy_handle(struct proxy *p, const struct pollfd *fds, size_t n) {
        for (size_t k = 0; k < n; k++) {
                if (!fds[k].revents)
                        continue;
                if (fds[k].fd == p->listen_fd) {
                        accept_one(p);
                        continue;
                }
                for (size_t i = 0; i < PROXY_MAX_CONNS; i++) {
                        struct proxy_conn *c = &p->conns[i];
                        if (!c->used)
                                continue;
                        if (fds[k].fd == c->down)
                                relay(p, c, true);
                        else if (fds[k].fd == c->up)
                                relay(p, c, false);
                }
        }
}
