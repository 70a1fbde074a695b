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

void egress_ctx_unref(struct egress_ctx *c) {
        bool last;
        pthread_mutex_lock(&c->lock);
        last = --c->refs == 0;
        pthread_mutex_unlock(&c->lock);
        if (!last)
                return;
        if (c->sup_fd >= 0)
                close(c->sup_fd);
        for (size_t i = 0; i < c->n_denied; i++)
                free(c->denied[i].host);
        for (size_t i = 0; i < c->n_stats; i++)
                free(c->stats[i].host);
        free(c->denied);
        free(c->stats);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

/* Only names the rules accept reach the status; anything else is shown as
 * "?" so the payload cannot write arbitrary text into the operator's view. */
void egress_record_denial(struct egress_ctx *c, const char *host, unsigned port, enum egress_reason r) {
        struct status_egress_denial *d;
        struct egress_host h;
        const char *name = egress_host_canon(host, &h) == 0 ? h.name : "?";
        pthread_mutex_lock(&c->lock);
        /* one entry per (host, port, reason): a flood of attempts stays one line */
        for (size_t i = 0; i < c->n_denied; i++)
                if (c->denied[i].port == port && c->denied[i].reason == egress_reason_name(r) &&
                    strcmp(c->denied[i].host, name) == 0) {
                        pthread_mutex_unlock(&c->lock);
                        return;
                }
        if (!c->closed && c->n_denied < 1024 && (d = realloc(c->denied, (c->n_denied + 1) * sizeof *d))) {
                c->denied = d;
                d[c->n_denied].host = strdup(name);
                d[c->n_denied].port = port;
                d[c->n_denied].reason = egress_reason_name(r);
                if (d[c->n_denied].host)
                        c->n_denied++;
        }
        pthread_mutex_unlock(&c->lock);
}

void egress_record_tunnel(struct egress_ctx *c, const char *host, unsigned port, long long bytes) {
        struct egress_host h;
        struct egress_host_stat *s;
        const char *name = egress_host_canon(host, &h) == 0 ? h.name : "?";
        pthread_mutex_lock(&c->lock);
        if (c->closed) {
                pthread_mutex_unlock(&c->lock);
                return;
        }
        c->bytes += bytes;
        for (size_t i = 0; i < c->n_stats; i++)
                if (c->stats[i].port == port && strcmp(c->stats[i].host, name) == 0) {
                        c->stats[i].bytes += bytes;
                        pthread_mutex_unlock(&c->lock);
                        return;
                }
        if (c->n_stats < 1024 && (s = realloc(c->stats, (c->n_stats + 1) * sizeof *s))) {
                c->stats = s;
                s[c->n_stats] = (struct egress_host_stat){ strdup(name), port, 0, bytes };
                if (s[c->n_stats].host)
                        c->n_stats++;
        }
        pthread_mutex_unlock(&c->lock);
}

void egress_on_readable(struct task *t) {
        struct egress_ctx *c = t->egress;
        struct egress_msg m;
        if (!c)
                return;
        for (int i = 0; i < 64; i++) {
                ssize_t n = recv(c->sup_fd, &m, sizeof m, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                        c->hup = true; /* the proxy is gone */
                if (n <= 0)
                        return;
                if ((size_t)n != sizeof m)
                        continue;
                m.host[sizeof m.host - 1] = 0;
                if (m.type == EGM_DIAL)
                        egress_dial(c, &m);
                else if (m.type == EGM_REPORT && m.reason == EGR_OK)
                        egress_record_tunnel(c, m.host, m.port, (long long)(m.bytes > (1ull << 60) ? 0 : m.bytes));
                else if (m.type == EGM_REPORT && m.reason < EGR_REASON_MAX)
                        egress_record_denial(c, m.host, m.port, (enum egress_reason)m.reason);
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

static int landlock_port(struct policy_landlock *l, uint16_t port) {
        for (size_t i = 0; i < l->n_connect_ports; i++)
                if (l->connect_ports[i] == port)
                        return 0;
        if (l->n_connect_ports >= LANDLOCK_MAX_PORTS)
                return -E2BIG;
        l->connect_ports[l->n_connect_ports++] = port;
        return 0;
}

int egress_prepare(struct task *t, struct sr_error *e) {
        const struct policy_egress *pe = &t->pol->network.egress;
        static const char *const vars[] = { "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY",
                                            "https_proxy", "http_proxy", "all_proxy" };
        struct egress_ctx *c;
        char url[64];
        int sv[2];

        if (t->cfg.network_mode != NET_PROXY) {
                if (t->cfg.n_egress_allow)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--egress-allow: the policy %s does not use network mode \"proxy\"",
                                       t->pol->file);
                return 0;
        }
        if (t->cfg.n_egress_allow) {
                const char *bad = NULL;
                int r = pol_egress_narrow(&t->pol->network.egress, t->cfg.egress_allow, t->cfg.n_egress_allow, &bad);
                if (r == -ENOENT) /* narrowing never adds a rule */
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "egress-widen",
                                       "--egress-allow %s: not an allow rule of the policy %s", bad, t->pol->file);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--egress-allow %s: not a host name, *.suffix, address or CIDR", bad);
        }
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
        /* a policy that restricts TCP connect ports must still reach the proxy
         * and the transparent listeners (one per allowed port) */
        if (t->pol->landlock.net) {
                int r = landlock_port(&t->pol->landlock, pe->proxy_port);
                for (size_t i = 0; r == 0 && i < pe->rules.n_allow; i++)
                        for (size_t k = 0; r == 0 && k < pe->rules.allow[i].n_ports; k++)
                                r = landlock_port(&t->pol->landlock, pe->rules.allow[i].ports[k]);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, E2BIG, "egress",
                                       "%s: $.landlock.net.connect: no room for the egress ports", t->pol->file);
        }
        return 0;
}

void egress_after_spawn(struct task *t) {
        if (t->egress && t->egress->child_fd >= 0) {
                close(t->egress->child_fd);
                t->egress->child_fd = -1;
        }
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
                snprintf(code, sizeof code, "egress-%s", c->denied[i].reason);
                audit_deny(t, code);
        }
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
