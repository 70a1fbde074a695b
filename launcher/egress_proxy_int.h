/* Egress proxy internals shared by its two files (the HTTP side in
 * egress_proxy.c, the DNS and transparent side in egress_proxy_dns.c). */
#pragma once
#include <stdbool.h>
#include "launcher/egress.h"
#include "policy/egress_http.h"

#define BUF_SIZE (64 * 1024)
#define DIAL_SLACK_MS 2000 /* the supervisor's own deadline fires first */

enum cstate { C_HEAD, C_DIAL, C_TUNNEL };

struct pipe_buf {
        char *data; /* bytes the proxy wrote itself (the 200, a rewritten head) */
        size_t off, len;
        int pipe[2]; /* the rest moves by splice(2), never through user memory */
        size_t piped;
        size_t cap; /* the pipe's size (F_SETPIPE_SZ may give less than asked) */
        bool eof;   /* the reading side is done */
        bool shut;  /* shutdown(SHUT_WR) sent to the writing side */
};

struct conn {
        struct conn *next;
        enum cstate state;
        uint32_t id;
        int cfd, ufd;
        int64_t deadline;
        char head[EGRESS_HTTP_MAX_HEAD];
        size_t hlen;
        struct egress_http_req req;
        struct pipe_buf c2u, u2c;
        uint64_t bytes;
        bool transparent;  /* arrived through the DNS path: no HTTP head */
        uint32_t cev, uev; /* epoll mask registered per side, + 1 (0: unknown) */
};

/* Names the DNS responder answered, each with its own loopback address. */
struct dns_name {
        char name[EGRESS_HOST_MAX + 1];
};
#define DNS_MAX_NAMES 4096

struct proxy {
        const struct task *t;
        int ep, dial_fd;
        struct conn *conns;
        size_t n_conns;
        uint32_t next_id;
        uint64_t bytes_total;
        const struct egress_listeners *l;
        struct dns_name *names;
        size_t n_names;
        struct broker *broker; /* brokered credentials: terminate TLS (launcher/broker.h), else NULL */
};

/* Tell the supervisor about a refusal decided here, or a tunnel's bytes (EGR_OK). */
void proxy_report(struct proxy *p, enum egress_reason r, const char *host, uint16_t port, uint64_t bytes);
/* A connection for an accepted fd, linked into p->conns; NULL (fd closed)
 * when out of memory. */
struct conn *proxy_conn_new(struct proxy *p, int fd);
void proxy_conn_close(struct proxy *p, struct conn *c);
/* Read more of c's head (HTTP, or the transparent path's ClientHello): true
 * when bytes arrived; false when there are none yet or c was closed. */
bool proxy_read_head(struct proxy *p, struct conn *c);
void proxy_watch(struct proxy *p, struct conn *c);
/* Ask the supervisor to dial c's host and port: 0 or -EPIPE. */
int proxy_dial(struct proxy *p, struct conn *c);
/* The transparent path and the DNS responder (egress_proxy_dns.c). */
void proxy_accept_transparent(struct proxy *p, int lfd, uint16_t port);
/* A transparent connection's first bytes: a TLS ClientHello's SNI must name
 * the host its address stands for; then the dial (the bytes follow). */
void proxy_transparent_head(struct proxy *p, struct conn *c);
void proxy_on_dns(struct proxy *p);
