/* Egress, supervisor side: one request's decision, resolution and connect,
 * on a short-lived thread, answered with the socket over SCM_RIGHTS. */
#include "launcher/egress_impl.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct dial_job {
        struct egress_ctx *c;
        struct egress_host host;
        uint16_t port;
        uint32_t id;
        bool bound; /* a brokered credential's host: the policy's pins do not apply */
        size_t n_pins;
        int pin_af[EGM_MAX_PINS];
        uint8_t pin[EGM_MAX_PINS][16];
};

static void reply(struct egress_ctx *c, uint32_t id, enum egress_reason r, const struct egress_rule *rule, int fd) {
        struct egress_reply m = { .id = id, .reason = r };
        struct iovec iov = { &m, sizeof m };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (rule)
                snprintf(m.rule, sizeof m.rule, "%s", rule->text);
        if (fd >= 0) {
                struct cmsghdr *cm;
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof u.buf;
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        }
        /* never block the supervisor's loop on a proxy that does not read:
         * an answer that does not fit is dropped and the proxy times out (504) */
        (void)sendmsg(c->sup_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Non-blocking connect bounded by the deadline: 0 with the socket, or the reason. */
static enum egress_reason dial_one(struct egress_ctx *c, int af, const uint8_t *addr, uint16_t port, int64_t deadline,
                                   int *ret_fd) {
        struct sockaddr_storage ss = { 0 };
        socklen_t sl;
        int fd, err = 0;
        socklen_t el = sizeof err;
        if (af == AF_INET) {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
                s4->sin_family = AF_INET;
                s4->sin_port = htons(port);
                memcpy(&s4->sin_addr, addr, 4);
                sl = sizeof *s4;
        } else {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons(port);
                memcpy(&s6->sin6_addr, addr, 16);
                sl = sizeof *s6;
        }
        fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return EGR_CONNECT;
        if (c->mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &c->mark, sizeof c->mark) < 0) {
                close(fd);
                return EGR_CONNECT;
        }
        if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
                close(fd);
                return EGR_CONNECT;
        }
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                int64_t left = deadline - now_ms();
                int r;
                if (left <= 0) {
                        close(fd);
                        return EGR_CONNECT_TIMEOUT;
                }
                r = poll(&p, 1, (int)left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        continue;
                break;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
                close(fd);
                return EGR_CONNECT;
        }
        *ret_fd = fd;
        return EGR_OK;
}

