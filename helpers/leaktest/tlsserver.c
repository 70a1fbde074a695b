/* The bound destination of the brokered task: a test CA made in memory and a local server (TLS and plain HTTP on one
 * loopback port) that checks, itself, that it received exactly the sealed header. */
#include "helpers/leaktest/egress.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/util.h"

#define SRV_HEAD_MAX 16384
#define SRV_BODY_MAX (96 * 1024)
#define SRV_IO_MS 5000

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!e)
                return -EINVAL;
        int r = X509_add_ext(x, e, -1) == 1 ? 0 : -EINVAL;
        X509_EXTENSION_free(e);
        return r;
}

/* A certificate for key, signed by issuer (self-signed when issuer is NULL). */
static X509 *cert_make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key) {
        X509 *x = X509_new();
        uint32_t serial = randombytes_random() >> 1;
        bool ca = !issuer;
        if (!x)
                return NULL;
        X509_NAME *n = X509_get_subject_name(x);
        if (X509_set_version(x, 2) != 1 || ASN1_INTEGER_set(X509_get_serialNumber(x), (long)serial + 1) != 1 ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) || !X509_gmtime_adj(X509_getm_notAfter(x), 86400) ||
            X509_set_pubkey(x, key) != 1 ||
            X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1 ||
            X509_set_issuer_name(x, ca ? n : X509_get_subject_name(issuer)) != 1)
                goto fail;
        if (add_ext(x, ca ? x : issuer, NID_subject_key_identifier, "hash") < 0)
                goto fail;
        if (ca ? add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
                            add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0
               : add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") < 0 ||
                            add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
                            add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") < 0 ||
                            add_ext(x, issuer, NID_ext_key_usage, "serverAuth") < 0 ||
                            add_ext(x, issuer, NID_subject_alt_name, "DNS:" EG_BOUND_HOST ",DNS:" EG_OTHER_HOST) < 0)
                goto fail;
        if (X509_sign(x, ca ? key : issuer_key, EVP_sha256()) <= 0)
                goto fail;
        return x;
fail:
        X509_free(x);
        return NULL;
}

int tls_pki_make(struct tls_pki *k) {
        BIO *b = NULL;
        char *data;
        long n;
        memset(k, 0, sizeof *k);
        k->ca_key = EVP_EC_gen("P-256");
        k->srv_key = EVP_EC_gen("P-256");
        if (!k->ca_key || !k->srv_key)
                goto fail;
        k->ca_cert = cert_make(k->ca_key, "sealrun-leaktest CA", NULL, NULL);
        if (!k->ca_cert)
                goto fail;
        k->srv_cert = cert_make(k->srv_key, EG_BOUND_HOST, k->ca_cert, k->ca_key);
        if (!k->srv_cert)
                goto fail;
        b = BIO_new(BIO_s_mem());
        if (!b || PEM_write_bio_X509(b, k->ca_cert) != 1 || (n = BIO_get_mem_data(b, &data)) <= 0)
                goto fail;
        k->ca_pem = strndup(data, (size_t)n);
        BIO_free(b);
        return k->ca_pem ? 0 : -ENOMEM;
fail:
        BIO_free(b);
        tls_pki_free(k);
        return -EIO;
}

void tls_pki_free(struct tls_pki *k) {
        EVP_PKEY_free(k->ca_key);
        EVP_PKEY_free(k->srv_key);
        X509_free(k->ca_cert);
        X509_free(k->srv_cert);
        free(k->ca_pem);
        memset(k, 0, sizeof *k);
}

int tls_srv_listen(struct tls_srv *s) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof sa;
        s->pid = 0;
        s->rec_fd = s->stop_fd = -1;
        s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->listen_fd < 0)
                return -errno;
        if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s->listen_fd, 16) < 0 ||
            getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl) < 0) {
                int r = -errno;
                close(s->listen_fd);
                s->listen_fd = -1;
                return r;
        }
        s->port = ntohs(sa.sin_port);
        return 0;
}

/* ---- the server process ---- */

struct conn {
        int fd;
        SSL *ssl;
};

