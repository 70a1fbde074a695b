/* Egress proxy, the path for clients that ignore proxy variables: the DNS
 * responder gives each allowed name its own loopback address, and a
 * connection to that address on an allowed port is tunneled to the name. */
#include "launcher/egress_proxy_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "policy/egress_dns.h"
#include "policy/egress_tls.h"

/* The transparent path: the loopback address the client dialed names the
 * host (the DNS responder gave it out), the listener's port is the port.
 * Neither SNI nor a Host header is trusted for the destination; the dial
 * waits for the client's first bytes (header_timeout_ms), so that a TLS
 * hello naming another host (domain fronting on a shared front end) is
 * refused before anything leaves. Server-first protocols (SMTP, FTP) do not
 * work on this path: they go through CONNECT. */
void proxy_accept_transparent(struct proxy *p, int lfd, uint16_t port) {
        for (int i = 0; i < 64; i++) {
                struct sockaddr_in sa;
                socklen_t sl = sizeof sa;
                uint32_t a, idx;
                struct conn *c;
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 || sa.sin_family != AF_INET) {
                        close(fd);
                        continue;
                }
                a = ntohl(sa.sin_addr.s_addr);
                idx = (a & 0xffffu) - 1;
                if ((a & 0xffff0000u) != EGRESS_DNS_NET || idx >= p->n_names ||
                    p->n_conns >= (size_t)p->t->cfg.egress.max_connections) {
                        proxy_report(p,
                                     (a & 0xffff0000u) != EGRESS_DNS_NET || idx >= p->n_names ? EGR_NOT_ALLOWED
                                                                                              : EGR_CONN_LIMIT,
                                     "?", port, 0);
                        close(fd);
                        continue;
                }
                if (!(c = proxy_conn_new(p, fd)))
                        continue;
                c->transparent = true;
                snprintf(c->req.host, sizeof c->req.host, "%s", p->names[idx].name);
                c->req.port = port;
                c->state = C_HEAD;
                c->deadline = now_ms() + p->t->cfg.egress.header_timeout_ms;
                if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN, .data.ptr = c }) < 0)
                        proxy_conn_close(p, c);
        }
}

void proxy_transparent_head(struct proxy *p, struct conn *c) {
        char sni[EGRESS_HOST_MAX + 2];
        struct egress_host h;
        int r;
        if (!proxy_read_head(p, c))
                return;
        r = egress_tls_sni((const uint8_t *)c->head, c->hlen, sni, sizeof sni);
        if (r == -EAGAIN && c->hlen < sizeof c->head)
                return;
        if (r == -EAGAIN || r == -EINVAL) { /* a hello too large or malformed: its name cannot be checked */
                proxy_report(p, EGR_BAD_REQUEST, c->req.host, c->req.port, 0);
                proxy_conn_close(p, c);
                return;
        }
        if (r == 0 && sni[0] && (egress_host_canon(sni, &h) < 0 || strcmp(h.name, c->req.host) != 0)) {
                proxy_report(p, EGR_SNI_MISMATCH, sni, c->req.port, 0);
                proxy_conn_close(p, c);
                return;
        }
        /* the bytes read so far go upstream once the tunnel stands (on_reply) */
        if (proxy_dial(p, c) < 0) {
                proxy_conn_close(p, c);
                return;
        }
        proxy_watch(p, c);
}

/* One query, one answer: allowed names get their own 127.100.x.y, denied
 * names NXDOMAIN (reported with the reason); nothing is ever forwarded. */
void proxy_on_dns(struct proxy *p) {
        for (int i = 0; i < 64; i++) {
                uint8_t q[512], out[512 + 16];
                struct sockaddr_storage from;
                socklen_t fl = sizeof from;
                char name[EGRESS_HOST_MAX + 1];
                struct egress_host h;
                uint16_t type;
                size_t qend, olen;
                enum egress_reason r;
                uint8_t a4[4];
                bool have_a = false;
                ssize_t n = recvfrom(p->l->dns, q, sizeof q, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
                if (n < 0)
                        return;
                if (egress_dns_parse(q, (size_t)n, name, &type, &qend) < 0) {
                        if (n >= 12) { /* FORMERR with the header only */
                                q[2] &= 0x01;
                                if (egress_dns_answer(q, 12, DNS_RCODE_FORMERR, NULL, out, sizeof out, &olen) == 0)
                                        (void)sendto(p->l->dns, out, olen, MSG_DONTWAIT, (struct sockaddr *)&from, fl);
                        }
                        continue;
                }
                if (egress_host_canon(name, &h) < 0 || h.kind != EH_NAME)
                        r = EGR_BAD_HOST;
                else
                        r = egress_name_allowed(&p->t->cfg.egress.rules, &h);
                if (r != EGR_OK) {
                        /* AAAA/other queries for a denied name are reported once, by the A query */
                        if (type == DNS_TYPE_A)
                                proxy_report(p, r, name, 0, 0);
                        if (egress_dns_answer(q, qend, DNS_RCODE_NXDOMAIN, NULL, out, sizeof out, &olen) == 0)
                                (void)sendto(p->l->dns, out, olen, MSG_DONTWAIT, (struct sockaddr *)&from, fl);
                        continue;
                }
                if (type == DNS_TYPE_A) {
                        size_t k;
                        for (k = 0; k < p->n_names && strcmp(p->names[k].name, h.name) != 0; k++)
                                ;
                        if (k == p->n_names && p->n_names < DNS_MAX_NAMES) {
                                struct dns_name *nn = realloc(p->names, (p->n_names + 1) * sizeof *nn);
                                if (nn) {
                                        p->names = nn;
                                        snprintf(nn[p->n_names++].name, sizeof nn->name, "%s", h.name);
                                }
                        }
                        if (k < p->n_names) {
                                uint32_t a = htonl(EGRESS_DNS_NET + (uint32_t)k + 1);
                                memcpy(a4, &a, 4);
                                have_a = true;
                        }
                }
                /* AAAA and the rest: NOERROR without records, so clients use the A answer */
                if (egress_dns_answer(q, qend, type == DNS_TYPE_A && !have_a ? DNS_RCODE_REFUSED : DNS_RCODE_OK,
                                      have_a ? a4 : NULL, out, sizeof out, &olen) == 0)
                        (void)sendto(p->l->dns, out, olen, MSG_DONTWAIT, (struct sockaddr *)&from, fl);
        }
}