static void *dial_thread(void *arg) {
        struct dial_job *j = arg;
        struct egress_ctx *c = j->c;
        const struct egress_rules *rules = &c->pol->rules;
        const struct egress_rule *rule = NULL;
        int64_t deadline = now_ms() + c->pol->connect_timeout_ms;
        int af[EGRESS_MAX_PIN_ADDRS * 2];
        uint8_t addr[EGRESS_MAX_PIN_ADDRS * 2][16];
        size_t n = 0;
        enum egress_reason r = EGR_OK, first_deny = EGR_OK;
        int fd = -1;

        if (j->host.kind != EH_NAME) {
                af[0] = j->host.kind == EH_V4 ? AF_INET : AF_INET6;
                memcpy(addr[0], j->host.addr, 16);
                n = 1;
        } else if (j->bound && j->n_pins) {
                /* the binding's pins (sealed by the issuer, relayed by the
                 * proxy): checked below like any resolved address */
                for (; n < j->n_pins; n++) {
                        af[n] = j->pin_af[n];
                        memcpy(addr[n], j->pin[n], 16);
                }
        } else if (!j->bound && egress_pin_find(rules, j->host.name)) {
                const struct egress_pin *p = egress_pin_find(rules, j->host.name);
                for (; n < p->n_addrs; n++) {
                        af[n] = p->af[n];
                        memcpy(addr[n], p->addr[n], 16);
                }
        } else {
                struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res = NULL;
                int g = getaddrinfo(j->host.name, NULL, &hints, &res);
                if (now_ms() >= deadline)
                        r = EGR_RESOLVE_TIMEOUT;
                else if (g != 0 || !res)
                        r = EGR_RESOLVE;
                for (struct addrinfo *ai = res; r == EGR_OK && ai && n < ELEMENTSOF(af); ai = ai->ai_next) {
                        af[n] = ai->ai_family;
                        if (ai->ai_family == AF_INET)
                                memcpy(addr[n++], &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
                        else if (ai->ai_family == AF_INET6)
                                memcpy(addr[n++], &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
                }
                if (res)
                        freeaddrinfo(res);
        }
        /* every address is checked; only checked addresses are dialed */
        for (size_t i = 0; r == EGR_OK && i < n && fd < 0; i++) {
                enum egress_reason ar = egress_check_addr(rules, af[i], addr[i], j->port, (const uint8_t(*)[16])c->own,
                                                          c->n_own, &rule);
                if (ar != EGR_OK) {
                        if (first_deny == EGR_OK)
                                first_deny = ar;
                        continue;
                }
                ar = dial_one(c, af[i], addr[i], j->port, deadline, &fd);
                if (ar != EGR_OK)
                        first_deny = first_deny == EGR_OK || first_deny == EGR_CONNECT ? ar : first_deny;
        }
        if (r == EGR_OK && fd < 0)
                r = first_deny != EGR_OK ? first_deny : EGR_RESOLVE;
        if (r != EGR_OK)
                egress_record_denial(c, j->host.name, j->port, r);
        else {
                egress_record_connect(c, j->host.name, j->port);
        }
        reply(c, j->id, r, r == EGR_DENY_RULE ? rule : NULL, fd);
        if (fd >= 0)
                close(fd);
        pthread_mutex_lock(&c->lock);
        c->in_flight--;
        pthread_mutex_unlock(&c->lock);
        free(j);
        egress_ctx_unref(c);
        return NULL;
}

void egress_dial(struct egress_ctx *c, const struct egress_msg *m) {
        struct dial_job *j;
        const struct egress_rule *rule = NULL;
        enum egress_reason r;
        pthread_attr_t at;
        pthread_t th;
        bool busy;

        j = calloc(1, sizeof *j);
        if (!j) {
                reply(c, m->id, EGR_CONN_LIMIT, NULL, -1);
                return;
        }
        j->c = c;
        j->id = m->id;
        j->port = m->port;
        j->bound = m->flags & EGM_F_BOUND;
        for (size_t i = 0; j->bound && i < m->n_pins && i < EGM_MAX_PINS; i++) {
                if (m->pin_af[i] != 4 && m->pin_af[i] != 6)
                        continue;
                j->pin_af[j->n_pins] = m->pin_af[i] == 4 ? AF_INET : AF_INET6;
                memcpy(j->pin[j->n_pins++], m->pin[i], 16);
        }
        if (m->port == 0 || egress_host_canon(m->host, &j->host) < 0)
                r = EGR_BAD_HOST;
        else
                r = egress_check_host(&c->pol->rules, &j->host, m->port, &rule);
        if (r != EGR_OK) {
                egress_record_denial(c, m->host, m->port, r);
                reply(c, m->id, r, r == EGR_DENY_RULE || r == EGR_PORT ? rule : NULL, -1);
                free(j);
                return;
        }
        pthread_mutex_lock(&c->lock);
        busy = c->in_flight >= c->pol->max_connections;
        if (!busy) {
                c->in_flight++;
                c->refs++;
        }
        pthread_mutex_unlock(&c->lock);
        if (busy) {
                egress_record_denial(c, m->host, m->port, EGR_CONN_LIMIT);
                reply(c, m->id, EGR_CONN_LIMIT, NULL, -1);
                free(j);
                return;
        }
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        if (pthread_create(&th, &at, dial_thread, j) != 0) {
                pthread_mutex_lock(&c->lock);
                c->in_flight--;
                c->refs--;
                pthread_mutex_unlock(&c->lock);
                reply(c, m->id, EGR_CONN_LIMIT, NULL, -1);
                free(j);
        }
        pthread_attr_destroy(&at);
}
