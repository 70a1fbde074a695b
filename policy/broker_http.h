/* The egress broker's HTTP/1.1 engine for a connection it terminates: request
 * heads re-framed with the secret injected where (and only where) it is bound,
 * the placeholder tripwire, body framing, and the response scrub. Pure: no
 * sockets, no TLS, so it is unit-tested and fuzzed on byte strings. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/binding.h"
#include "policy/egress_rules.h"

#define BHTTP_MAX_HEAD 16384                  /* a request or response head */
#define BHTTP_OUT_MAX (BHTTP_MAX_HEAD + 4096) /* a rewritten head (the secret is longer than its placeholder) */
#define BHTTP_SCAN_BODY (64 * 1024)           /* request body bytes the tripwire reads */
#define BHTTP_MAX_CREDS 64

/* One credential as the engine sees it (the launcher's broker_cred, flattened). */
struct bhttp_cred {
        const char *name;
        const char *placeholder; /* PLACEHOLDER_LEN chars */
        const uint8_t *value;    /* the secret */
        size_t value_len;
        const struct cred_binding *bind; /* where it may go */
};

/* One terminated (or, plaintext, inspected) connection: the dialed host and
 * port, which credentials are bound to it. */
struct bhttp_conn {
        const struct bhttp_cred *creds;
        size_t n_creds;
        struct egress_host host; /* canonical dialed host */
        uint16_t port;
        bool tls;     /* false: plain HTTP (no injection; a placeholder is a tripwire) */
        bool forward; /* plain HTTP through the proxy port: absolute-form targets */
        bool bound[BHTTP_MAX_CREDS];
        bool any_bound;
};

enum bhttp_body { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

struct bhttp_req {
        size_t head_len;      /* bytes of the client's head */
        enum bhttp_body body; /* BODY_NONE, BODY_LENGTH or BODY_CHUNKED */
        uint64_t length;      /* BODY_LENGTH */
        bool keep_alive;      /* the client keeps the connection */
        bool head_method;     /* HEAD: the response has no body */
        bool expect_continue; /* the broker answers 100 itself */
        int injected;         /* index of the credential injected, or -1 */
        int tripped;          /* -EACCES: the credential whose placeholder was misdirected */
        const char *why;      /* -EINVAL: what was wrong (static text) */
        size_t out_len;       /* the re-framed head in the caller's buffer */
};

/* Is host:port one of b's hosts (exact, or "*.suffix" below it) and its port? */
bool bhttp_bound(const struct cred_binding *b, const struct egress_host *host, uint16_t port);
/* Fill c from the dialed host and port and the credentials. 0 or -EINVAL. */
int bhttp_conn_init(struct bhttp_conn *c, const struct bhttp_cred *creds, size_t n, const char *host, uint16_t port,
                    bool tls, bool forward);

/* Parse the request head at buf[0..len) and write its re-framed form to
 * out[0..out_size) (which must be locked memory: it may hold the secret).
 * 0: done; -EAGAIN: need more bytes; -E2BIG: head too large; -EINVAL:
 * refused (ret->why); -EACCES: a placeholder toward a host it is not bound
 * to, or over plain HTTP (ret->tripped); -ENOTSUP: the secret cannot be put
 * in a header (control bytes). */
int bhttp_request(const struct bhttp_conn *c, const char *buf, size_t len, char *out, size_t out_size,
                  struct bhttp_req *ret);

/* The tripwire over a stream (a request body): the first index of a
 * credential whose placeholder occurs, across calls, or -1. */
struct bhttp_scan {
        char carry[PLACEHOLDER_LEN];
        size_t n_carry;
        uint64_t seen;
};
int bhttp_scan(const struct bhttp_conn *c, struct bhttp_scan *s, const char *d, size_t n);

/* Chunked body decoder (requests and responses): data bytes out, framing
 * checked strictly (hex size, CRLF after data, no trailers with bare CR/LF). */
struct bhttp_chunked {
        int state;
        uint64_t left;
        unsigned digits;
        size_t trailer_line;
        bool done;
};
/* Consume in[0..n): *ret_used input bytes, data in[data_off..data_off+data_len)
 * (one run at a time); 0 or -EINVAL. Call again with the rest. */
int bhttp_chunked_feed(struct bhttp_chunked *k, const char *in, size_t n, size_t *ret_used, size_t *ret_data_off,
                       size_t *ret_data_len);

struct bhttp_resp {
        size_t head_len;
        int status;
        enum bhttp_body body;
        uint64_t length;
        bool close;   /* the server closes after this response */
        bool interim; /* 1xx: another head follows */
        bool encoded; /* a Content-Encoding other than identity */
        const char *why;
        size_t out_len;
};
/* Parse a response head (the request was HEAD: head_method) and write it
 * re-framed to out: the secret in it replaced by its placeholder, a body
 * sent chunked (or until close for an HTTP/1.0 client). 0, -EAGAIN,
 * -E2BIG or -EINVAL. */
int bhttp_response(const struct bhttp_conn *c, const char *buf, size_t len, bool head_method, bool client_http10,
                   char *out, size_t out_size, struct bhttp_resp *ret);

/* The response scrub: every occurrence of a secret (raw, and as the Basic
 * credential base64(user:secret)) becomes its placeholder, across calls.
 * Holds back at most the longest pattern minus one byte. */
#define BHTTP_SCRUB_PAT 2048                           /* longest pattern: longer secrets are not scrubbed */
#define BHTTP_SCRUB_MIN 8                              /* shortest: a shorter secret's bytes prove nothing */
#define BHTTP_SCRUB_HOLD (BHTTP_SCRUB_PAT * 2 + 16384) /* run area + Basic patterns */
#define BHTTP_SCRUB_IN 4096                            /* most input bytes per call */
/* out needs room for (n + BHTTP_SCRUB_PAT) * BHTTP_SCRUB_GROW bytes */
#define BHTTP_SCRUB_GROW 6
struct bhttp_scrub {
        const struct bhttp_conn *c;
        char *hold; /* locked memory of BHTTP_SCRUB_HOLD bytes, the caller's */
        size_t n_hold;
        size_t max_pat;
        size_t n_pat;
        struct {
                const char *from, *to;
                size_t from_len, to_len;
        } pat[2 * BHTTP_MAX_CREDS];
};
void bhttp_scrub_init(struct bhttp_scrub *s, const struct bhttp_conn *c, char *hold);
/* Feed n <= BHTTP_SCRUB_IN bytes (eof: flush what is held): returns the count written to out. */
size_t bhttp_scrub(struct bhttp_scrub *s, const char *in, size_t n, bool eof, char *out);
