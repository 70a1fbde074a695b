/* Egress, supervisor half: the decisions and the dial happen in the host
 * network namespace, never inside. This file holds the task's egress state
 * (prepare, the poll-loop hook, status and audit, release); egress_dial.c
 * answers each request.
 *
 * The proxy inside only parses; every decision is made here, on the address
 * actually dialed: rules on the canonical name, resolution here (pins first),
 * every address checked, a non-blocking connect with a timeout, and the
 * connected socket passed back with SCM_RIGHTS. Nothing inside can hand us
 * an fd: the receive side has no control buffer, so passed fds are dropped
 * by the kernel. */
#include "launcher/egress_impl.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "launcher/audit.h"
#include "launcher/broker.h"
#include "launcher/tls.h"

void egress_ctx_unref(struct egress_ctx *c) {
        bool last;
        pthread_mutex_lock(&c->lock);
        last = --c->refs == 0;
        pthread_mutex_unlock(&c->lock);
        if (!last)
                return;
        if (c->sup_fd >= 0)
                close(c->sup_fd);
        for (size_t i = 0; i < c->n_denied; i++) {
                free(c->denied[i].host);
                free(c->denied[i].credential);
        }
        for (size_t i = 0; i < c->n_stats; i++)
                free(c->stats[i].host);
        for (size_t i = 0; i < c->n_inj; i++) {
                free((char *)c->inj[i].name);
                free((char *)c->inj[i].host);
        }
        free(c->inj);
        free(c->denied);
        free(c->stats);
        broker_ca_free(c->ca);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

/* Only names the rules accept reach the status; anything else is shown as
 * "?" so the payload cannot write arbitrary text into the operator's view. */
/* A credential name as the proxy reported it: the profile's name rules
 * (printable ASCII, no '/'); anything else is shown as "?". */
static const char *cred_name(const char *s) {
        if (!s || !s[0])
                return NULL;
        for (const char *p = s; *p; p++)
                if (*p <= 0x20 || *p >= 0x7f || *p == '/' || *p == '"' || *p == '\\')
                        return "?";
        return s;
}

void egress_record_denial(struct egress_ctx *c, const char *host, unsigned port, enum egress_reason r) {
        egress_record_denial_cred(c, host, port, r, NULL);
}

void egress_record_denial_cred(struct egress_ctx *c, const char *host, unsigned port, enum egress_reason r,
                               const char *cred) {
        struct status_egress_denial *d;
        struct egress_host h;
        const char *name = egress_host_canon(host, &h) == 0 ? h.name : "?";
        cred = cred_name(cred);
        pthread_mutex_lock(&c->lock);
        /* one entry per (host, port, reason, credential): a flood of attempts stays one line */
        for (size_t i = 0; i < c->n_denied; i++)
                if (c->denied[i].port == port && c->denied[i].reason == egress_reason_name(r) &&
                    strcmp(c->denied[i].host, name) == 0 &&
                    !(c->denied[i].credential ? !cred || strcmp(cred, c->denied[i].credential) : !!cred)) {
                        pthread_mutex_unlock(&c->lock);
                        return;
                }
        if (!c->closed && c->n_denied < 1024 && (d = realloc(c->denied, (c->n_denied + 1) * sizeof *d))) {
                c->denied = d;
                d[c->n_denied].host = strdup(name);
                d[c->n_denied].port = port;
                d[c->n_denied].reason = egress_reason_name(r);
                d[c->n_denied].credential = cred ? strdup(cred) : NULL;
                if (d[c->n_denied].host)
                        c->n_denied++;
        }
        pthread_mutex_unlock(&c->lock);
}

/* A dial that succeeded (connections = 1) or a tunnel that closed (its
 * bytes), per canonical host and port. */
static void record_stat(struct egress_ctx *c, const char *host, unsigned port, long long conns, long long bytes) {
        struct egress_host h;
        struct egress_host_stat *s;
        const char *name = egress_host_canon(host, &h) == 0 ? h.name : "?";
        pthread_mutex_lock(&c->lock);
        if (c->closed) {
                pthread_mutex_unlock(&c->lock);
                return;
        }
        c->bytes += bytes;
        c->connections += conns;
        for (size_t i = 0; i < c->n_stats; i++)
                if (c->stats[i].port == port && strcmp(c->stats[i].host, name) == 0) {
                        c->stats[i].bytes += bytes;
                        c->stats[i].connections += conns;
                        pthread_mutex_unlock(&c->lock);
                        return;
                }
        if (c->n_stats < 1024 && (s = realloc(c->stats, (c->n_stats + 1) * sizeof *s))) {
                c->stats = s;
                s[c->n_stats] = (struct egress_host_stat){ strdup(name), port, conns, bytes };
                if (s[c->n_stats].host)
                        c->n_stats++;
        }
        pthread_mutex_unlock(&c->lock);
}

void egress_record_connect(struct egress_ctx *c, const char *host, unsigned port) {
        record_stat(c, host, port, 1, 0);
}

void egress_record_tunnel(struct egress_ctx *c, const char *host, unsigned port, long long bytes) {
        record_stat(c, host, port, 0, bytes);
}

/* A brokered credential's request count from the broker: kept only for a
 * name the payload side announced as brokered and a host that is a
 * binding's (canonical name or "*.suffix"), so a broker that parsed
 * hostile input cannot write arbitrary text into the status or audit. */
void egress_record_injected(struct task *t, const char *cred, const char *host, uint64_t requests) {
        struct egress_ctx *c = t->egress;
        struct status_injection *v;
        struct egress_host h;
        bool wild = strncmp(host, "*.", 2) == 0, known = false;
        char name[EGRESS_HOST_MAX + 3];
        for (size_t i = 0; i < t->status.n_brokered; i++)
                known |= strcmp(t->status.brokered[i], cred) == 0;
        if (!c || !known || requests == 0 || requests > (1ull << 40) ||
            egress_host_canon(wild ? host + 2 : host, &h) < 0 || h.kind != EH_NAME)
                return;
        snprintf(name, sizeof name, "%s%s", wild ? "*." : "", h.name);
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_inj; i++)
                if (strcmp(c->inj[i].name, cred) == 0 && strcmp(c->inj[i].host, name) == 0) {
                        c->inj[i].requests += (long long)requests;
                        pthread_mutex_unlock(&c->lock);
                        return;
                }
        if (!c->closed && c->n_inj < 1024 && (v = realloc(c->inj, (c->n_inj + 1) * sizeof *v))) {
                c->inj = v;
                v[c->n_inj] = (struct status_injection){ strdup(cred), strdup(name), (long long)requests };
                if (v[c->n_inj].name && v[c->n_inj].host)
                        c->n_inj++;
                else {
                        free((char *)v[c->n_inj].name);
                        free((char *)v[c->n_inj].host);
                }
        }
        pthread_mutex_unlock(&c->lock);
}

