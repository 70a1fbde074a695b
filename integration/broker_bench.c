/* Brokered-credentials benchmark helper (make bench): a loopback HTTPS server
 * and a client that times one request per new connection through the egress
 * proxy's CONNECT (one TLS handshake on the client's side each).
 *   broker_bench serve PORT CERT KEY COUNT       answer COUNT requests (180 s at most), then exit
 *   broker_bench get HOST PORT N CAFILE [PH]     N requests via 127.0.0.1:3128, "Authorization: Bearer PH"
 *                                                when given; prints "median_us p90_us" (connect to response head) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Read until the end of a head (CRLFCRLF): 0, or -1. */
static int read_head_ssl(SSL *s) {
        char b[4096];
        size_t n = 0;
        while (n < sizeof b - 1) {
                int r = SSL_read(s, b + n, (int)(sizeof b - 1 - n));
                if (r <= 0)
                        return -1;
                n += (size_t)r;
                b[n] = 0;
                if (strstr(b, "\r\n\r\n"))
                        return 0;
        }
        return -1;
}

static int serve(int port, const char *cert, const char *key, int count) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
            bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 128))
                return 1;
        alarm(180);
        for (int i = 0; i < count; i++) {
                int fd = accept(l, NULL, NULL);
                SSL *s;
                if (fd < 0)
                        continue;
                s = SSL_new(ctx);
                SSL_set_fd(s, fd);
                if (SSL_accept(s) == 1 && read_head_ssl(s) == 0)
                        SSL_write(s, ok, sizeof ok - 1);
                SSL_shutdown(s);
                SSL_free(s);
                close(fd);
        }
        return 0;
}

static int get(const char *host, int port, int n, const char *cafile, const char *ph) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        double *t = calloc((size_t)n, sizeof *t);
        int done = 0;
        if (!ctx || !t || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
                return 1;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        for (int i = 0; i < n; i++) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(3128) };
                char req[1024], b[1];
                size_t seen = 0;
                int fd = socket(AF_INET, SOCK_STREAM, 0), len;
                double t0 = now();
                SSL *s;
                int one = 1;
                inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
                /* as curl, git and node do: without it the request waits for
                 * the ACK of the handshake's last flight (Nagle + delayed ACK) */
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                        return 1;
                len = snprintf(req, sizeof req, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n", host, port, host,
                               port);
                if (write(fd, req, (size_t)len) != len)
                        return 1;
                while (seen < 4) {
                        if (read(fd, b, 1) != 1)
                                return 1;
                        seen = (b[0] == (seen % 2 ? '\n' : '\r')) ? seen + 1 : (b[0] == '\r');
                }
                s = SSL_new(ctx);
                SSL_set_fd(s, fd);
                SSL_set_tlsext_host_name(s, host);
                SSL_set1_host(s, host);
                if (SSL_connect(s) != 1) {
                        ERR_print_errors_fp(stderr);
                        return 1;
                }
                len = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s:%d\r\n%s%s%sConnection: close\r\n\r\n",
                               host, port, ph ? "Authorization: Bearer " : "", ph ? ph : "", ph ? "\r\n" : "");
                if (SSL_write(s, req, len) != len || read_head_ssl(s) < 0)
                        return 1;
                t[done++] = (now() - t0) * 1e6;
                SSL_shutdown(s);
                SSL_free(s);
                close(fd);
        }
        qsort(t, (size_t)done, sizeof *t, cmp);
        printf("%.0f %.0f\n", t[done / 2], t[done * 9 / 10]);
        return 0;
}

int main(int argc, char **argv) {
        signal(SIGPIPE, SIG_IGN);
        if (argc == 6 && strcmp(argv[1], "serve") == 0)
                return serve(atoi(argv[2]), argv[3], argv[4], atoi(argv[5]));
        if ((argc == 6 || argc == 7) && strcmp(argv[1], "get") == 0)
                return get(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], argc == 7 ? argv[6] : NULL);
        fprintf(stderr, "usage: broker_bench serve PORT CERT KEY COUNT | get HOST PORT N CAFILE [PLACEHOLDER]\n");
        return 2;
}