static ssize_t conn_read(struct conn *c, void *buf, size_t n) {
        if (c->ssl) {
                int r = SSL_read(c->ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
                return r > 0 ? r : SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        }
        ssize_t r;
        while ((r = read(c->fd, buf, n)) < 0 && errno == EINTR)
                ;
        return r;
}

static void conn_write(struct conn *c, const void *buf, size_t n) {
        if (c->ssl)
                (void)SSL_write(c->ssl, buf, (int)n);
        else
                (void)write_all(c->fd, buf, n);
}

/* Only what the leak test's own probe sends is echoed into a record. */
static void safe_token(char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '/' ||
                      *s == ':'))
                        *s = '?';
}

struct head {
        char method[16], path[64], host[80];
        const char *auth; /* into the buffer */
        size_t auth_len;
        int n_auth;
        long long length;
        bool chunked;
};

static void parse_head(char *buf, size_t head_len, struct head *h) {
        char *line = buf, *end = buf + head_len;
        memset(h, 0, sizeof *h);
        h->length = -1;
        for (bool first = true; line < end; first = false) {
                char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
                if (!eol || eol == line)
                        break;
                *eol = '\0';
                if (first) {
                        sscanf(line, "%15s %63s", h->method, h->path);
                } else {
                        char *colon = strchr(line, ':'), *v;
                        if (colon) {
                                *colon = '\0';
                                for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
                                        ;
                                size_t vl = strlen(v);
                                while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                                        vl--;
                                if (strcasecmp(line, "host") == 0)
                                        snprintf(h->host, sizeof h->host, "%.*s", (int)vl, v);
                                else if (strcasecmp(line, "authorization") == 0) {
                                        h->auth = v;
                                        h->auth_len = vl;
                                        h->n_auth++;
                                } else if (strcasecmp(line, "content-length") == 0)
                                        h->length = atoll(v);
                                else if (strcasecmp(line, "transfer-encoding") == 0)
                                        h->chunked = strncasecmp(v, "chunked", 7) == 0;
                                *colon = ':';
                        }
                }
                *eol = '\r';
                line = eol + 2;
        }
        safe_token(h->method);
        safe_token(h->path);
        safe_token(h->host);
}

