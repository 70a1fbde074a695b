/* Egress broker, proxy half: TLS toward the payload with leaf certificates
 * of the per-task CA, TLS toward the server through the supervisor's dial
 * verified for the dialed name, and per request the engine of
 * policy/broker_http.c (injection, tripwire, re-framing, scrub).
 *
 * One thread per terminated connection with blocking I/O: a request and its
 * response are handled in order (HTTP/1.1 without pipelining ahead of the
 * response), so a request is always seen whole before any of it leaves.
 * Buffers that may hold a secret (the re-framed head, the response) are
 * sodium_malloc'ed, checked locked, not dumped, and wiped before they are
 * freed; OpenSSL's own buffers (the records the head is copied into) are
 * locked and wiped by launcher/broker_mem.c. A connection whose memory
 * cannot be locked is refused (broker-memlock), never served unlocked. */
#include "launcher/broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include "launcher/broker_mem.h"
#include "launcher/egress.h"
#include "launcher/testhook.h"
#include "policy/broker_http.h"

#define IO_TIMEOUT_S 120 /* an idle kept-alive connection, or a stalled peer */
#define RBUF (BHTTP_MAX_HEAD + 4096)

struct leaf {
        struct leaf *next;
        char host[EGRESS_HOST_MAX + 1];
        X509 *cert;
};

struct broker {
        const struct task *t;
        struct broker_creds *creds;
        struct bhttp_cred cred[BHTTP_MAX_CREDS];
        size_t n;
        SSL_CTX *srv;
        SSL_CTX *cli_default;                /* the host's store, or the policy's trust_store */
        SSL_CTX *cli_host;                   /* the host's store: bound hosts without ca_pem */
        SSL_CTX *cli_bound[BHTTP_MAX_CREDS]; /* a binding's own anchors */
        EVP_PKEY *ca_key, *leaf_key;
        X509 *ca;
        int64_t not_after;
        pthread_mutex_t lock; /* leaves, request counts */
        struct leaf *leaves;
        int report_fd;
        atomic_int threads;
        atomic_bool stopping;
        struct bconn *live; /* connections whose threads run (under lock) */
        bool hold_inject;   /* test hook "broker:inject" (launcher/testhook.h) */
        bool hold_stuck;    /* test hook "broker:stuck": held past the stop's bound */
};

static void report(struct broker *b, enum egress_reason r, const char *host, uint16_t port, uint64_t bytes,
                   const char *cred) {
        struct egress_msg m = { .type = EGM_REPORT, .reason = r, .port = port, .bytes = bytes };
        snprintf(m.host, sizeof m.host, "%s", host ? host : "?");
        if (cred)
                snprintf(m.cred, sizeof m.cred, "%s", cred);
        (void)send(b->report_fd, &m, sizeof m, MSG_NOSIGNAL);
}

static X509_STORE *store_from_pem(const char *pem, size_t len) {
        X509_STORE *s = X509_STORE_new();
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        X509 *x;
        if (!s || !bio) {
                X509_STORE_free(s);
                BIO_free(bio);
                return NULL;
        }
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                X509_STORE_add_cert(s, x);
                X509_free(x);
        }
        ERR_clear_error();
        BIO_free(bio);
        return s;
}

static SSL_CTX *client_ctx(const char *pem, size_t len) {
        static const unsigned char alpn[] = "\x08http/1.1";
        SSL_CTX *c = SSL_CTX_new(TLS_client_method());
        X509_STORE *s;
        if (!c)
                return NULL;
        s = store_from_pem(pem, len);
        if (!s) {
                SSL_CTX_free(c);
                return NULL;
        }
        SSL_CTX_set_cert_store(c, s);
        SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_alpn_protos(c, alpn, sizeof alpn - 1);
        SSL_CTX_set_mode(c, SSL_MODE_AUTO_RETRY);
        /* a bound host that quotes the secret back (TRACE, an error page)
         * would otherwise leave it decrypted in OpenSSL's record buffer, in
         * ordinary heap, until the next record overwrites it (found by the
         * leak test's brokered TLS exchange) */
        SSL_CTX_set_options(c, SSL_OP_CLEANSE_PLAINTEXT);
        return c;
}

/* ALPN toward the payload: http/1.1 or nothing (a client that offers only h2
 * gets no protocol and, speaking h2 anyway, a refused preface). */