void egress_on_readable(struct task *t) {
        struct egress_ctx *c = t->egress;
        union {
                struct egress_msg m;
                struct egress_injected_msg inj;
        } u;
        struct egress_msg m;
        if (!c)
                return;
        for (int i = 0; i < 64; i++) {
                ssize_t n = recv(c->sup_fd, &u, sizeof u, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                        c->hup = true; /* the proxy is gone */
                if (n <= 0)
                        return;
                if ((size_t)n == sizeof u.inj && u.inj.type == EGM_INJECTED) {
                        u.inj.cred[sizeof u.inj.cred - 1] = 0;
                        u.inj.host[sizeof u.inj.host - 1] = 0;
                        egress_record_injected(t, u.inj.cred, u.inj.host, u.inj.requests);
                        continue;
                }
                if ((size_t)n != sizeof m)
                        continue;
                m = u.m;
                m.host[sizeof m.host - 1] = 0;
                m.cred[sizeof m.cred - 1] = 0;
                if (m.type == EGM_DIAL)
                        egress_dial(c, &m);
                else if (m.type == EGM_REPORT && m.reason == EGR_OK)
                        egress_record_tunnel(c, m.host, m.port, (long long)(m.bytes > (1ull << 60) ? 0 : m.bytes));
                else if (m.type == EGM_REPORT && m.reason < EGR_REASON_MAX)
                        egress_record_denial_cred(c, m.host, m.port, (enum egress_reason)m.reason,
                                                  m.reason == EGR_PLACEHOLDER ? m.cred : NULL);
        }
}

int egress_poll_fd(const struct task *t) {
        return t->egress && !t->egress->hup ? t->egress->sup_fd : -1;
}

/* The host's own addresses: a name that resolves to one of them reaches a
 * service on this machine, as loopback would. */
static void own_addresses(struct egress_ctx *c) {
        struct ifaddrs *ifa = NULL;
        if (getifaddrs(&ifa) < 0)
                return;
        for (struct ifaddrs *i = ifa; i && c->n_own < EGRESS_MAX_OWN; i = i->ifa_next) {
                if (!i->ifa_addr)
                        continue;
                if (i->ifa_addr->sa_family == AF_INET) {
                        static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
                        memcpy(c->own[c->n_own], pre, 12);
                        memcpy(c->own[c->n_own++] + 12, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
                } else if (i->ifa_addr->sa_family == AF_INET6)
                        memcpy(c->own[c->n_own++], &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
        }
        freeifaddrs(ifa);
}

/* Per-tenant firewall mark (docs/network.md, "Egress by name"): 0x5e000000 | the low 24 bits
 * of the FNV-1a hash of the tenant name; 0x5e000000 without a tenant. */
static uint32_t tenant_mark(const char *tenant) {
        uint32_t h = 2166136261u;
        for (const char *p = tenant; p && *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
        return 0x5e000000u | (tenant ? (h & 0xffffffu) : 0);
}

static int env_set(struct task *t, const char *name, const char *value) {
        size_t n = 0, nl = strlen(name);
        char *kv, **nv;
        if (asprintf(&kv, "%s=%s", name, value) < 0)
                return -ENOMEM;
        for (; t->envp && t->envp[n]; n++)
                if (strncmp(t->envp[n], name, nl) == 0 && t->envp[n][nl] == '=') {
                        free(t->envp[n]);
                        t->envp[n] = kv;
                        return 0;
                }
        nv = realloc(t->envp, (n + 2) * sizeof *nv);
        if (!nv) {
                free(kv);
                return -ENOMEM;
        }
        nv[n] = kv;
        nv[n + 1] = NULL;
        t->envp = nv;
        return 0;
}

int egress_prepare(struct task *t, struct sr_error *e) {
        /* the policy's section as config_resolve() narrowed it (--egress-allow) */
        const struct policy_egress *pe = &t->cfg.egress;
        static const char *const vars[] = { "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY",
                                            "https_proxy", "http_proxy", "all_proxy" };
        struct egress_ctx *c;
        char url[64];
        int sv[2];

        if (t->cfg.network_mode != NET_PROXY)
                return 0;
        c = calloc(1, sizeof *c);
        if (!c)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "egress: out of memory");
        pthread_mutex_init(&c->lock, NULL);
        c->refs = 1;
        c->sup_fd = c->child_fd = -1;
        c->pol = pe;
        t->egress = c;
        t->status.egress = true;
        if (t->as_root)
                c->mark = tenant_mark(t->cfg.tenant);
        own_addresses(c);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "egress", "egress: socketpair: %s", strerror(errno));
        c->sup_fd = sv[0];
        c->child_fd = sv[1];
        snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)pe->proxy_port);
        for (size_t i = 0; i < ELEMENTSOF(vars); i++)
                if (env_set(t, vars[i], url) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "egress: out of memory");
        if (env_set(t, "NO_PROXY", "localhost,127.0.0.1,::1") < 0 ||
            env_set(t, "no_proxy", "localhost,127.0.0.1,::1") < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "egress: out of memory");
        /* brokered credentials are possible (a profile): the task CA, and
         * the variables that make clients trust it (docs/network.md) */
        if (t->cfg.profile) {
                static const char *const ca_vars[] = { "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                                                       "GIT_SSL_CAINFO" };
                /* OpenSSL enters this process here, and only here */
                int r = tls_load(e);
                if (r == 0)
                        r = broker_ca_prepare(t, &c->ca, e);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(ca_vars); i++)
                        if (env_set(t, ca_vars[i], BROKER_BUNDLE_PATH) < 0)
                                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "egress: out of memory");
                if (env_set(t, "NODE_EXTRA_CA_CERTS", BROKER_CA_PATH) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "egress: out of memory");
        }
        return 0;
}

