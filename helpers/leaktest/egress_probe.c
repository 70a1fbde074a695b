/* The brokered payload's requests: its placeholder to the bound host over HTTPS (the broker injects), and the same
 * placeholder misdirected (an unbound host, plain HTTP, a body), each after a control that shows the way is open. */
#include "helpers/leaktest/egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy/util.h"

#define RESP_MAX (64 * 1024)
#define DEEP_PAD (40 * 1024) /* a placeholder deep in a body, inside the 64 KiB the broker reads */

enum form { F_BEARER, F_APIKEY, F_BASIC, F_CONTROL, F_BODY_FORM, F_BODY_JSON, F_BODY_DEEP, F_BODY_CONTROL };

struct probe {
        const char *name; /* the path is /lt/NAME: the server's record names it */
        bool tls;
        const char *host;
        enum form form;
};

/* Order matters only for reading: bound first (the injection), then each
 * control before its misdirections. */
static const struct probe PROBES[] = {
        { "bound-1", true, EG_BOUND_HOST, F_BEARER },
        { "bound-2", true, EG_BOUND_HOST, F_BEARER },
        { "control-unbound", true, EG_OTHER_HOST, F_CONTROL },
        { "trip-unbound-1", true, EG_OTHER_HOST, F_BEARER },
        { "trip-unbound-2", true, EG_OTHER_HOST, F_APIKEY },
        { "trip-unbound-3", true, EG_OTHER_HOST, F_BASIC },
        { "control-plain", false, EG_BOUND_HOST, F_CONTROL },
        { "trip-plain-1", false, EG_BOUND_HOST, F_BEARER },
        { "trip-plain-2", false, EG_BOUND_HOST, F_APIKEY },
        { "trip-plain-3", false, EG_BOUND_HOST, F_BASIC },
        { "control-body", true, EG_OTHER_HOST, F_BODY_CONTROL },
        { "trip-body-1", true, EG_OTHER_HOST, F_BODY_FORM },
        { "trip-body-2", true, EG_OTHER_HOST, F_BODY_JSON },
        { "trip-body-3", true, EG_OTHER_HOST, F_BODY_DEEP },
};

struct io {
        int fd;
        SSL *ssl;
};

static int io_write(struct io *c, const void *d, size_t n) {
        if (!c->ssl)
                return write_all(c->fd, d, n);
        for (size_t o = 0; o < n;) {
                int r = SSL_write(c->ssl, (const char *)d + o, (int)(n - o));
                if (r <= 0)
                        return -EIO;
                o += (size_t)r;
        }
        return 0;
}

/* Everything until the peer closes (every request says Connection: close). */
static size_t io_read_all(struct io *c, char *buf, size_t size) {
        size_t len = 0;
        while (len < size - 1) {
                ssize_t r = c->ssl ? SSL_read(c->ssl, buf + len, (int)(size - 1 - len))
                                   : read(c->fd, buf + len, size - 1 - len);
                if (r <= 0) {
                        if (r < 0 && !c->ssl && errno == EINTR)
                                continue;
                        break;
                }
                len += (size_t)r;
        }
        buf[len] = '\0';
        return len;
}