static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg) {
        for (unsigned i = 0; i < inlen; i += 1u + in[i])
                if (in[i] == 8 && i + 9 <= inlen && memcmp(in + i + 1, "http/1.1", 8) == 0) {
                        *out = in + i + 1;
                        *outlen = 8;
                        return SSL_TLSEXT_ERR_OK;
                }
        return SSL_TLSEXT_ERR_NOACK;
}

static int broker_tls_start_ctx(struct task *t, struct broker_ca *ca, struct broker_creds *creds, int report_fd,
                                struct broker **ret);

int broker_tls_start(struct task *t, struct broker_ca *ca, struct broker_creds *creds, int report_fd,
                     struct broker **ret) {
        int r;
        *ret = NULL;
        if (!creds || creds->n == 0) {
                broker_ca_free(ca);
                return 0;
        }
        if (!ca || creds->n > BHTTP_MAX_CREDS) {
                broker_ca_free(ca);
                return -EINVAL;
        }
        r = broker_tls_start_ctx(t, ca, creds, report_fd, ret);
        broker_ca_free(ca); /* the key and certificate are referenced; the PEM text is parsed */
        return r;
}

static int broker_tls_start_ctx(struct task *t, struct broker_ca *ca, struct broker_creds *creds, int report_fd,
                                struct broker **ret) {
        struct broker *b;
        OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        pthread_mutex_init(&b->lock, NULL);
        b->t = t;
        b->creds = creds;
        b->n = creds->n;
        b->report_fd = report_fd;
        b->ca_key = ca->key;
        b->ca = ca->cert;
        b->not_after = ca->not_after;
        EVP_PKEY_up_ref(b->ca_key);
        X509_up_ref(b->ca);
        for (size_t i = 0; i < b->n; i++) {
                struct broker_cred *c = &creds->v[i];
                b->cred[i] = (struct bhttp_cred){ c->name, c->placeholder, c->value, c->value_len, &c->bind };
                if (c->bind.ca_pem && !(b->cli_bound[i] = client_ctx(c->bind.ca_pem, strlen(c->bind.ca_pem))))
                        return -EINVAL;
        }
        b->cli_host = client_ctx(ca->host_store, ca->host_store_len);
        b->cli_default = ca->policy_store ? client_ctx(ca->policy_store, ca->policy_store_len) : b->cli_host;
        b->leaf_key = EVP_EC_gen("P-256"); /* one key for every leaf of this task */
        b->srv = SSL_CTX_new(TLS_server_method());
        if (!b->cli_host || !b->cli_default || !b->leaf_key || !b->srv)
                return -EIO;
        SSL_CTX_set_min_proto_version(b->srv, TLS1_2_VERSION);
        SSL_CTX_set_alpn_select_cb(b->srv, alpn_select, NULL);
        SSL_CTX_set_mode(b->srv, SSL_MODE_AUTO_RETRY);
        SSL_CTX_set_options(b->srv, SSL_OP_CLEANSE_PLAINTEXT);
        SSL_CTX_set_session_cache_mode(b->srv, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(b->srv, 0);
        b->hold_inject = testhook_armed("broker:inject");
        b->hold_stuck = testhook_armed("broker:stuck");
        *ret = b;
        return 0;
}

bool broker_terminates(const struct broker *b, const char *host) {
        struct egress_host h;
        if (!b)
                return false;
        if (egress_host_canon(host, &h) < 0)
                return true;
        return !(h.kind == EH_NAME && pol_egress_passthrough(&b->t->cfg.egress, h.name));
}

bool broker_bound(const struct broker *b, const char *host, uint16_t port, const char *const **ret_pins,
                  size_t *ret_n_pins) {
        struct egress_host h;
        *ret_pins = NULL;
        *ret_n_pins = 0;
        if (!b || egress_host_canon(host, &h) < 0)
                return false;
        for (size_t i = 0; i < b->n; i++) {
                const struct cred_binding *bd = b->cred[i].bind;
                if (!bhttp_bound(bd, &h, port))
                        continue;
                for (size_t k = 0; k < bd->n_pins; k++)
                        if (strcmp(bd->pins[k].host, h.name) == 0) {
                                *ret_pins = bd->pins[k].addrs;
                                *ret_n_pins = bd->pins[k].n_addrs;
                        }
                return true;
        }
        return false;
}

/* The leaf for a host, made once per task and kept. */
static X509 *leaf_for(struct broker *b, const struct egress_host *h) {
        struct leaf *l;
        X509 *x = NULL;
        X509_NAME *name;
        X509V3_CTX ctx;
        X509_EXTENSION *ex;
        ASN1_INTEGER *serial = NULL;
        unsigned char rnd[16];
        BIGNUM *bn;
        char san[EGRESS_HOST_MAX + 8];
        time_t now = time(NULL);
        pthread_mutex_lock(&b->lock);
        for (l = b->leaves; l; l = l->next)
                if (strcmp(l->host, h->name) == 0) {
                        pthread_mutex_unlock(&b->lock);
                        return l->cert;
                }
        l = calloc(1, sizeof *l);
        x = X509_new();
        if (!l || !x || RAND_bytes(rnd, sizeof rnd) != 1 || !(bn = BN_bin2bn(rnd, sizeof rnd, NULL)))
                goto fail;
        BN_clear_bit(bn, 127);
        serial = BN_to_ASN1_INTEGER(bn, NULL);
        BN_free(bn);
        X509_set_version(x, 2);
        X509_set_serialNumber(x, serial);
        X509_time_adj_ex(X509_getm_notBefore(x), 0, -300, &now);
        X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)(b->not_after - now), &now);
        X509_set_pubkey(x, b->leaf_key);
        name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)h->name, -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(b->ca));
        X509V3_set_ctx(&ctx, b->ca, x, NULL, NULL, 0);
        snprintf(san, sizeof san, "%s:%s", h->kind == EH_NAME ? "DNS" : "IP", h->name);
        ex = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        if (!ex)
                goto fail;
        X509_add_ext(x, ex, -1);
        X509_EXTENSION_free(ex);
        ex = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "serverAuth");
        if (ex) {
                X509_add_ext(x, ex, -1);
                X509_EXTENSION_free(ex);
        }
        ex = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        if (ex) {
                X509_add_ext(x, ex, -1);
                X509_EXTENSION_free(ex);
        }
        if (!X509_sign(x, b->ca_key, EVP_sha256()))
                goto fail;
        ASN1_INTEGER_free(serial);
        snprintf(l->host, sizeof l->host, "%s", h->name);
        l->cert = x;
        l->next = b->leaves;
        b->leaves = l;
        pthread_mutex_unlock(&b->lock);
        return x;