void egress_after_spawn(struct task *t) {
        if (t->egress && t->egress->child_fd >= 0) {
                close(t->egress->child_fd);
                t->egress->child_fd = -1;
        }
        /* the CA key now lives in the sandbox (init, then only the proxy) */
        if (t->egress) {
                broker_ca_free(t->egress->ca);
                t->egress->ca = NULL;
        }
}

int egress_ca_files(const struct task *t, char **ret_bundle, char **ret_ca) {
        *ret_bundle = *ret_ca = NULL;
        if (!t->egress || !t->egress->ca)
                return 0;
        return broker_ca_files(t->egress->ca, ret_bundle, ret_ca);
}

struct broker_ca *egress_take_ca(struct task *t) {
        struct broker_ca *ca = t->egress ? t->egress->ca : NULL;
        if (t->egress)
                t->egress->ca = NULL;
        return ca;
}

/* The "egress" audit event: every host reached and every refusal, the
 * first AUDIT_MAX_EGRESS of each (the rest counted as omitted). */
static void audit_summary(struct task *t, struct egress_ctx *c) {
        struct audit_egress_host h[AUDIT_MAX_EGRESS];
        struct audit_egress_denial d[AUDIT_MAX_EGRESS];
        size_t nh = 0, nd = 0;
        long long omitted = 0;
        for (size_t i = 0; i < c->n_stats; i++) {
                if (nh == AUDIT_MAX_EGRESS || !audit_egress_host_valid(c->stats[i].host)) {
                        omitted++;
                        continue;
                }
                h[nh++] = (struct audit_egress_host){ c->stats[i].host, c->stats[i].port, c->stats[i].connections,
                                                      c->stats[i].bytes };
        }
        for (size_t i = 0; i < c->n_denied; i++) {
                if (nd == AUDIT_MAX_EGRESS || !audit_egress_host_valid(c->denied[i].host)) {
                        omitted++;
                        continue;
                }
                d[nd++] = (struct audit_egress_denial){ c->denied[i].host, c->denied[i].port, c->denied[i].reason };
        }
        audit_egress(t, h, nh, d, nd, omitted);
}

