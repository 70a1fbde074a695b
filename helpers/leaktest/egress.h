/* The brokered task's network exchange: a test CA and a local TLS server bound in the sealed profile (tlsserver.c), the
 * payload's requests through the broker (egress_probe.c), and what the host concludes (verdict_egress.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EG_BOUND_HOST "api.lt.test"   /* bound in the sealed profile, pinned there to 127.0.0.1 */
#define EG_OTHER_HOST "other.lt.test" /* allowed by the policy, not bound */
#define EG_CRED "GH_BROKERED"         /* the bound credential (its env variable holds the placeholder) */
#define EG_TRIES 3                    /* each misdirection is attempted this many times, in different forms */

/* The test CA and the server's certificate (SAN: both host names), made in
 * memory; the PEM texts go into the sealed binding (ca_pem) and the policy's
 * trust_store. */
struct tls_pki {
        void *ca_key, *ca_cert, *srv_key, *srv_cert; /* EVP_PKEY, X509 */
        char *ca_pem;                                /* malloc'd, NUL-terminated */
};
int tls_pki_make(struct tls_pki *k);
void tls_pki_free(struct tls_pki *k);

/* The server: one process (forked from the leak test, so it holds the
 * canary to compare with) on 127.0.0.1:port that takes TLS and plain HTTP
 * on the same port, one request per connection. For each request it writes
 * one record line: "req TLS HOST PATH AUTH PH", AUTH none|match|mismatch|several
 * (the Authorization header against "Bearer " + the secret, compared in the
 * server), PH 1 when a placeholder ("sealrun-ph-") is anywhere in the request.
 * It never writes or prints the value; it quotes the Authorization header it
 * received back in the body of /lt/bound-* (the broker must scrub it). */
struct tls_srv {
        int listen_fd, rec_fd, stop_fd;
        uint16_t port;
        pid_t pid;
        char *recs; /* every record, after tls_srv_stop */
        size_t recs_len;
};
/* Bind 127.0.0.1:0 (the port goes into the binding before sealing). */
int tls_srv_listen(struct tls_srv *s);
int tls_srv_start(struct tls_srv *s, const struct tls_pki *k, const uint8_t *secret, size_t secret_len);
/* Stop the server and collect its records. */
void tls_srv_stop(struct tls_srv *s);

/* The payload's side. Through the proxy (HTTPS_PROXY) with the task CA
 * (SSL_CERT_FILE), or direct to the server with ca_file (the self-test's
 * stand-in for a broker that forwards everything as it is). Each request
 * is one line to `line`: "egress NAME STATUS ECHO" (ECHO for bound-*:
 * placeholder|other|none); the bound answers go to echo_fd and echo_fd2 as well. */
struct eg_cfg {
        const char *placeholder;
        uint16_t port;
        bool direct;
        const char *proxy; /* "http://127.0.0.1:3128", unless direct */
        const char *ca_file;
        int echo_fd;  /* -1: none */
        int echo_fd2; /* a second copy (a file inside the sandbox), -1: none */
};
typedef void (*eg_line_fn)(void *ud, const char *line);
void eg_probe_run(const struct eg_cfg *c, eg_line_fn line, void *ud);