fail:
        ASN1_INTEGER_free(serial);
        X509_free(x);
        free(l);
        pthread_mutex_unlock(&b->lock);
        return NULL;
}

/* One side of a connection: TLS or plain. */
struct side {
        int fd;
        SSL *ssl;
};

static ssize_t side_read(struct side *s, void *buf, size_t n) {
        if (s->ssl) {
                size_t got = 0;
                int r = SSL_read_ex(s->ssl, buf, n, &got);
                if (r == 1)
                        return (ssize_t)got;
                return SSL_get_error(s->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -EIO;
        }
        for (;;) {
                ssize_t r = recv(s->fd, buf, n, 0);
                if (r < 0 && errno == EINTR)
                        continue;
                return r < 0 ? -errno : r;
        }
}

static int side_write(struct side *s, const void *buf, size_t n) {
        const char *p = buf;
        while (n) {
                if (s->ssl) {
                        size_t w = 0;
                        if (SSL_write_ex(s->ssl, p, n, &w) != 1)
                                return -EIO;
                        p += w;
                        n -= w;
                } else {
                        ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                return -EIO;
                        p += w;
                        n -= (size_t)w;
                }
        }
        return 0;
}

/* Per-connection state; the struct lives in sodium_malloc'ed memory. */
struct bconn {
        struct bconn *next; /* b->live */
        struct broker *b;
        struct bhttp_conn hc;
        struct side cli, up;
        int cfd, ufd;
        bool forward;
        uint64_t bytes;
        char host[EGRESS_HOST_MAX + 3];
        uint16_t port;
        char rbuf[RBUF]; /* from the client */
        size_t rlen;
        char pre[RBUF]; /* TLS bytes read before the handoff, replayed to the handshake */
        size_t pre_off, pre_len;
        char ubuf[RBUF]; /* from the server: may quote the secret */
        size_t ulen;
        char out[BHTTP_OUT_MAX]; /* a re-framed head: may hold the secret */
        char body[BHTTP_SCAN_BODY + 64];
        char hold[BHTTP_SCRUB_HOLD];
        char sout[(BHTTP_SCRUB_IN + BHTTP_SCRUB_PAT) * BHTTP_SCRUB_GROW + 32];
};

/* A short answer to the client (over its TLS when terminated). */
static void answer(struct bconn *c, int code, const char *status, const char *body) {
        char msg[1024];
        int n = snprintf(
                msg, sizeof msg,
                "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                code, status, strlen(body), body);
        if (n > 0)
                (void)side_write(&c->cli, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

static int fill(struct side *s, char *buf, size_t *len, size_t cap) {
        ssize_t n;
        if (*len >= cap)
                return -E2BIG;
        n = side_read(s, buf + *len, cap - *len);
        if (n <= 0)
                return n == 0 ? -EPIPE : (int)n;
        *len += (size_t)n;
        return 0;
}

static void consume(char *buf, size_t *len, size_t n) {
        memmove(buf, buf + n, *len - n);
        *len -= n;
}

/* The server side, opened on the first request: TLS for the dialed name,
 * verified against the binding's anchors, else the policy's or the host's store. */
static int upstream_open(struct bconn *c, int injected_any) {
        struct broker *b = c->b;
        SSL_CTX *ctx = b->cli_default;
        if (c->up.ssl || !c->hc.tls)
                return 0;
        for (size_t i = 0; i < b->n; i++)
                if (c->hc.bound[i]) {
                        ctx = b->cli_bound[i] ? b->cli_bound[i] : b->cli_host;
                        break;
                }
        (void)injected_any;
        c->up.ssl = SSL_new(ctx);
        if (!c->up.ssl)
                return -ENOMEM;
        SSL_set_fd(c->up.ssl, c->ufd);
        if (c->hc.host.kind == EH_NAME) {
                SSL_set_tlsext_host_name(c->up.ssl, c->hc.host.name);
                SSL_set1_host(c->up.ssl, c->hc.host.name);
        } else
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->up.ssl), c->hc.host.name);
        if (SSL_connect(c->up.ssl) != 1 || SSL_get_verify_result(c->up.ssl) != X509_V_OK)
                return -EPROTO;
        return 0;
}

/* Request body: buffer up to 64 KiB (the tripwire reads it before anything
 * leaves), then stream the rest, re-framed. */
static int send_chunk(struct side *s, const char *d, size_t n) {
        char h[24];
        int r, hl = snprintf(h, sizeof h, "%zx\r\n", n);
        /* one record for a small chunk, not three */
        if (n <= 16384) {
                char buf[16384 + 32];
                memcpy(buf, h, (size_t)hl);
                memcpy(buf + hl, d, n);
                memcpy(buf + hl + n, "\r\n", 2);
                r = side_write(s, buf, (size_t)hl + n + 2);
                sodium_memzero(buf, (size_t)hl + n + 2);
                return r;
        }
        if ((r = side_write(s, h, (size_t)hl)) < 0 || (r = side_write(s, d, n)) < 0)
                return r;
        return side_write(s, "\r\n", 2);
}

/* Read body bytes (raw framing in rbuf) into data: returns data bytes, 0 at
 * the end of the body, <0 on error. */
static ssize_t body_next(struct bconn *c, enum bhttp_body kind, uint64_t *left, struct bhttp_chunked *k, char *dst,
                         size_t cap) {
        for (;;) {
                if (kind == BODY_LENGTH) {
                        size_t take;
                        if (*left == 0)
                                return 0;
                        if (c->rlen == 0) {
                                int r = fill(&c->cli, c->rbuf, &c->rlen, sizeof c->rbuf);
                                if (r < 0)
                                        return r;
                        }
                        take = c->rlen < *left ? c->rlen : (size_t)*left;
                        take = take < cap ? take : cap;
                        memcpy(dst, c->rbuf, take);
                        consume(c->rbuf, &c->rlen, take);
                        *left -= take;
                        return (ssize_t)take;
                } else {
                        size_t used, d0, dn;
                        if (k->done)
                                return 0;
                        if (c->rlen == 0) {
                                int r = fill(&c->cli, c->rbuf, &c->rlen, sizeof c->rbuf);
                                if (r < 0)
                                        return r;
                        }
                        if (bhttp_chunked_feed(k, c->rbuf, c->rlen < cap ? c->rlen : cap, &used, &d0, &dn) < 0)
                                return -EBADMSG;
                        memcpy(dst, c->rbuf + d0, dn);
                        consume(c->rbuf, &c->rlen, used);
                        if (dn)
                                return (ssize_t)dn;
                        if (!k->done && used == 0)
                                return -EBADMSG;
                }
        }
}

static void count_injection(struct bconn *c, int k) {
        struct broker_cred *bc = &c->b->creds->v[k];
        pthread_mutex_lock(&c->b->lock);
        for (size_t i = 0; i < bc->bind.n_hosts; i++) {
                struct egress_host h;
                struct cred_binding one = bc->bind;
                one.hosts[0] = bc->bind.hosts[i];
                one.n_hosts = 1;
                (void)h;
                if (bhttp_bound(&one, &c->hc.host, c->port)) {
                        bc->requests[i]++;
                        break;
                }
        }
        pthread_mutex_unlock(&c->b->lock);
}

static void tripped(struct bconn *c, int k) {
        char body[512];
        const char *name = k >= 0 && (size_t)k < c->b->n ? c->b->cred[k].name : "?";
        snprintf(body, sizeof body,
                 "sealrun egress: %s:%u placeholder-misdirected (the placeholder of credential %s is not bound to "
                 "this host%s)\n",
                 c->hc.host.name, (unsigned)c->port, name, c->hc.tls ? "" : ", or the request is plain HTTP");
        answer(c, 403, "Forbidden", body);
        report(c->b, EGR_PLACEHOLDER, c->hc.host.name, c->port, 0, name);
}

/* RLIMIT_MEMLOCK left no room for this connection's TLS buffers: refused. */
static void memlock_refused(struct bconn *c) {
        char body[300];
        snprintf(body, sizeof body,
                 "sealrun egress: %s:%u broker-memlock (the broker cannot lock memory for this connection: "
                 "RLIMIT_MEMLOCK)\n",
                 c->hc.host.name, (unsigned)c->port);
        answer(c, 503, "Service Unavailable", body);
        report(c->b, EGR_MEMLOCK, c->hc.host.name, c->port, 0, NULL);
}

/* One request and its response: 1 to go on (kept alive), 0 to close, <0 on error. */
static int exchange(struct bconn *c) {
        struct bhttp_req q;
        struct bhttp_resp rs;
        struct bhttp_scan scan = { 0 };
        struct bhttp_chunked kin = { 0 }, kout = { 0 };
        uint64_t left;
        size_t blen = 0;
        bool body_done;
        int r;

        for (;;) {
                /* test hook: a whole head, the credential read next, held until the stop */
                if (c->b->hold_inject && memmem(c->rbuf, c->rlen, "\r\n\r\n", 4))
                        testhook_hold(&c->b->stopping, "sealrun-proxy");
                if (c->b->hold_stuck && memmem(c->rbuf, c->rlen, "\r\n\r\n", 4)) {
                        static const atomic_bool never = false;
                        testhook_hold(&never, "sealrun-proxy");
                }
                r = bhttp_request(&c->hc, c->rbuf, c->rlen, c->out, sizeof c->out, &q);
                if (r != -EAGAIN)
                        break;
                if ((r = fill(&c->cli, c->rbuf, &c->rlen, sizeof c->rbuf)) < 0)
                        return r == -EPIPE && c->rlen == 0 ? 0 : r;
        }
        if (r == -EACCES) {
                tripped(c, q.tripped);
                return 0;
        }
        if (r == -EINVAL || r == -E2BIG || r == -ENOTSUP) {
                char body[300];
                snprintf(body, sizeof body, "sealrun egress: %s:%u bad-request (%s)\n", c->hc.host.name,
                         (unsigned)c->port,
                         r == -EINVAL  ? q.why
                         : r == -E2BIG ? "head too large"
                                       : "credential value");
                answer(c, r == -E2BIG ? 431 : 400, r == -E2BIG ? "Request Header Fields Too Large" : "Bad Request",
                       body);
                report(c->b, EGR_BAD_REQUEST, c->hc.host.name, c->port, 0, NULL);
                return 0;
        }
        if (r < 0)
                return r;
        consume(c->rbuf, &c->rlen, q.head_len);
        if (q.expect_continue && q.body != BODY_NONE &&
            (r = side_write(&c->cli, "HTTP/1.1 100 Continue\r\n\r\n", 25)) < 0)
                goto wipe;
        /* the body's first 64 KiB, through the tripwire before anything is sent */
        left = q.length;
        body_done = q.body == BODY_NONE;
        while (!body_done && blen < BHTTP_SCAN_BODY) {
                ssize_t n = body_next(c, q.body, &left, &kin, c->body + blen, BHTTP_SCAN_BODY - blen);
                if (n < 0) {
                        r = (int)n;
                        goto wipe;
                }
                if (n == 0)
                        body_done = true;
                blen += (size_t)n;
        }
        if ((r = bhttp_scan(&c->hc, &scan, c->body, blen)) >= 0) {
                sodium_memzero(c->out, sizeof c->out);
                tripped(c, r);
                return 0;
        }
        if (upstream_open(c, q.injected) < 0) {
                char body[300];
                sodium_memzero(c->out, sizeof c->out);
                if (broker_mem_lock_failed()) {
                        memlock_refused(c);
                        return 0;
                }
                snprintf(
                        body, sizeof body,
                        "sealrun egress: %s:%u upstream-tls (the server's certificate does not verify for this name)\n",
                        c->hc.host.name, (unsigned)c->port);
                answer(c, 502, "Bad Gateway", body);
                report(c->b, EGR_UPSTREAM_TLS, c->hc.host.name, c->port, 0, NULL);
                return 0;
        }
        r = side_write(&c->up, c->out, q.out_len);
        sodium_memzero(c->out, q.out_len);
        if (r < 0)
                return r;
        if (q.injected >= 0)
                count_injection(c, q.injected);
        c->bytes += q.out_len + blen;
        if (q.body == BODY_LENGTH && blen && (r = side_write(&c->up, c->body, blen)) < 0)
                return r;
        if (q.body == BODY_CHUNKED && blen && (r = send_chunk(&c->up, c->body, blen)) < 0)
                return r;
        while (!body_done) {
                ssize_t n = body_next(c, q.body, &left, &kin, c->body, sizeof c->body);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        break;
                c->bytes += (size_t)n;
                r = q.body == BODY_CHUNKED ? send_chunk(&c->up, c->body, (size_t)n)
                                           : side_write(&c->up, c->body, (size_t)n);
                if (r < 0)
                        return r;
        }
        if (q.body == BODY_CHUNKED && (r = side_write(&c->up, "0\r\n\r\n", 5)) < 0)
                return r;

        /* the response: heads (1xx first), then the body scrubbed and re-framed */
        for (;;) {
                for (;;) {
                        r = bhttp_response(&c->hc, c->ubuf, c->ulen, q.head_method, false, c->out, sizeof c->out, &rs);
                        if (r != -EAGAIN)
                                break;
                        if ((r = fill(&c->up, c->ubuf, &c->ulen, sizeof c->ubuf)) < 0)
                                goto wipe_resp;
                }
                if (r == 0 && rs.encoded && c->hc.any_bound) {
                        /* asked for identity: a compressed body from a bound host is refused, not decoded */
                        answer(c, 502, "Bad Gateway",
                               "sealrun egress: a bound host answered with a compressed body (refused: the secret "
                               "scrub reads plain bodies only)\n");
                        report(c->b, EGR_BAD_REQUEST, c->hc.host.name, c->port, 0, NULL);
                        r = 0;
                        goto wipe_resp;
                }
                if (r < 0) {
                        answer(c, 502, "Bad Gateway", "sealrun egress: the server's response is malformed\n");
                        r = 0;
                        goto wipe_resp;
                }
                consume(c->ubuf, &c->ulen, rs.head_len);
                r = side_write(&c->cli, c->out, rs.out_len);
                c->bytes += rs.out_len;
                if (r < 0)
                        goto wipe_resp;
                if (!rs.interim)
                        break;
        }
        {
                struct bhttp_scrub s;
                uint64_t rleft = rs.length;
                bool done = rs.body == BODY_NONE;
                bhttp_scrub_init(&s, &c->hc, c->hold);
                while (!done) {
                        char *d;
                        size_t dn = 0, used;
                        if (c->ulen == 0) {
                                r = fill(&c->up, c->ubuf, &c->ulen, sizeof c->ubuf);
                                if (r == -EPIPE && rs.body == BODY_CLOSE) {
                                        done = true;
                                        goto flush;
                                }
                                if (r < 0)
                                        goto wipe_resp;
                        }
                        d = c->ubuf;
                        if (rs.body == BODY_LENGTH) {
                                dn = c->ulen < rleft ? c->ulen : (size_t)rleft;
                                used = dn;
                                rleft -= dn;
                                done = rleft == 0;
                        } else if (rs.body == BODY_CHUNKED) {
                                size_t d0;
                                if (bhttp_chunked_feed(&kout, c->ubuf, c->ulen, &used, &d0, &dn) < 0) {
                                        r = -EBADMSG;
                                        goto wipe_resp;
                                }
                                d = c->ubuf + d0;
                                done = kout.done;
                        } else
                                used = dn = c->ulen;
                        for (size_t off = 0; off < dn;) {
                                size_t step = dn - off < BHTTP_SCRUB_IN ? dn - off : BHTTP_SCRUB_IN;
                                size_t on = bhttp_scrub(&s, d + off, step, false, c->sout);
                                off += step;
                                c->bytes += step;
                                if (on && (r = send_chunk(&c->cli, c->sout, on)) < 0)
                                        goto wipe_resp;
                        }
                        sodium_memzero(c->ubuf, used);
                        consume(c->ubuf, &c->ulen, used);
flush:
                        if (done) {
                                size_t on = bhttp_scrub(&s, "", 0, true, c->sout);
                                if (on && (r = send_chunk(&c->cli, c->sout, on)) < 0)
                                        goto wipe_resp;
                                if ((r = side_write(&c->cli, "0\r\n\r\n", 5)) < 0)
                                        goto wipe_resp;
                        }
                }
                sodium_memzero(c->sout, sizeof c->sout);
        }
        return q.keep_alive && !rs.close ? 1 : 0;
wipe:
        sodium_memzero(c->out, sizeof c->out);
        return r;
wipe_resp:
        sodium_memzero(c->ubuf, sizeof c->ubuf);
        sodium_memzero(c->sout, sizeof c->sout);
        return r;
}

/* A BIO over the client's socket that first replays the TLS bytes the proxy
 * read before the handoff (the transparent path reads the ClientHello for its
 * SNI check; a client may send its hello with the CONNECT). */
static int pre_read(BIO *bio, char *out, size_t len, size_t *got) {
        struct bconn *c = BIO_get_data(bio);
        ssize_t n;
        if (c->pre_off < c->pre_len) {
                size_t k = c->pre_len - c->pre_off < len ? c->pre_len - c->pre_off : len;
                memcpy(out, c->pre + c->pre_off, k);
                c->pre_off += k;
                *got = k;
                return 1;
        }
        do
                n = recv(c->cfd, out, len, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return 0;
        *got = (size_t)n;
        return 1;
}

static int pre_write(BIO *bio, const char *in, size_t len, size_t *put) {
        struct bconn *c = BIO_get_data(bio);
        size_t off = 0;
        while (off < len) {
                ssize_t n = send(c->cfd, in + off, len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0;
                off += (size_t)n;
        }
        *put = len;
        return 1;
}

static long pre_ctrl(BIO *bio, int cmd, long num, void *ptr) {
        (void)bio, (void)num, (void)ptr;
        return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int pre_create(BIO *bio) {
        BIO_set_init(bio, 1);
        return 1;
}

static BIO_METHOD *pre_method;
static void pre_method_init(void) {
        BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sealrun-prefix");
        if (m && BIO_meth_set_read_ex(m, pre_read) == 1 && BIO_meth_set_write_ex(m, pre_write) == 1 &&
            BIO_meth_set_ctrl(m, pre_ctrl) == 1 && BIO_meth_set_create(m, pre_create) == 1)
                pre_method = m;
        else
                BIO_meth_free(m);
}

static int client_set_io(struct bconn *c) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        BIO *bio;
        if (c->pre_len == 0)
                return SSL_set_fd(c->cli.ssl, c->cfd) == 1 ? 0 : -1;
        pthread_once(&once, pre_method_init);
        if (!pre_method || !(bio = BIO_new(pre_method)))
                return -1;
        BIO_set_data(bio, c);
        SSL_set_bio(c->cli.ssl, bio, bio);
        return 0;
}

static void *conn_thread(void *arg) {
        struct bconn *c = arg;
        struct broker *b = c->b;
        unsigned char first = 0;
        bool tls = false;

        if (c->rlen == 0 && !c->forward) {
                /* TLS or plain HTTP? the first byte of a TLS record is 0x16 */
                ssize_t n = recv(c->cfd, &first, 1, MSG_PEEK);
                tls = n == 1 && first == 0x16;
        } else if (!c->forward && (unsigned char)c->rbuf[0] == 0x16) {
                /* TLS bytes already read: the handshake gets them first */
                memcpy(c->pre, c->rbuf, c->rlen);
                c->pre_len = c->rlen;
                c->rlen = 0;
                tls = true;
        }
        if (bhttp_conn_init(&c->hc, b->cred, b->n, c->host, c->port, tls, c->forward) < 0)
                goto out;
        if (tls) {
                X509 *leaf = leaf_for(b, &c->hc.host);
                c->cli.ssl = leaf ? SSL_new(b->srv) : NULL;
                if (!c->cli.ssl || SSL_use_certificate(c->cli.ssl, leaf) != 1 ||
                    SSL_use_PrivateKey(c->cli.ssl, b->leaf_key) != 1 || client_set_io(c) < 0 ||
                    SSL_accept(c->cli.ssl) != 1)
                        goto out;
        }
        while (exchange(c) > 0)
                ;
out:
        if (c->cli.ssl) {
                SSL_shutdown(c->cli.ssl);
                SSL_free(c->cli.ssl);
        }
        if (c->up.ssl) {
                SSL_shutdown(c->up.ssl);
                SSL_free(c->up.ssl);
        }
        ERR_clear_error();
        /* a handshake that failed for want of locked memory (the upstream
         * side reported its own above) */
        if (broker_mem_lock_failed())
                report(b, EGR_MEMLOCK, c->host, c->port, 0, NULL);
        report(b, EGR_OK, c->host, c->port, c->bytes, NULL);
        pthread_mutex_lock(&b->lock);
        for (struct bconn **pp = &b->live; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        close(c->cfd);
        close(c->ufd);
        pthread_mutex_unlock(&b->lock);
        sodium_free(c); /* wiped */
        atomic_fetch_sub(&b->threads, 1);
        return NULL;
}

static void set_blocking(int fd) {
        struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
        int one = 1;
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        /* heads and chunks are written as they are ready: no Nagle wait on
         * the peer's delayed ACK (40 ms per request otherwise) */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int broker_take(struct broker *b, int cfd, int ufd, const char *host, uint16_t port, const char *pre, size_t pre_len,
                bool forward) {
        struct bconn *c;
        pthread_attr_t at;
        pthread_t th;
        int r;
        if (pre_len > RBUF)
                return -E2BIG;
        if (atomic_load(&b->stopping))
                return -ESHUTDOWN;
        c = sodium_malloc(sizeof *c);
        if (!c)
                return -EAGAIN;
        /* sodium_malloc ignores a failed mlock: the head holding the secret
         * must not be swappable, so check it (-ENOMEM: broker-memlock), after
         * giving back OpenSSL's cached locked pages if need be */
        if (secmem_mlock(c, sizeof *c) < 0 && (broker_mem_trim(), secmem_mlock(c, sizeof *c) < 0)) {
                sodium_free(c);
                return -ENOMEM;
        }
        memset(c, 0, sizeof *c);
        c->b = b;
        c->cfd = cfd;
        c->ufd = ufd;
        c->cli.fd = cfd;
        c->up.fd = ufd;
        c->forward = forward;
        c->port = port;
        snprintf(c->host, sizeof c->host, "%s", host);
        memcpy(c->rbuf, pre, pre_len);
        c->rlen = pre_len;
        set_blocking(cfd);
        set_blocking(ufd);
        atomic_fetch_add(&b->threads, 1);
        pthread_mutex_lock(&b->lock);
        c->next = b->live;
        b->live = c;
        pthread_mutex_unlock(&b->lock);
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        r = pthread_create(&th, &at, conn_thread, c);
        pthread_attr_destroy(&at);
        if (r != 0) {
                pthread_mutex_lock(&b->lock);
                b->live = c->next;
                pthread_mutex_unlock(&b->lock);
                atomic_fetch_sub(&b->threads, 1);
                sodium_free(c);
                return -r;
        }
        return 0;
}

bool broker_holds(const struct broker *b) {
        return b && b->hold_inject;
}

bool broker_stop(struct broker *b) {
        if (!b)
                return true;
        atomic_store(&b->stopping, true);
        pthread_mutex_lock(&b->lock);
        for (struct bconn *c = b->live; c; c = c->next) {
                shutdown(c->cfd, SHUT_RDWR); /* every blocked read or write returns */
                shutdown(c->ufd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&b->lock);
        for (int i = 0; i < 400 && atomic_load(&b->threads) > 0; i++)
                nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
        return atomic_load(&b->threads) == 0;
}