void egress_finish(struct task *t) {
        struct egress_ctx *c = t->egress;
        if (!c)
                return;
        /* drain what the proxy reported before it died */
        egress_on_readable(t);
        pthread_mutex_lock(&c->lock);
        c->closed = true;
        t->status.egress_denied = c->denied;
        t->status.n_egress_denied = c->n_denied;
        t->status.egress_connections = c->connections;
        t->status.egress_bytes = c->bytes;
        t->status.injections = c->inj;
        t->status.n_injections = c->n_inj;
        pthread_mutex_unlock(&c->lock);
        /* one audit deny per distinct refusal, at most 64: a flood of
         * attempts must not flood the collector */
        for (size_t i = 0, sent = 0; i < c->n_denied && sent < 64; i++) {
                char code[80];
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = c->denied[k].port == c->denied[i].port && c->denied[k].reason == c->denied[i].reason &&
                               strcmp(c->denied[k].host, c->denied[i].host) == 0;
                if (seen)
                        continue;
                sent++;
                /* the tripwire's own reason code (docs/reasons.md), the rest egress-REASON */
                if (strcmp(c->denied[i].reason, "placeholder-misdirected") == 0)
                        snprintf(code, sizeof code, "%s", c->denied[i].reason);
                else
                        snprintf(code, sizeof code, "egress-%s", c->denied[i].reason);
                audit_deny(t, code);
        }
        audit_summary(t, c);
}

void egress_release(struct task *t) {
        struct egress_ctx *c = t->egress;
        if (!c)
                return;
        if (c->child_fd >= 0)
                close(c->child_fd);
        c->child_fd = -1;
        /* the status may still point at the denials: they live until exit
         * when a dial thread holds a reference; otherwise freed here */
        t->status.egress_denied = NULL;
        t->status.n_egress_denied = 0;
        t->status.injections = NULL;
        t->status.n_injections = 0;
        t->egress = NULL;
        egress_ctx_unref(c);
}

/* Sandbox init: its copy of the supervisor's end goes (nothing inside may
 * speak as the supervisor); the proxy's end is returned. */
int egress_child_fd(struct task *t) {
        if (!t->egress)
                return -1;
        if (t->egress->sup_fd >= 0)
                close(t->egress->sup_fd);
        t->egress->sup_fd = -1;
        return t->egress->child_fd;
}
