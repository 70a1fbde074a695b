/* HTTP(S) server and client for the VM tier's network mode "proxy" and
 * brokered-credentials tests (the VM has no python3 or curl; this links the
 * libssl sealrun already brings into the initramfs).
 *   vmhttp serve ADDR PORT LOG READY [CERT KEY]
 *        answer every request "200 ok" (TLS with CERT and KEY), one connection
 *        at a time, 300 s at most; append "METHOD TARGET auth=VALUE" (or
 *        "auth=-") per request to LOG; create READY once listening
 *   vmhttp get URL CAFILE [ENVVAR]
 *        one GET through the proxy named by HTTPS_PROXY / HTTP_PROXY
 *        (http://ADDR:PORT): https by CONNECT and TLS verified against CAFILE
 *        ("-": $SSL_CERT_FILE) with the URL's host name, http as an
 *        absolute-URI request; with ENVVAR, "Authorization: Bearer $ENVVAR".
 *        Prints the first status code answered (the CONNECT's when not 200),
 *        or "000 WHY"; exit 0 whenever a status came back. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct conn {
        int fd;
        SSL *ssl;
};

static int cread(struct conn *c, char *b, int n) {
        return c->ssl ? SSL_read(c->ssl, b, n) : (int)read(c->fd, b, (size_t)n);
}

static int cwrite(struct conn *c, const char *b, int n) {
        return c->ssl ? SSL_write(c->ssl, b, n) : (int)write(c->fd, b, (size_t)n);
}

/* Read a head (up to CRLFCRLF) into b: its length, or -1. */
static int read_head(struct conn *c, char *b, int cap) {
        int n = 0;
        while (n < cap - 1) {
                int r = cread(c, b + n, 1); /* byte by byte: nothing past the head is consumed */
                if (r <= 0)
                        return -1;
                n += r;
                b[n] = 0;
                if (n >= 4 && memcmp(b + n - 4, "\r\n\r\n", 4) == 0)
                        return n;
        }
        return -1;
}

static int serve(const char *addr, int port, const char *log, const char *ready, const char *cert, const char *key) {
        SSL_CTX *ctx = NULL;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        struct timeval tv = { .tv_sec = 5 };
        int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), fd;
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
        if (cert) {
                ctx = SSL_CTX_new(TLS_server_method());
                if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
                    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
                        ERR_print_errors_fp(stderr);
                        return 1;
                }
        }
        if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || l < 0 ||
            setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 16) < 0) {
                perror("vmhttp: serve");
                return 1;
        }
        if ((fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0)
                return 1;
        close(fd);
        alarm(300);
        while ((fd = accept(l, NULL, NULL)) >= 0) {
                struct conn c = { .fd = fd };
                char h[8192], line[8400], *auth = NULL, *p;
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                if (ctx) {
                        c.ssl = SSL_new(ctx);
                        SSL_set_fd(c.ssl, fd);
                }
                if ((!c.ssl || SSL_accept(c.ssl) == 1) && read_head(&c, h, sizeof h) > 0) {
                        for (p = strstr(h, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
                                if (strncasecmp(p + 2, "authorization:", 14) == 0)
                                        auth = p + 16;
                        if (auth) {
                                auth += strspn(auth, " \t");
                                auth[strcspn(auth, "\r")] = 0;
                        }
                        h[strcspn(h, "\r")] = 0;
                        /* the request line without " HTTP/1.1" */
                        if ((p = strrchr(h, ' ')))
                                *p = 0;
                        int n = snprintf(line, sizeof line, "%s auth=%s\n", h, auth ? auth : "-");
                        int lf = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                        if (lf >= 0) {
                                (void)!write(lf, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
                                close(lf);
                        }
                        cwrite(&c, ok, sizeof ok - 1);
                }
                if (c.ssl) {
                        SSL_shutdown(c.ssl);
                        SSL_free(c.ssl);
                }
                close(fd);
        }
        return 1;
}

static int fail(const char *why) {
        printf("000 %s\n", why);
        return 1;
}

static int get(const char *url, const char *cafile, const char *envvar) {
        int tls = strncmp(url, "https://", 8) == 0, port, pport, fd, n;
        const char *rest = url + (tls ? 8 : 7), *proxy = getenv(tls ? "HTTPS_PROXY" : "HTTP_PROXY");
        const char *tok = envvar ? getenv(envvar) : NULL;
        char host[256], path[1024], paddr[64], req[4096], h[8192];
        struct sockaddr_in sa = { .sin_family = AF_INET };
        struct timeval tv = { .tv_sec = 10 };
        struct conn c = { 0 };
        if (!tls && strncmp(url, "http://", 7) != 0)
                return fail("not an http(s) URL");
        if (sscanf(rest, "%255[^:/]:%d%1023s", host, &port, path) != 3)
                return fail("URL must be scheme://host:port/path");
        if (!proxy || sscanf(proxy, "http://%63[0-9.]:%d", paddr, &pport) != 2)
                return fail("no HTTP(S)_PROXY=http://ADDR:PORT");
        if (envvar && !tok)
                return fail("the token variable is not set");
        sa.sin_port = htons((uint16_t)pport);
        if (inet_pton(AF_INET, paddr, &sa.sin_addr) != 1 || (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return fail("cannot connect to the proxy");
        c.fd = fd;
        if (tls) {
                SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
                n = snprintf(req, sizeof req, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n", host, port, host, port);
                if (write(fd, req, (size_t)n) != n || read_head(&c, h, sizeof h) < 0)
                        return fail("no answer to CONNECT");
                if (strncmp(h + 8, " 200", 4) != 0) {
                        printf("%.3s\n", h + 9);
                        return 0;
                }
                if (strcmp(cafile, "-") == 0 && !(cafile = getenv("SSL_CERT_FILE")))
                        return fail("no SSL_CERT_FILE");
                if (!ctx || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
                        return fail("cannot load the CA file");
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
                c.ssl = SSL_new(ctx);
                SSL_set_fd(c.ssl, fd);
                SSL_set_tlsext_host_name(c.ssl, host);
                SSL_set1_host(c.ssl, host);
                if (SSL_connect(c.ssl) != 1)
                        return fail("TLS handshake or verification failed");
                n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\n", path);
        } else {
                n = snprintf(req, sizeof req, "GET http://%s:%d%s HTTP/1.1\r\n", host, port, path);
        }
        n += snprintf(req + n, sizeof req - (size_t)n, "Host: %s:%d\r\n%s%s%sConnection: close\r\n\r\n", host, port,
                      tok ? "Authorization: Bearer " : "", tok ? tok : "", tok ? "\r\n" : "");
        if (cwrite(&c, req, n) != n || read_head(&c, h, sizeof h) < 0 || strncmp(h, "HTTP/1.", 7) != 0)
                return fail("no response");
        printf("%.3s\n", h + 9);
        return 0;
}

int main(int argc, char **argv) {
        signal(SIGPIPE, SIG_IGN);
        if ((argc == 6 || argc == 8) && strcmp(argv[1], "serve") == 0)
                return serve(argv[2], atoi(argv[3]), argv[4], argv[5], argc == 8 ? argv[6] : NULL,
                             argc == 8 ? argv[7] : NULL);
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "get") == 0)
                return get(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
        fprintf(stderr, "usage: vmhttp serve ADDR PORT LOG READY [CERT KEY] | get URL CAFILE|- [ENVVAR]\n");
        return 2;
}
