/* Network mode "proxy", both halves: the supervisor's dialer (host network
 * namespace: decides, resolves, connects, passes the socket) and the
 * in-sandbox side (the proxy process, the payload's own pid namespace). */
#pragma once
#include <stdint.h>
#include "launcher/task.h"
#include "policy/egress_rules.h"

/* Messages on the dial socket (SOCK_SEQPACKET, one message per record). */
enum { EGM_DIAL = 1, EGM_REPORT = 2, EGM_INJECTED = 3 };

/* proxy → supervisor, once per (brokered credential, bound host) with a
 * count > 0, as the broker exits (launcher/broker_creds.c). The
 * supervisor accepts only names announced as brokered and canonical hosts. */
struct egress_injected_msg {
        uint32_t type; /* EGM_INJECTED */
        uint32_t pad;
        uint64_t requests;
        char cred[256];
        char host[EGRESS_HOST_MAX + 3]; /* bind.hosts[i]: a name or "*.suffix" */
};

enum { EGM_F_BOUND = 1 }; /* DIAL: the host is bound to a brokered credential */
#define EGM_MAX_PINS 8

struct egress_msg { /* proxy → supervisor */
        uint32_t type;
        uint32_t id;     /* DIAL: echoed in the reply */
        uint32_t reason; /* REPORT: enum egress_reason (EGR_OK: a tunnel closed) */
        uint16_t port;
        uint64_t bytes; /* REPORT: bytes the tunnel carried, both ways */
        char host[EGRESS_HOST_MAX + 3];
        /* DIAL of a bound host (docs/network.md "Brokered credentials"): the
         * policy's resolve pins do not apply; the binding's pins (if any)
         * replace resolution, every address still passes the address checks */
        uint32_t flags;
        uint32_t n_pins;
        uint8_t pin_af[EGM_MAX_PINS]; /* 4 or 6 */
        uint8_t pin[EGM_MAX_PINS][16];
        char cred[128]; /* REPORT of a placeholder-misdirected: the credential's name */
};

struct egress_reply { /* supervisor → proxy, with the socket when reason == EGR_OK */
        uint32_t id;
        uint32_t reason;
        char rule[EGRESS_HOST_MAX + 8]; /* the rule that decided, or "" */
};

/* Supervisor, before the clone: the dial socketpair, the payload's proxy
 * variables, the proxy ports in the Landlock TCP rules. No-op unless proxy. */
int egress_prepare(struct task *t, struct sr_error *e);
/* Supervisor, after the clone: drop the sandbox's end (and the CA key). */
void egress_after_spawn(struct task *t);
/* Supervisor, mount plan: the CA files the payload trusts (malloc'd, NULL
 * when the task has no profile). 0 or -ENOMEM. */
int egress_ca_files(const struct task *t, char **ret_bundle, char **ret_ca);
/* Sandbox init: take the CA for the proxy (NULL without a profile). */
struct broker_ca *egress_take_ca(struct task *t);
/* Supervisor's poll loop: the fd to watch (-1 if none) and its handler. */
int egress_poll_fd(const struct task *t);
void egress_on_readable(struct task *t);
/* Supervisor, at the end: denials into the status JSON and the audit stream. */
void egress_finish(struct task *t);
void egress_release(struct task *t);

/* Sandbox init, before the payload: bind the listeners and fork the proxy. */
int egress_start_proxy(struct task *t, struct sr_error *e);
/* Sandbox init, once the payload is gone and before it kills what is left:
 * the proxy reports its open tunnels' bytes (and the broker its request
 * counts), wipes its credentials and exits (200 ms at most, 2 s with a profile). */
/* 0 when the proxy exited by itself with 0 (its broker wiped its credentials), or -errno. */
int egress_stop_proxy(struct task *t);
/* Sandbox init: fork the payload into a pid namespace of its own (proxy mode)
 * with a small reaper as its pid 1, so the payload can name, signal or trace
 * no process outside it; plain fork() otherwise. exec_wr (or -1) is an fd
 * only the payload keeps (the reaper closes it). Returns the pid or -errno. */
pid_t egress_fork_payload(struct task *t, int exec_wr);
/* Sandbox init: the payload's wait status from the reaper's (proxy mode). */
int egress_payload_status(struct task *t, int reaper_status);
#define EGRESS_MAX_TRANSPARENT 32
#define EGRESS_DNS_NET 0x7f640000u /* 127.100.0.0/16: one loopback address per allowed name */

/* What sandbox init binds for the proxy before the payload exists. */
struct egress_listeners {
        int http;                       /* TCP 127.0.0.1:proxy_port: CONNECT and forward requests */
        int dns;                        /* UDP 127.0.0.1:53: the responder resolv.conf names */
        int tp[EGRESS_MAX_TRANSPARENT]; /* TCP 0.0.0.0:PORT per allowed port: the transparent path */
        uint16_t tp_port[EGRESS_MAX_TRANSPARENT];
        size_t n_tp;
};

struct broker;
/* The proxy process's main loop (never returns); b: the broker, or NULL. */
_Noreturn void egress_proxy_main(struct task *t, int dial_fd, const struct egress_listeners *l, struct broker *b);
