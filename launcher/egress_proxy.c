/* Egress, sandbox half: the proxy process (127.0.0.1:PORT inside, only lo).
 *
 * It accepts the payload's connections, parses one request head each
 * (CONNECT or an absolute-URI forward request), asks the supervisor to dial,
 * and copies bytes between the client and the socket it gets back, counting
 * them. It cannot dial anything itself: its network namespace has only lo. */
#include "launcher/egress_proxy_int.h"

#include "launcher/broker_creds.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>

#include "launcher/broker.h"
#include "policy/egress_http.h"

void proxy_report(struct proxy *p, enum egress_reason r, const char *host, uint16_t port, uint64_t bytes) {
        struct egress_msg m = { .type = EGM_REPORT, .reason = r, .port = port, .bytes = bytes };
        snprintf(m.host, sizeof m.host, "%s", host ? host : "?");
        (void)send(p->dial_fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void proxy_conn_close(struct proxy *p, struct conn *c) {
        struct conn **pp;
        if (c->state == C_TUNNEL)
                proxy_report(p, EGR_OK, c->req.host, c->req.port, c->bytes);
        for (pp = &p->conns; *pp && *pp != c; pp = &(*pp)->next)
                ;
        if (*pp)
                *pp = c->next;
        p->n_conns--;
        if (c->cfd >= 0)
                close(c->cfd);
        if (c->ufd >= 0)
                close(c->ufd);
        egress_http_req_free(&c->req);
        free(c->c2u.data);
        free(c->u2c.data);
        for (int k = 0; k < 2; k++) {
                if (c->c2u.pipe[k] >= 0)
                        close(c->c2u.pipe[k]);
                if (c->u2c.pipe[k] >= 0)
                        close(c->u2c.pipe[k]);
        }
        free(c);
}

/* A short answer to the client, then close: 403 names the rule or reason. */
static void answer(struct proxy *p, struct conn *c, int code, const char *status, const char *body) {
        char msg[1024];
        int n = snprintf(msg, sizeof msg,
                         "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s",
                         code, status, strlen(body), body);
        (void)send(c->cfd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        proxy_conn_close(p, c);
}

static void deny(struct proxy *p, struct conn *c, enum egress_reason r, const char *rule) {
        char body[600];
        const char *host = c->req.host[0] ? c->req.host : "?";
        int code = r == EGR_CONNECT_TIMEOUT || r == EGR_RESOLVE_TIMEOUT ? 504
                   : r == EGR_CONNECT || r == EGR_RESOLVE               ? 502
                   : r == EGR_BAD_REQUEST                               ? 400
                   : r == EGR_HEADER_SIZE                               ? 431
                   : r == EGR_HEADER_TIMEOUT                            ? 408
                   : r == EGR_CONN_LIMIT || r == EGR_MEMLOCK            ? 503
                                                                        : 403;
        if (rule && rule[0])
                snprintf(body, sizeof body, "sealrun egress: %s:%u %s (rule %s)\n", host, (unsigned)c->req.port,
                         egress_reason_name(r), rule);
        else
                snprintf(body, sizeof body, "sealrun egress: %s:%u %s\n", host, (unsigned)c->req.port,
                         egress_reason_name(r));
        answer(p, c, code,
               code == 504   ? "Gateway Timeout"
               : code == 502 ? "Bad Gateway"
               : code == 400 ? "Bad Request"
               : code == 431 ? "Request Header Fields Too Large"
               : code == 408 ? "Request Timeout"
               : code == 503 ? "Service Unavailable"
                             : "Forbidden",
               body);
}

/* Splice pipes of 256 KiB where the user's pipe quota allows, else the
 * kernel's 64 KiB (the size actually granted is used). 1 MiB pipes measured
 * no faster and cost four times the quota (docs/network.md, "Measured"). */
static const int pipe_sizes[] = { 256 * 1024 };

/* May we read more? The user buffer must be empty and the pipe not full. */
static bool room(const struct pipe_buf *b) {
        return b->len == 0 && (b->pipe[0] < 0 || b->piped < b->cap);
}

void proxy_watch(struct proxy *p, struct conn *c) {
        struct epoll_event ev = { .data.ptr = c };
        uint32_t ce = 0, ue = 0;
        if (c->state == C_HEAD)
                ce = EPOLLIN;
        else if (c->state == C_TUNNEL) {
                if (!c->c2u.eof && room(&c->c2u))
                        ce |= EPOLLIN;
                if (c->u2c.len + c->u2c.piped)
                        ce |= EPOLLOUT;
                if (!c->u2c.eof && room(&c->u2c))
                        ue |= EPOLLIN;
                if (c->c2u.len + c->c2u.piped)
                        ue |= EPOLLOUT;
        }
        /* only when the mask changes: a tunnel in steady flow keeps its masks */
        ev.events = ce;
        if (c->cev != ce + 1 && epoll_ctl(p->ep, EPOLL_CTL_MOD, c->cfd, &ev) == 0)
                c->cev = ce + 1;
        if (c->ufd >= 0 && c->uev != ue + 1) {
                ev.events = ue;
                ev.data.ptr = (char *)c + 1; /* tagged: the upstream side */
                if (epoll_ctl(p->ep, EPOLL_CTL_MOD, c->ufd, &ev) == 0)
                        c->uev = ue + 1;
        }
}

bool proxy_read_head(struct proxy *p, struct conn *c) {
        ssize_t n = recv(c->cfd, c->head + c->hlen, sizeof c->head - c->hlen, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return false;
        if (n <= 0) {
                proxy_conn_close(p, c);
                return false;
        }
        c->hlen += (size_t)n;
        return true;
}

static void on_head(struct proxy *p, struct conn *c) {
        int r;
        if (c->transparent) { /* no HTTP head: the first bytes are checked (SNI) */
                proxy_transparent_head(p, c);
                return;
        }
        if (!proxy_read_head(p, c))
                return;
        r = egress_http_parse(c->head, c->hlen, &c->req);
        if (r == -EAGAIN)
                return;
        if (r == -E2BIG || r == -EINVAL) {
                enum egress_reason why = r == -E2BIG ? EGR_HEADER_SIZE : EGR_BAD_REQUEST;
                proxy_report(p, why, c->req.host[0] ? c->req.host : "?", c->req.port, 0);
                deny(p, c, why, r == -EINVAL ? c->req.why : NULL);
                return;
        }
        if (r < 0) {
                proxy_conn_close(p, c);
                return;
        }
        if (p->t->cfg.egress.max_bytes && p->bytes_total >= (uint64_t)p->t->cfg.egress.max_bytes) {
                proxy_report(p, EGR_BYTE_LIMIT, c->req.host, c->req.port, 0);
                deny(p, c, EGR_BYTE_LIMIT, NULL);
                return;
        }
        if (proxy_dial(p, c) < 0) {
                deny(p, c, EGR_CONNECT, NULL);
                return;
        }
        proxy_watch(p, c);
}

static int buf_put(struct pipe_buf *b, const char *d, size_t n) {
        if (!b->data && !(b->data = malloc(BUF_SIZE)))
                return -ENOMEM;
        if (n > BUF_SIZE - b->len)
                return -E2BIG;
        memcpy(b->data + b->len, d, n);
        b->len += n;
        return 0;
}

/* Brokered credentials: the connection leaves the splice loop for a broker
 * thread that terminates its TLS (or reads its plain HTTP) and sees every
 * request whole. */
static void handoff(struct proxy *p, struct conn *c) {
        static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        const char *pre = NULL;
        size_t pre_len = 0;
        bool forward = !c->transparent && c->req.kind == EHTTP_FORWARD;
        struct conn **pp;
        int r;
        if (!c->transparent && c->req.kind == EHTTP_CONNECT) {
                if (send(c->cfd, ok, sizeof ok - 1, MSG_NOSIGNAL) != sizeof ok - 1) {
                        proxy_conn_close(p, c);
                        return;
                }
                pre = c->head + c->req.head_len;
                pre_len = c->hlen - c->req.head_len;
        } else if (forward || c->transparent) {
                pre = c->head; /* the forward request's head; the transparent path's ClientHello */
                pre_len = c->hlen;
        }
        epoll_ctl(p->ep, EPOLL_CTL_DEL, c->cfd, NULL);
        r = broker_take(p->broker, c->cfd, c->ufd, c->req.host, c->req.port, pre, pre_len, forward);
        if (r < 0) {
                enum egress_reason why = r == -ENOMEM ? EGR_MEMLOCK : EGR_CONN_LIMIT;
                proxy_report(p, why, c->req.host[0] ? c->req.host : "?", c->req.port, 0);
                /* after CONNECT's 200, or on the transparent path, the client
                 * speaks TLS: an HTTP answer would only be garbage to it */
                if (c->transparent || c->req.kind == EHTTP_CONNECT)
                        proxy_conn_close(p, c);
                else
                        deny(p, c, why, NULL);
                return;
        }
        /* the fds are the thread's now */
        for (pp = &p->conns; *pp && *pp != c; pp = &(*pp)->next)
                ;
        if (*pp)
                *pp = c->next;
        p->n_conns--;
        egress_http_req_free(&c->req);
        free(c->c2u.data);
        free(c->u2c.data);
        free(c);
}

static void on_reply(struct proxy *p) {
        struct egress_reply m;
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = { &m, sizeof m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        struct cmsghdr *cm;
        struct conn *c;
        int fd = -1;
        ssize_t n = recvmsg(p->dial_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n == 0) {
                broker_stop(p->broker);
                broker_creds_free(p->t->broker);
                _exit(0); /* the supervisor is gone */
        }
        if (n != sizeof m)
                return;
        for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        m.rule[sizeof m.rule - 1] = 0;
        for (c = p->conns; c && !(c->state == C_DIAL && c->id == m.id); c = c->next)
                ;
        if (!c) { /* timed out meanwhile */
                if (fd >= 0)
                        close(fd);
                return;
        }
        if (m.reason != EGR_OK || fd < 0) {
                if (fd >= 0)
                        close(fd);
                deny(p, c, m.reason != EGR_OK ? (enum egress_reason)m.reason : EGR_CONNECT, m.rule);
                return;
        }
        c->ufd = fd;
        if (p->broker && broker_terminates(p->broker, c->req.host)) {
                handoff(p, c);
                return;
        }
        if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = 0, .data.ptr = (char *)c + 1 }) < 0) {
                deny(p, c, EGR_CONNECT, NULL);
                return;
        }
        c->state = C_TUNNEL;
        if (c->transparent)
                ;
        else if (c->req.kind == EHTTP_CONNECT) {
                static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
                if (buf_put(&c->u2c, ok, sizeof ok - 1) < 0) {
                        proxy_conn_close(p, c);
                        return;
                }
        } else if (buf_put(&c->c2u, c->req.upstream, c->req.upstream_len) < 0) {
                deny(p, c, EGR_HEADER_SIZE, NULL);
                return;
        }
        /* bytes the client sent after its head (a pipelined TLS hello) */
        if (c->hlen > c->req.head_len && buf_put(&c->c2u, c->head + c->req.head_len, c->hlen - c->req.head_len) < 0) {
                proxy_conn_close(p, c);
                return;
        }
        proxy_watch(p, c);
}

/* A pipe per direction for splice(2); without one (fd limit) the bytes go
 * through the user buffer instead. */
static bool use_pipe(struct pipe_buf *b) {
        if (b->pipe[0] >= 0)
                return true;
        if (b->pipe[0] == -2 || pipe2(b->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                b->pipe[0] = b->pipe[1] = -2;
                return false;
        }
        b->cap = 64 * 1024;
        for (size_t i = 0; i < ELEMENTSOF(pipe_sizes); i++) {
                int r = fcntl(b->pipe[1], F_SETPIPE_SZ, pipe_sizes[i]);
                if (r > 0) {
                        b->cap = (size_t)r;
                        break;
                }
        }
        return true;
}

static int count(struct proxy *p, struct conn *c, size_t n) {
        uint64_t limit = (uint64_t)p->t->cfg.egress.max_bytes;
        c->bytes += n;
        p->bytes_total += n;
        return limit && p->bytes_total > limit ? -EDQUOT : 0;
}

/* Move bytes one way: read `from` when nothing is pending, write what is
 * pending to `to`. The byte limit is checked before anything is forwarded. */
static int pump_once(struct proxy *p, struct conn *c, int from, int to, struct pipe_buf *b, bool *can_read,
                     bool *can_write, bool *moved) {
        if (*can_read && room(b) && !b->eof && (b->piped == 0 || b->pipe[0] >= 0)) {
                ssize_t n;
                if (use_pipe(b))
                        n = splice(from, NULL, b->pipe[1], NULL, b->cap - b->piped, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                else {
                        if (!b->data && !(b->data = malloc(BUF_SIZE)))
                                return -ENOMEM;
                        n = recv(from, b->data, BUF_SIZE, MSG_DONTWAIT);
                }
                if (n == 0)
                        b->eof = true;
                else if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                else if (n < 0)
                        *can_read = false;
                else if (n > 0) {
                        *moved = true;
                        if (b->pipe[0] >= 0)
                                b->piped += (size_t)n;
                        else {
                                b->off = 0;
                                b->len = (size_t)n;
                        }
                        if (count(p, c, (size_t)n) < 0)
                                return -EDQUOT;
                }
        }
        if (b->len && *can_write) {
                ssize_t n = send(to, b->data + b->off, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (n < 0 || (size_t)n < b->len)
                        *can_write = false; /* the socket is full: wait for EPOLLOUT */
                if (n > 0) {
                        *moved = true;
                        b->off += (size_t)n;
                        b->len -= (size_t)n;
                }
        }
        if (!b->len && b->piped && *can_write) {
                ssize_t n = splice(b->pipe[0], NULL, to, NULL, b->piped, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (n < 0 || (size_t)n < b->piped)
                        *can_write = false;
                if (n > 0) {
                        *moved = true;
                        b->piped -= (size_t)n;
                }
        }
        return 0;
}

static int pump(struct proxy *p, struct conn *c, int from, int to, struct pipe_buf *b, uint32_t ev_from,
                uint32_t ev_to) {
        /* go on while bytes move: one wakeup drains what both sockets allow,
         * instead of one epoll round trip per splice */
        /* a writable `to` (the pipe drained) also tries `from`: the bytes
         * waiting there move now, not after one more epoll_ctl and wait */
        bool can_read = ev_from & (EPOLLIN | EPOLLHUP | EPOLLERR) || ev_to & EPOLLOUT,
             can_write = (ev_to & EPOLLOUT) || ev_from;
        for (int round = 0; round < 16 && (can_read || can_write); round++) {
                bool moved = false;
                int r = pump_once(p, c, from, to, b, &can_read, &can_write, &moved);
                if (r < 0)
                        return r;
                if (!moved)
                        break;
        }
        if (b->eof && b->len + b->piped == 0 && !b->shut) {
                shutdown(to, SHUT_WR);
                b->shut = true;
        }
        return 0;
}

static void on_tunnel(struct proxy *p, struct conn *c, bool upstream, uint32_t ev) {
        int r = pump(p, c, c->cfd, c->ufd, &c->c2u, upstream ? 0 : ev, upstream ? ev : 0);
        if (r == 0)
                r = pump(p, c, c->ufd, c->cfd, &c->u2c, upstream ? ev : 0, upstream ? 0 : ev);
        if (r == -EDQUOT) {
                proxy_report(p, EGR_BYTE_LIMIT, c->req.host, c->req.port, 0);
                proxy_conn_close(p, c);
                return;
        }
        if (r < 0 || (c->c2u.shut && c->u2c.shut)) {
                proxy_conn_close(p, c);
                return;
        }
        proxy_watch(p, c);
}

struct conn *proxy_conn_new(struct proxy *p, int fd) {
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
                close(fd);
                return NULL;
        }
        c->cfd = fd;
        c->ufd = -1;
        c->c2u.pipe[0] = c->c2u.pipe[1] = c->u2c.pipe[0] = c->u2c.pipe[1] = -1;
        c->next = p->conns;
        p->conns = c;
        p->n_conns++;
        return c;
}

static void on_accept(struct proxy *p, int lfd) {
        const struct policy_egress *pe = &p->t->cfg.egress;
        for (int i = 0; i < 64; i++) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                struct conn *c;
                if (fd < 0)
                        return;
                if (!(c = proxy_conn_new(p, fd)))
                        continue;
                if (p->n_conns > (size_t)pe->max_connections) {
                        proxy_report(p, EGR_CONN_LIMIT, "?", 0, 0);
                        deny(p, c, EGR_CONN_LIMIT, NULL);
                        continue;
                }
                c->deadline = now_ms() + pe->header_timeout_ms;
                if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN, .data.ptr = c }) < 0)
                        proxy_conn_close(p, c);
        }
}

int proxy_dial(struct proxy *p, struct conn *c) {
        struct egress_msg m = { .type = EGM_DIAL };
        c->id = ++p->next_id;
        m.id = c->id;
        m.port = c->req.port;
        snprintf(m.host, sizeof m.host, "%s", c->req.host);
        if (p->broker) {
                const char *const *pins;
                size_t n_pins;
                if (broker_bound(p->broker, c->req.host, c->req.port, &pins, &n_pins)) {
                        m.flags |= EGM_F_BOUND;
                        for (size_t i = 0; i < n_pins && m.n_pins < EGM_MAX_PINS; i++) {
                                if (inet_pton(AF_INET, pins[i], m.pin[m.n_pins]) == 1)
                                        m.pin_af[m.n_pins++] = 4;
                                else if (inet_pton(AF_INET6, pins[i], m.pin[m.n_pins]) == 1)
                                        m.pin_af[m.n_pins++] = 6;
                        }
                }
        }
        if (send(p->dial_fd, &m, sizeof m, MSG_NOSIGNAL) != sizeof m)
                return -EPIPE;
        c->state = C_DIAL;
        c->deadline = now_ms() + p->t->cfg.egress.connect_timeout_ms + DIAL_SLACK_MS;
        return 0;
}

static int64_t expire(struct proxy *p) {
        int64_t now = now_ms(), next = -1;
        struct conn *c = p->conns, *nx;
        for (; c; c = nx) {
                nx = c->next;
                if (c->state == C_TUNNEL)
                        continue;
                if (c->deadline <= now) {
                        enum egress_reason r = c->state == C_HEAD ? EGR_HEADER_TIMEOUT : EGR_CONNECT_TIMEOUT;
                        if (r == EGR_HEADER_TIMEOUT)
                                proxy_report(p, r, "?", 0, 0);
                        deny(p, c, r, NULL);
                        continue;
                }
                if (next < 0 || c->deadline < next)
                        next = c->deadline;
        }
        return next < 0 ? -1 : next - now;
}

/* epoll tags of the fixed fds; connections are tagged with their (even) address */
static const struct { char c; } tags[4 + EGRESS_MAX_TRANSPARENT] __attribute__((aligned(2)));
#define TAG_TERM ((void *)&tags[3 + EGRESS_MAX_TRANSPARENT])
#define TAG_HTTP ((void *)&tags[0])
#define TAG_DIAL ((void *)&tags[1])
#define TAG_DNS ((void *)&tags[2])
#define TAG_TP(i) ((void *)&tags[3 + (i)])

_Noreturn void egress_proxy_main(struct task *t, int dial_fd, const struct egress_listeners *l, struct broker *b) {
        struct proxy p = { .t = t, .dial_fd = dial_fd, .l = l, .broker = b };
        struct epoll_event evs[64];
        sigset_t term;
        int sfd;

        /* SIGTERM from init (the payload is gone): report and leave */
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_BLOCK, &term, NULL);
        sfd = signalfd(-1, &term, SFD_CLOEXEC);

        p.ep = epoll_create1(EPOLL_CLOEXEC);
        if (p.ep < 0 ||
            epoll_ctl(p.ep, EPOLL_CTL_ADD, l->http, &(struct epoll_event){ .events = EPOLLIN, .data.ptr = TAG_HTTP }) <
                    0 ||
            epoll_ctl(p.ep, EPOLL_CTL_ADD, l->dns, &(struct epoll_event){ .events = EPOLLIN, .data.ptr = TAG_DNS }) <
                    0 ||
            epoll_ctl(p.ep, EPOLL_CTL_ADD, dial_fd, &(struct epoll_event){ .events = EPOLLIN, .data.ptr = TAG_DIAL }) <
                    0 ||
            sfd < 0 ||
            epoll_ctl(p.ep, EPOLL_CTL_ADD, sfd, &(struct epoll_event){ .events = EPOLLIN, .data.ptr = TAG_TERM }) < 0)
                _exit(1);
        for (size_t i = 0; i < l->n_tp; i++)
                if (epoll_ctl(p.ep, EPOLL_CTL_ADD, l->tp[i],
                              &(struct epoll_event){ .events = EPOLLIN, .data.ptr = TAG_TP(i) }) < 0)
                        _exit(1);
        for (;;) {
                int64_t left = expire(&p);
                int n = epoll_wait(p.ep, evs, ELEMENTSOF(evs), left < 0 ? -1 : (int)(left > 60000 ? 60000 : left));
                for (int i = 0; i < n; i++) {
                        void *d = evs[i].data.ptr;
                        struct conn *c;
                        if (d == TAG_HTTP) {
                                on_accept(&p, l->http);
                                continue;
                        }
                        if (d == TAG_TERM) {
                                bool stopped;
                                while (p.conns)
                                        proxy_conn_close(&p, p.conns);
                                stopped = broker_stop(p.broker);
                                broker_creds_report(t->broker, dial_fd);
                                broker_creds_free(t->broker);
                                if (broker_holds(p.broker))
                                        nanosleep(&(struct timespec){ .tv_nsec = 300 * 1000 * 1000 }, NULL);
                                /* a connection thread that outlived the stop may
                                 * have read the value after the wipe began: the
                                 * exit is then no confirmation of the scrub */
                                _exit(stopped ? 0 : SR_EXIT_LAUNCHER);
                        }
                        if (d == TAG_DNS) {
                                proxy_on_dns(&p);
                                continue;
                        }
                        if (d >= TAG_TP(0) && d < TAG_TP(EGRESS_MAX_TRANSPARENT)) {
                                size_t k = (size_t)((const char *)d - (const char *)TAG_TP(0)) / sizeof tags[0];
                                proxy_accept_transparent(&p, l->tp[k], l->tp_port[k]);
                                continue;
                        }
                        if (d == TAG_DIAL) {
                                if (evs[i].events & (EPOLLHUP | EPOLLERR) && !(evs[i].events & EPOLLIN)) {
                                        broker_stop(p.broker);
                                        broker_creds_free(t->broker);
                                        _exit(0);
                                }
                                on_reply(&p);
                                continue;
                        }
                        /* an earlier event of this round may have closed it */
                        c = (struct conn *)((uintptr_t)d & ~(uintptr_t)1);
                        {
                                struct conn *k = p.conns;
                                while (k && k != c)
                                        k = k->next;
                                if (!k)
                                        continue;
                        }
                        if (c->state == C_HEAD && !((uintptr_t)d & 1))
                                on_head(&p, c);
                        else if (c->state == C_TUNNEL)
                                on_tunnel(&p, c, (uintptr_t)d & 1, evs[i].events);
                }
        }
}
