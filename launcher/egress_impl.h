/* Egress, supervisor side: the state the dialer threads and the supervisor share. */
#pragma once
#include <pthread.h>
#include "launcher/egress.h"

#define EGRESS_MAX_OWN 64

struct egress_host_stat {
        char *host;
        unsigned port;
        long long connections, bytes;
};

struct egress_ctx {
        pthread_mutex_t lock;
        int refs; /* the supervisor + each running dial thread */
        int sup_fd, child_fd;
        const struct policy_egress *pol;
        uint32_t mark; /* SO_MARK as root, 0 otherwise */
        uint8_t own[EGRESS_MAX_OWN][16];
        size_t n_own;
        int in_flight;
        struct status_egress_denial *denied;
        size_t n_denied;
        struct egress_host_stat *stats;
        size_t n_stats;
        long long bytes, connections;
        struct broker_ca *ca;         /* a task with a profile: the broker's CA and stores (broker_ca.c) */
        struct status_injection *inj; /* brokered requests per (credential, bound host), strings owned */
        size_t n_inj;
        bool hup;    /* the proxy is gone: stop polling */
        bool closed; /* results handed to the status: no more records */
};

/* Drop a reference; the last one closes the socket and frees everything. */
void egress_ctx_unref(struct egress_ctx *c);
/* Record a refusal or a finished tunnel (thread-safe; ignored once closed). */
void egress_record_denial(struct egress_ctx *c, const char *host, unsigned port, enum egress_reason r);
void egress_record_connect(struct egress_ctx *c, const char *host, unsigned port);
/* The same with the credential a placeholder-misdirected names (or NULL). */
void egress_record_denial_cred(struct egress_ctx *c, const char *host, unsigned port, enum egress_reason r,
                               const char *cred);
void egress_record_tunnel(struct egress_ctx *c, const char *host, unsigned port, long long bytes);
/* A brokered credential's request count from the broker's report (validated here). */
void egress_record_injected(struct task *t, const char *cred, const char *host, uint64_t requests);
/* One DIAL request from the proxy: name rules now, the rest on a thread. */
void egress_dial(struct egress_ctx *c, const struct egress_msg *m);
/* Sandbox init: the proxy's end of the dial socket (closes init's copy of ours). */
int egress_child_fd(struct task *t);
/* The proxy's own confinement (egress_confine.c): sandbox init checks the
 * policy's Landlock demands before the fork; the proxy locks itself down
 * (Landlock that grants nothing, then its seccomp allow-list) once set up. */
int egress_proxy_lock_check(const struct task *t, struct sr_error *e);
int egress_proxy_lockdown(const struct task *t);
int egress_proxy_seccomp(void);
/* Test hook (SEALRUN_TEST_PROXY_PROBE=1): try what the lockdown forbids, report on stderr. */
void egress_proxy_probe(const char *when);