static void serve(struct conn *c, uint8_t *buf, const uint8_t *want, size_t want_len, int rec_fd, bool tls) {
        size_t len = 0, head_len = 0;
        struct head h;
        char *hend = NULL;
        while (len < SRV_HEAD_MAX && !hend) {
                ssize_t n = conn_read(c, buf + len, SRV_HEAD_MAX - len);
                if (n <= 0)
                        return;
                len += (size_t)n;
                hend = memmem(buf, len, "\r\n\r\n", 4);
        }
        if (!hend)
                return;
        head_len = (size_t)((uint8_t *)hend - buf) + 4;
        parse_head((char *)buf, head_len, &h);
        /* the body: by Content-Length, or chunked until its last chunk */
        for (;;) {
                size_t body = len - head_len;
                if (h.chunked ? (body >= 5 && memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0)
                              : body >= (size_t)(h.length > 0 ? h.length : 0))
                        break;
                if (len >= SRV_HEAD_MAX + SRV_BODY_MAX)
                        break;
                ssize_t n = conn_read(c, buf + len, SRV_HEAD_MAX + SRV_BODY_MAX - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        const char *auth = "none";
        if (h.n_auth > 1)
                auth = "several";
        else if (h.n_auth == 1)
                auth = h.auth_len == want_len && sodium_memcmp(h.auth, want, want_len) == 0 ? "match" : "mismatch";
        bool ph = memmem(buf, len, "sealrun-ph-", 11) != NULL;
        char rec[320];
        int rl = snprintf(rec, sizeof rec, "req %d %s %s %s %d\n", tls, h.host[0] ? h.host : "-",
                          h.path[0] ? h.path : "-", auth, ph);
        if (rl > 0)
                (void)write_all(rec_fd, rec, (size_t)rl);
        /* /lt/bound-*: the header quoted back, as error pages and TRACE do */
        char resp[512];
        bool echo = strncmp(h.path, "/lt/bound-", 10) == 0;
        size_t echo_len = echo ? 5 + (h.n_auth == 1 ? h.auth_len : 0) + 1 : 3;
        int n = snprintf(
                resp, sizeof resp,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                echo_len);
        conn_write(c, resp, (size_t)n);
        if (echo) {
                conn_write(c, "auth=", 5);
                if (h.n_auth == 1)
                        conn_write(c, h.auth, h.auth_len);
                conn_write(c, "\n", 1);
        } else {
                conn_write(c, "ok\n", 3);
        }
        sodium_memzero(buf, len);
}

static int server_main(struct tls_srv *s, const struct tls_pki *k, const uint8_t *secret, size_t secret_len) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        uint8_t *want = sodium_malloc(7 + secret_len), *buf = sodium_malloc(SRV_HEAD_MAX + SRV_BODY_MAX);
        if (!ctx || !want || !buf || SSL_CTX_use_certificate(ctx, k->srv_cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, k->srv_key) != 1 || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
                return 1;
        memcpy(want, "Bearer ", 7);
        memcpy(want + 7, secret, secret_len);
        for (;;) {
                struct pollfd p[2] = { { .fd = s->listen_fd, .events = POLLIN },
                                       { .fd = s->stop_fd, .events = POLLIN } };
                if (poll(p, 2, 1000) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break; /* the leak test closed its end: done */
                if (!(p[0].revents & POLLIN))
                        continue;
                struct conn c = { .fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC), .ssl = NULL };
                if (c.fd < 0)
                        continue;
                struct timeval tv = { .tv_sec = SRV_IO_MS / 1000 };
                setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                uint8_t first = 0;
                bool tls = recv(c.fd, &first, 1, MSG_PEEK) == 1 && first == 0x16;
                if (tls) {
                        c.ssl = SSL_new(ctx);
                        if (!c.ssl || SSL_set_fd(c.ssl, c.fd) != 1 || SSL_accept(c.ssl) != 1) {
                                char rec[64];
                                int rl = snprintf(rec, sizeof rec, "handshake-failed\n");
                                (void)write_all(s->rec_fd, rec, (size_t)rl);
                                goto done;
                        }
                }
                serve(&c, buf, want, 7 + secret_len, s->rec_fd, tls);
                if (c.ssl)
                        SSL_shutdown(c.ssl);
done:
                SSL_free(c.ssl);
                ERR_clear_error();
                close(c.fd);
        }
        sodium_free(want);
        sodium_free(buf);
        SSL_CTX_free(ctx);
        return 0;
}

int tls_srv_start(struct tls_srv *s, const struct tls_pki *k, const uint8_t *secret, size_t secret_len) {
        int rec[2], stop[2];
        if (s->listen_fd < 0)
                return -EBADF;
        if (pipe2(rec, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(stop, O_CLOEXEC) < 0) {
                close(rec[0]);
                close(rec[1]);
                return -errno;
        }
        pid_t c = fork();
        if (c < 0) {
                int r = -errno;
                close(rec[0]);
                close(rec[1]);
                close(stop[0]);
                close(stop[1]);
                return r;
        }
        if (c == 0) {
                /* only its listening socket, its record pipe and the stop pipe */
                if (dup2(s->listen_fd, 3) < 0 || dup2(rec[1], 4) < 0 || dup2(stop[0], 5) < 0)
                        _exit(125);
                close_range(6, ~0u, 0);
                int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (dn >= 0) {
                        dup2(dn, 0);
                        dup2(dn, 1);
                        close(dn);
                }
                signal(SIGPIPE, SIG_IGN);
                s->listen_fd = 3;
                s->rec_fd = 4;
                s->stop_fd = 5;
                _exit(server_main(s, k, secret, secret_len));
        }
        close(rec[1]);
        close(stop[0]);
        s->pid = c;
        s->rec_fd = rec[0];
        s->stop_fd = stop[1];
        return 0;
}

void tls_srv_stop(struct tls_srv *s) {
        if (s->stop_fd >= 0)
                close(s->stop_fd);
        s->stop_fd = -1;
        if (s->pid > 0) {
                bool reaped = false;
                for (int i = 0; i < 300 && !reaped; i++)
                        if (!(reaped = waitpid(s->pid, NULL, WNOHANG) == s->pid))
                                poll(NULL, 0, 10);
                if (!reaped) {
                        kill(s->pid, SIGKILL);
                        waitpid(s->pid, NULL, 0);
                }
                s->pid = 0;
        }
        if (s->rec_fd >= 0) {
                char *data = NULL;
                size_t n = 0;
                if (read_fd_all(s->rec_fd, 1u << 20, &data, &n) == 0) {
                        free(s->recs);
                        s->recs = data;
                        s->recs_len = n;
                }
                close(s->rec_fd);
                s->rec_fd = -1;
        }
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        s->listen_fd = -1;
}