static int tcp_connect(uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct timeval tv = { .tv_sec = 15 };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* The proxy's port from "http://127.0.0.1:PORT" (sealrun sets it; the proxy is always on loopback). */
static uint16_t proxy_port(const char *url) {
        const char *colon = url ? strrchr(url, ':') : NULL;
        long p = colon ? strtol(colon + 1, NULL, 10) : 0;
        return p > 0 && p < 65536 ? (uint16_t)p : 0;
}

/* Status code of a response head, 0 when there is none. */
static int status_of(const char *resp) {
        int code = 0;
        return sscanf(resp, "HTTP/1.%*1d %d", &code) == 1 ? code : 0;
}

/* The body of a complete response (chunked or not) into out. */
static void body_of(const char *resp, size_t len, char *out, size_t size) {
        const char *b = strstr(resp, "\r\n\r\n"), *end = resp + len;
        size_t o = 0;
        out[0] = '\0';
        if (!b)
                return;
        bool chunked = memmem(resp, (size_t)(b - resp), "chunked", 7) != NULL;
        b += 4;
        if (!chunked) {
                snprintf(out, size, "%.*s", (int)(end - b), b);
                return;
        }
        while (b < end) {
                char *next;
                unsigned long n = strtoul(b, &next, 16);
                const char *data = strstr(next, "\r\n");
                if (!data || n == 0)
                        break;
                data += 2;
                if ((size_t)(end - data) < n)
                        n = (unsigned long)(end - data);
                if (o + n < size) {
                        memcpy(out + o, data, n);
                        o += n;
                }
                b = data + n + 2;
        }
        out[o < size ? o : size - 1] = '\0';
}

/* The request head (and body) for one probe. */
static size_t request(const struct probe *p, const struct eg_cfg *c, char *head, size_t hsize, char *body, size_t bsize,
                      size_t *ret_blen) {
        char auth[256] = "", target[160];
        size_t blen = 0;
        switch (p->form) {
        case F_BEARER: snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", c->placeholder); break;
        case F_APIKEY: snprintf(auth, sizeof auth, "X-Api-Key: %s\r\n", c->placeholder); break;
        case F_BASIC: {
                char up[128], b64[200];
                int n = snprintf(up, sizeof up, "lt:%s", c->placeholder);
                sodium_bin2base64(b64, sizeof b64, (const unsigned char *)up, (size_t)n,
                                  sodium_base64_VARIANT_ORIGINAL);
                snprintf(auth, sizeof auth, "Authorization: Basic %s\r\n", b64);
                break;
        }
        case F_CONTROL: snprintf(auth, sizeof auth, "Authorization: Bearer control-not-a-placeholder\r\n"); break;
        case F_BODY_FORM: blen = (size_t)snprintf(body, bsize, "token=%s", c->placeholder); break;
        case F_BODY_JSON: blen = (size_t)snprintf(body, bsize, "{\"token\":\"%s\"}", c->placeholder); break;
        case F_BODY_DEEP:
                memset(body, 'a', DEEP_PAD);
                blen = DEEP_PAD + (size_t)snprintf(body + DEEP_PAD, bsize - DEEP_PAD, "&token=%s", c->placeholder);
                break;
        case F_BODY_CONTROL: blen = (size_t)snprintf(body, bsize, "token=control-not-a-placeholder"); break;
        }
        /* plain HTTP through the proxy is absolute-form; direct, and inside TLS, origin-form */
        if (!p->tls && !c->direct)
                snprintf(target, sizeof target, "http://%s:%u/lt/%s", p->host, (unsigned)c->port, p->name);
        else
                snprintf(target, sizeof target, "/lt/%s", p->name);
        char length[128] = "";
        if (blen)
                snprintf(length, sizeof length,
                         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n", blen);
        *ret_blen = blen;
        return (size_t)snprintf(head, hsize,
                                "%s %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: sealrun-leaktest\r\n%s%s"
                                "Connection: close\r\n\r\n",
                                blen ? "POST" : "GET", target, p->host, (unsigned)c->port, auth, length);
}

static void run_one(const struct probe *p, const struct eg_cfg *c, SSL_CTX *ctx, char *resp, char *body,
                    eg_line_fn line, void *ud) {
        struct io io = { .fd = -1 };
        char head[1024], out[512], echo[300] = "", why[64] = "-";
        size_t blen, hlen = request(p, c, head, sizeof head, body, DEEP_PAD + 256, &blen);
        int status = 0;

        io.fd = tcp_connect(c->direct ? c->port : proxy_port(c->proxy));
        if (io.fd < 0) {
                snprintf(why, sizeof why, "connect:%d", -io.fd);
                goto report;
        }
        if (p->tls && !c->direct) {
                char connect[256];
                int n = snprintf(connect, sizeof connect, "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", p->host,
                                 (unsigned)c->port, p->host, (unsigned)c->port);
                char ans[1024];
                size_t al = 0;
                if (write_all(io.fd, connect, (size_t)n) < 0)
                        goto io_error;
                /* the proxy's answer head, byte by byte: nothing of the tunnel may be read here */
                while (al < sizeof ans - 1 && !(al >= 4 && memcmp(ans + al - 4, "\r\n\r\n", 4) == 0)) {
                        if (read(io.fd, ans + al, 1) != 1)
                                break;
                        al++;
                }
                ans[al] = '\0';
                if (status_of(ans) != 200) {
                        status = status_of(ans);
                        snprintf(why, sizeof why, "connect-refused");
                        goto report;
                }
        }
        if (p->tls) {
                io.ssl = SSL_new(ctx);
                if (!io.ssl || SSL_set_fd(io.ssl, io.fd) != 1 || SSL_set_tlsext_host_name(io.ssl, p->host) != 1 ||
                    SSL_set1_host(io.ssl, p->host) != 1 || SSL_connect(io.ssl) != 1) {
                        snprintf(why, sizeof why, "tls:%s",
                                 io.ssl ? X509_verify_cert_error_string(SSL_get_verify_result(io.ssl)) : "?");
                        for (char *w = why; *w; w++)
                                if (*w == ' ')
                                        *w = '_';
                        goto report;
                }
        }
        if (io_write(&io, head, hlen) < 0 || (blen && io_write(&io, body, blen) < 0))
                goto io_error;
        size_t rl = io_read_all(&io, resp, RESP_MAX);
        status = status_of(resp);
        if (strncmp(p->name, "bound-", 6) == 0) {
                char want[200];
                body_of(resp, rl, out, sizeof out);
                snprintf(want, sizeof want, "auth=Bearer %s\n", c->placeholder);
                snprintf(echo, sizeof echo, "%s", strcmp(out, want) == 0 ? "placeholder" : out[0] ? "other" : "none");
                if (c->echo_fd >= 0) {
                        /* the payload's output: what the bound host quoted back */
                        char o[600];
                        int on = snprintf(o, sizeof o, "%s: %s", p->name, out);
                        (void)write_all(c->echo_fd, o, (size_t)on);
                        if (c->echo_fd2 >= 0)
                                (void)write_all(c->echo_fd2, o, (size_t)on);
                }
                sodium_memzero(out, sizeof out);
        }
        goto report;
io_error:
        snprintf(why, sizeof why, "io");
report:;
        char l[256];
        snprintf(l, sizeof l, "egress %s %d %s %s", p->name, status, echo[0] ? echo : "-", why);
        line(ud, l);
        if (io.ssl) {
                SSL_shutdown(io.ssl);
                SSL_free(io.ssl);
        }
        ERR_clear_error();
        if (io.fd >= 0)
                close(io.fd);
}

void eg_probe_run(const struct eg_cfg *c, eg_line_fn line, void *ud) {
        SSL_CTX *ctx;
        char *resp = malloc(RESP_MAX), *body = malloc(DEEP_PAD + 256);
        /* no openssl.cnf: nothing the sandbox holds steers this client */
        OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
        ctx = SSL_CTX_new(TLS_client_method());
        if (!resp || !body || !ctx || !c->placeholder || !c->ca_file ||
            SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL) != 1) {
                char l[160];
                snprintf(l, sizeof l, "egress-error cannot prepare the client (CA file %s)",
                         c->ca_file ? c->ca_file : "unset");
                line(ud, l);
                goto out;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        for (size_t i = 0; i < ELEMENTSOF(PROBES); i++)
                run_one(&PROBES[i], c, ctx, resp, body, line, ud);
out:
        SSL_CTX_free(ctx);
        if (resp)
                sodium_memzero(resp, RESP_MAX); /* the answers quoted the header */
        free(resp);
        free(body);
}
