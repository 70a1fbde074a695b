/* The egress broker's HTTP/1.1 engine (see broker_http.h): strict request
 * heads re-framed with the secret injected only where it is bound, the
 * placeholder tripwire, chunked framing, and the response scrub.
 *
 * Why re-frame instead of forwarding bytes: the broker and the server must
 * never disagree on where a request ends (CL/TE desync, obs-fold, bare CR/LF
 * are refused), and a request the broker did not see whole must never carry
 * the secret. Every head the server gets is one the broker wrote. */
#include "policy/broker_http.h"
#include "policy/egress_http.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool bhttp_bound(const struct cred_binding *b, const struct egress_host *host, uint16_t port) {
        if (host->kind != EH_NAME || port != (b->port ? b->port : 443))
                return false;
        for (size_t i = 0; i < b->n_hosts; i++) {
                const char *h = b->hosts[i];
                size_t hl = strlen(h), nl = strlen(host->name);
                if (h[0] == '*' && h[1] == '.') {
                        /* "*.example.com": at least one label below the suffix */
                        if (nl > hl - 1 && strcmp(host->name + nl - (hl - 1), h + 1) == 0)
                                return true;
                } else if (strcmp(h, host->name) == 0)
                        return true;
        }
        return false;
}

int bhttp_conn_init(struct bhttp_conn *c, const struct bhttp_cred *creds, size_t n, const char *host, uint16_t port,
                    bool tls, bool forward) {
        memset(c, 0, sizeof *c);
        if (n > BHTTP_MAX_CREDS || egress_host_canon(host, &c->host) < 0)
                return -EINVAL;
        c->creds = creds;
        c->n_creds = n;
        c->port = port;
        c->tls = tls;
        c->forward = forward;
        for (size_t i = 0; i < n && tls; i++) {
                c->bound[i] = bhttp_bound(creds[i].bind, &c->host, port);
                c->any_bound |= c->bound[i];
        }
        return 0;
}


static bool hdr_is(const char *name, size_t nl, const char *want) {
        return strlen(want) == nl && strncasecmp(name, want, nl) == 0;
}

/* The first credential whose placeholder occurs in d[0..n), or -1. */
static int find_placeholder(const struct bhttp_conn *c, const char *d, size_t n) {
        const char *p = d, *end = d + n;
        while ((p = memmem(p, (size_t)(end - p), PLACEHOLDER_PREFIX, sizeof PLACEHOLDER_PREFIX - 1))) {
                for (size_t i = 0; i < c->n_creds; i++)
                        if ((size_t)(end - p) >= PLACEHOLDER_LEN &&
                            memcmp(p, c->creds[i].placeholder, PLACEHOLDER_LEN) == 0)
                                return (int)i;
                p++;
        }
        return -1;
}

/* A placeholder hidden in a Basic credential (curl -u user:PLACEHOLDER). */
static int find_in_basic(const struct bhttp_conn *c, const char *v, size_t n, char *dec, size_t dec_size,
                         size_t *ret_len) {
        size_t bl = 0;
        *ret_len = 0;
        if (n < 6 || strncasecmp(v, "basic ", 6) != 0)
                return -1;
        for (v += 6, n -= 6; n && *v == ' '; v++, n--)
                ;
        if (sodium_base642bin((unsigned char *)dec, dec_size, v, n, NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL) !=
            0)
                return -1;
        *ret_len = bl;
        return find_placeholder(c, dec, bl);
}

struct out {
        char *p;
        size_t len, size;
        bool full;
};

static void put(struct out *o, const void *d, size_t n) {
        if (o->full || n > o->size - o->len) {
                o->full = true;
                return;
        }
        memcpy(o->p + o->len, d, n);
        o->len += n;
}

static void puts_(struct out *o, const char *s) {
        put(o, s, strlen(s));
}

static int refuse(struct bhttp_req *r, const char *why) {
        r->why = why;
        return -EINVAL;
}

static int trip(struct bhttp_req *r, int cred) {
        r->tripped = cred;
        return -EACCES;
}

/* The secret goes into a header only if it has no byte that would end or
 * split the header (a CR/LF in a value would let the value write headers). */
static bool header_safe(const uint8_t *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (v[i] < 0x20 || v[i] == 0x7f)
                        return false;
        return n > 0;
}

/* The configured header of a bound credential, in its template's exact
 * form: "Bearer PH", "Basic base64(USER:PH)" or "PH". Writes the injected
 * header line; -EACCES when the placeholder is there in another form. */
static int inject(const struct bhttp_cred *cr, const char *name, size_t nl, const char *v, size_t vl, const char *dec,
                  size_t dec_len, struct out *o) {
        const struct cred_binding *b = cr->bind;
        if (!header_safe(cr->value, cr->value_len))
                return -ENOTSUP;
        put(o, name, nl);
        puts_(o, ": ");
        if (b->inject == BIND_BEARER) {
                if (vl != 7 + PLACEHOLDER_LEN || strncasecmp(v, "bearer ", 7) != 0 ||
                    memcmp(v + 7, cr->placeholder, PLACEHOLDER_LEN) != 0)
                        return -EACCES;
                puts_(o, "Bearer ");
                put(o, cr->value, cr->value_len);
        } else if (b->inject == BIND_HEADER) {
                if (vl != PLACEHOLDER_LEN || memcmp(v, cr->placeholder, PLACEHOLDER_LEN) != 0)
                        return -EACCES;
                put(o, cr->value, cr->value_len);
        } else {
                const char *colon = dec ? memchr(dec, ':', dec_len) : NULL;
                size_t ul = b->user ? strlen(b->user) : 0, raw_len = ul + 1 + cr->value_len;
                size_t b64 = sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_ORIGINAL);
                if (!colon || (size_t)(dec + dec_len - colon - 1) != PLACEHOLDER_LEN ||
                    memcmp(colon + 1, cr->placeholder, PLACEHOLDER_LEN) != 0)
                        return -EACCES;
                puts_(o, "Basic ");
                /* user:secret, then its base64, both in the output buffer's
                 * tail (locked memory), the raw form wiped after */
                if (o->full || o->size - o->len < raw_len + b64) {
                        o->full = true;
                        return 0;
                }
                {
                        char *raw = o->p + o->size - raw_len;
                        memcpy(raw, b->user ? b->user : "", ul);
                        raw[ul] = ':';
                        memcpy(raw + ul + 1, cr->value, cr->value_len);
                        sodium_bin2base64(o->p + o->len, b64, (const unsigned char *)raw, raw_len,
                                          sodium_base64_VARIANT_ORIGINAL);
                        sodium_memzero(raw, raw_len);
                        o->len += b64 - 1;
                }
        }
        puts_(o, "\r\n");
        return 0;
}

/* The name of the header a binding writes. */
static const char *bind_header(const struct cred_binding *b) {
        return b->inject == BIND_HEADER ? b->header : "authorization";
}

int bhttp_request(const struct bhttp_conn *c, const char *buf, size_t len, char *outbuf, size_t out_size,
                  struct bhttp_req *ret) {
        const char *end = NULL, *p, *line_end, *sp1, *sp2, *target, *path;
        const char *bad;
        long head;
        size_t n_headers = 0, host_hdrs = 0, cl_hdrs = 0, te_hdrs = 0, path_len;
        bool http10, conn_close = false, conn_keep = false;
        const char *host_val = NULL;
        size_t host_val_len = 0;
        size_t seen_bind_hdr[BHTTP_MAX_CREDS] = { 0 };
        uint64_t cl = 0;
        struct out o = { .p = outbuf, .size = out_size };
        char dec[1024];
        int k;

        memset(ret, 0, sizeof *ret);
        ret->injected = -1;
        ret->tripped = -1;
        head = egress_http_head_end(buf, len, BHTTP_MAX_HEAD, &bad);
        if (head < 0)
                return refuse(ret, bad);
        if (len >= 24 && memcmp(buf, "PRI * HTTP/2.0\r\n", 16) == 0)
                return refuse(ret, "HTTP/2 (the broker speaks http/1.1 only)");
        if (head == 0)
                return len >= BHTTP_MAX_HEAD ? -E2BIG : -EAGAIN;
        end = buf + head;
        ret->head_len = (size_t)head;

        /* the whole head: a placeholder anywhere but the bound header trips */
        line_end = memmem(buf, ret->head_len, "\r\n", 2);
        if ((k = find_placeholder(c, buf, (size_t)(line_end - buf))) >= 0)
                return trip(ret, k);
        sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
        if (!sp1 || sp1 == buf)
                return refuse(ret, "request line");
        for (p = buf; p < sp1; p++)
                if (!egress_http_tchar(*p))
                        return refuse(ret, "method");
        target = sp1 + 1;
        sp2 = memchr(target, ' ', (size_t)(line_end - target));
        if (!sp2 || sp2 == target)
                return refuse(ret, "request line");
        if ((size_t)(line_end - sp2) != 9 || (memcmp(sp2, " HTTP/1.1", 9) != 0 && memcmp(sp2, " HTTP/1.0", 9) != 0))
                return refuse(ret, "HTTP version");
        http10 = sp2[8] == '0';
        for (p = target; p < sp2; p++)
                if (*p <= 0x20 || *p >= 0x7f || *p == '#')
                        return refuse(ret, "target");
        if ((size_t)(sp1 - buf) == 7 && memcmp(buf, "CONNECT", 7) == 0)
                return refuse(ret, "CONNECT inside a tunnel");
        ret->head_method = (size_t)(sp1 - buf) == 4 && memcmp(buf, "HEAD", 4) == 0;
        path = target;
        path_len = (size_t)(sp2 - target);
        if (c->forward && path_len > 7 && strncasecmp(target, "http://", 7) == 0) {
                /* absolute-form through the proxy port: the authority must be the dialed host */
                const char *auth = target + 7, *slash = auth;
                char h[EGRESS_HOST_MAX + 3];
                struct egress_host eh;
                unsigned long port = 80;
                size_t hl;
                while (slash < sp2 && *slash != '/' && *slash != '?')
                        slash++;
                hl = (size_t)(slash - auth);
                {
                        const char *colon = auth[0] == '[' ? NULL : memchr(auth, ':', hl);
                        if (colon) {
                                char *e;
                                port = strtoul(colon + 1, &e, 10);
                                if (e != slash || port == 0 || port > 65535)
                                        return refuse(ret, "URI authority");
                                hl = (size_t)(colon - auth);
                        }
                }
                if (hl == 0 || hl >= sizeof h)
                        return refuse(ret, "URI authority");
                memcpy(h, auth, hl);
                h[hl] = 0;
                if (egress_host_canon(h, &eh) < 0 || strcmp(eh.name, c->host.name) != 0 || port != c->port)
                        return refuse(ret, "request to another host than the connection's");
                path = slash;
                path_len = (size_t)(sp2 - slash);
        } else if (!(path_len >= 1 && path[0] == '/') && !(path_len == 1 && path[0] == '*'))
                return refuse(ret, "target is not origin-form");
        put(&o, buf, (size_t)(sp1 - buf) + 1);
        if (path_len == 0 || path[0] == '?')
                puts_(&o, "/");
        put(&o, path, path_len);
        puts_(&o, http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");

        for (p = line_end + 2; p < end - 2; p = line_end + 2) {
                const char *v, *ve, *why;
                size_t nl, vl, dl = 0;
                int kb;
                bool handled = false;
                line_end = memmem(p, (size_t)(end - p), "\r\n", 2);
                if (*p == ' ' || *p == '\t')
                        return refuse(ret, "obs-fold");
                if (++n_headers > 100)
                        return refuse(ret, "too many header fields");
                if ((why = egress_http_field(p, line_end, &nl, &v, &ve)))
                        return refuse(ret, why);
                vl = (size_t)(ve - v);
                k = find_placeholder(c, p, (size_t)(line_end - p));
                kb = find_in_basic(c, v, vl, dec, sizeof dec, &dl);
                if (k < 0)
                        k = kb;
                for (size_t i = 0; i < c->n_creds; i++) {
                        if (!c->bound[i] || !hdr_is(p, nl, bind_header(c->creds[i].bind)))
                                continue;
                        /* two Authorization headers: which one would the server use? */
                        if (++seen_bind_hdr[i] > 1)
                                return refuse(ret, "duplicate credential header");
                        if (k == (int)i) {
                                int r = inject(&c->creds[i], p, nl, v, vl, kb == k ? dec : NULL, dl, &o);
                                sodium_memzero(dec, sizeof dec);
                                if (r == -EACCES)
                                        return trip(ret, k);
                                if (r < 0)
                                        return r;
                                ret->injected = k;
                                handled = true;
                                k = -1;
                        }
                }
                sodium_memzero(dec, sizeof dec);
                if (k >= 0) /* a placeholder in any other header, or for another credential */
                        return trip(ret, k);
                if (handled)
                        continue;
                if (hdr_is(p, nl, "host")) {
                        host_val = v;
                        host_val_len = vl;
                        host_hdrs++;
                } else if (hdr_is(p, nl, "content-length")) {
                        if (++cl_hdrs > 1 || vl == 0 || vl > 15)
                                return refuse(ret, "duplicate, empty or oversized Content-Length");
                        cl = 0;
                        for (const char *q = v; q < ve; q++) {
                                if (*q < '0' || *q > '9')
                                        return refuse(ret, "Content-Length is not a number");
                                cl = cl * 10 + (uint64_t)(*q - '0');
                        }
                        continue;
                } else if (hdr_is(p, nl, "transfer-encoding")) {
                        te_hdrs++;
                        if (vl != 7 || strncasecmp(v, "chunked", 7) != 0)
                                return refuse(ret, "Transfer-Encoding other than chunked");
                        continue;
                } else if (hdr_is(p, nl, "connection")) {
                        /* tokens, comma-separated: close wins */
                        for (const char *q = v; q < ve;) {
                                const char *t = q;
                                while (q < ve && *q != ',')
                                        q++;
                                while (t < q && (*t == ' ' || *t == '\t'))
                                        t++;
                                {
                                        const char *te = q;
                                        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
                                                te--;
                                        if (hdr_is(t, (size_t)(te - t), "close"))
                                                conn_close = true;
                                        else if (hdr_is(t, (size_t)(te - t), "keep-alive"))
                                                conn_keep = true;
                                }
                                if (q < ve)
                                        q++;
                        }
                        continue;
                } else if (hdr_is(p, nl, "expect")) {
                        if (vl != 12 || strncasecmp(v, "100-continue", 12) != 0)
                                return refuse(ret, "Expect other than 100-continue");
                        ret->expect_continue = true;
                        continue;
                } else if (hdr_is(p, nl, "upgrade") || hdr_is(p, nl, "http2-settings"))
                        return refuse(ret, "protocol upgrade (the broker speaks http/1.1 only)");
                else if (hdr_is(p, nl, "keep-alive") || hdr_is(p, nl, "proxy-connection") ||
                         hdr_is(p, nl, "proxy-authorization") || hdr_is(p, nl, "te") || hdr_is(p, nl, "trailer"))
                        continue;
                else if (c->any_bound && hdr_is(p, nl, "accept-encoding"))
                        continue; /* replaced by identity below: the scrub reads plain bodies */
                put(&o, p, (size_t)(line_end - p) + 2);
        }
        if (host_hdrs != 1)
                return refuse(ret, host_hdrs ? "duplicate Host" : "request without Host");
        {
                char h[EGRESS_HOST_MAX + 3];
                struct egress_host eh;
                unsigned long port = c->tls ? 443 : 80;
                size_t hl = host_val_len;
                const char *colon = NULL;
                if (host_val_len && host_val[0] == '[') {
                        const char *rb = memchr(host_val, ']', host_val_len);
                        if (rb && (size_t)(rb - host_val) + 1 < host_val_len)
                                colon = rb + 1;
                } else
                        colon = memchr(host_val, ':', host_val_len);
                if (colon) {
                        if (*colon != ':' || colon + 1 == host_val + host_val_len ||
                            (size_t)(host_val + host_val_len - colon - 1) > 5)
                                return refuse(ret, "Host header");
                        port = 0;
                        for (const char *q = colon + 1; q < host_val + host_val_len; q++) {
                                if (*q < '0' || *q > '9')
                                        return refuse(ret, "Host header");
                                port = port * 10 + (unsigned long)(*q - '0');
                        }
                        hl = (size_t)(colon - host_val);
                }
                if (hl == 0 || hl >= sizeof h)
                        return refuse(ret, "Host header");
                memcpy(h, host_val, hl);
                h[hl] = 0;
                /* every request of a kept-alive connection: the dialed host only */
                if (egress_host_canon(h, &eh) < 0 || strcmp(eh.name, c->host.name) != 0 || port != c->port)
                        return refuse(ret, "Host is not the host this connection was dialed to");
        }
        if (te_hdrs > 1)
                return refuse(ret, "duplicate Transfer-Encoding");
        if (cl_hdrs && te_hdrs)
                return refuse(ret, "Content-Length with Transfer-Encoding");
        if (te_hdrs && http10)
                return refuse(ret, "chunked in HTTP/1.0");
        if (te_hdrs) {
                ret->body = BODY_CHUNKED;
                puts_(&o, "Transfer-Encoding: chunked\r\n");
        } else if (cl_hdrs && cl > 0) {
                char n[32];
                ret->body = BODY_LENGTH;
                ret->length = cl;
                snprintf(n, sizeof n, "Content-Length: %llu\r\n", (unsigned long long)cl);
                puts_(&o, n);
        } else if (cl_hdrs)
                puts_(&o, "Content-Length: 0\r\n");
        if (c->any_bound)
                puts_(&o, "Accept-Encoding: identity\r\n");
        ret->keep_alive = !conn_close && (!http10 || conn_keep) && !c->forward;
        if (!ret->keep_alive)
                puts_(&o, "Connection: close\r\n");
        puts_(&o, "\r\n");
        if (o.full) {
                sodium_memzero(outbuf, out_size);
                return -E2BIG;
        }
        ret->out_len = o.len;
        return 0;
}

int bhttp_scan(const struct bhttp_conn *c, struct bhttp_scan *s, const char *d, size_t n) {
        char edge[2 * PLACEHOLDER_LEN];
        size_t take = n < PLACEHOLDER_LEN - 1 ? n : PLACEHOLDER_LEN - 1, el;
        int k;
        if (s->seen >= BHTTP_SCAN_BODY)
                return -1;
        if (n > BHTTP_SCAN_BODY - s->seen)
                n = (size_t)(BHTTP_SCAN_BODY - s->seen);
        if (take > n)
                take = n;
        /* a placeholder split across calls: the carried tail + this head */
        memcpy(edge, s->carry, s->n_carry);
        memcpy(edge + s->n_carry, d, take);
        el = s->n_carry + take;
        if ((k = find_placeholder(c, edge, el)) >= 0 || (k = find_placeholder(c, d, n)) >= 0)
                return k;
        s->seen += n;
        if (n >= PLACEHOLDER_LEN - 1) {
                memcpy(s->carry, d + n - (PLACEHOLDER_LEN - 1), PLACEHOLDER_LEN - 1);
                s->n_carry = PLACEHOLDER_LEN - 1;
        } else {
                size_t keep = el < PLACEHOLDER_LEN - 1 ? el : PLACEHOLDER_LEN - 1;
                memmove(s->carry, edge + el - keep, keep);
                s->n_carry = keep;
        }
        return -1;
}

enum { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_TRAILER, CK_TRAILER_LF };

int bhttp_chunked_feed(struct bhttp_chunked *k, const char *in, size_t n, size_t *ret_used, size_t *ret_data_off,
                       size_t *ret_data_len) {
        size_t i = 0;
        *ret_data_off = *ret_data_len = 0;
        while (i < n && !k->done) {
                char ch = in[i];
                switch (k->state) {
                case CK_SIZE: {
                        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                         : -1;
                        if (d >= 0) {
                                if (++k->digits > 15)
                                        return -EINVAL;
                                k->left = k->left * 16 + (uint64_t)d;
                        } else if (k->digits == 0)
                                return -EINVAL;
                        else if (ch == ';')
                                k->state = CK_EXT;
                        else if (ch == '\r')
                                k->state = CK_SIZE_LF;
                        else
                                return -EINVAL;
                        i++;
                        break;
                }
                case CK_EXT: /* chunk extensions are dropped (the broker re-frames) */
                        if (ch == '\r')
                                k->state = CK_SIZE_LF;
                        else if (ch == '\n' || ((unsigned char)ch < 0x20 && ch != '\t'))
                                return -EINVAL;
                        i++;
                        break;
                case CK_SIZE_LF:
                        if (ch != '\n')
                                return -EINVAL;
                        i++;
                        k->digits = 0;
                        k->state = k->left ? CK_DATA : CK_TRAILER;
                        k->trailer_line = 0;
                        break;
                case CK_DATA: {
                        size_t take = n - i < k->left ? n - i : (size_t)k->left;
                        *ret_data_off = i;
                        *ret_data_len = take;
                        k->left -= take;
                        i += take;
                        if (k->left == 0)
                                k->state = CK_DATA_CR;
                        *ret_used = i;
                        return 0;
                }
                case CK_DATA_CR:
                        if (ch != '\r')
                                return -EINVAL;
                        k->state = CK_DATA_LF;
                        i++;
                        break;
                case CK_DATA_LF:
                        if (ch != '\n')
                                return -EINVAL;
                        k->state = CK_SIZE;
                        i++;
                        break;
                case CK_TRAILER: /* trailer fields are read and dropped; an empty line ends */
                        if (ch == '\r')
                                k->state = CK_TRAILER_LF;
                        else if (ch == '\n' || ++k->trailer_line > 8192)
                                return -EINVAL;
                        i++;
                        break;
                case CK_TRAILER_LF:
                        if (ch != '\n')
                                return -EINVAL;
                        i++;
                        if (k->trailer_line == 0)
                                k->done = true;
                        k->trailer_line = 0;
                        k->state = CK_TRAILER;
                        break;
                }
        }
        *ret_used = i;
        return 0;
}

int bhttp_response(const struct bhttp_conn *c, const char *buf, size_t len, bool head_method, bool client_http10,
                   char *outbuf, size_t out_size, struct bhttp_resp *ret) {
        const char *end = NULL, *p, *line_end;
        struct out o = { .p = outbuf, .size = out_size };
        size_t cl_hdrs = 0, te_hdrs = 0;
        uint64_t cl = 0;
        bool http10, has_body;
        memset(ret, 0, sizeof *ret);
        for (size_t i = 0; i < len && i < BHTTP_MAX_HEAD; i++) {
                if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) {
                        ret->why = "bare LF in the response";
                        return -EINVAL;
                }
                if (i >= 3 && memcmp(buf + i - 3, "\r\n\r\n", 4) == 0) {
                        end = buf + i + 1;
                        break;
                }
        }
        if (!end)
                return len >= BHTTP_MAX_HEAD ? -E2BIG : -EAGAIN;
        ret->head_len = (size_t)(end - buf);
        line_end = memmem(buf, ret->head_len, "\r\n", 2);
        if ((size_t)(line_end - buf) < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
            buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
            buf[11] > '9') {
                ret->why = "response status line";
                return -EINVAL;
        }
        http10 = buf[7] == '0';
        ret->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
        ret->interim = ret->status < 200;
        if (ret->status == 101) {
                ret->why = "protocol switch";
                return -EINVAL;
        }
        /* the status line with the client's version */
        puts_(&o, client_http10 ? "HTTP/1.0" : "HTTP/1.1");
        put(&o, buf + 8, (size_t)(line_end - buf) - 8 + 2);
        for (p = line_end + 2; p < end - 2; p = line_end + 2) {
                const char *colon, *v, *ve;
                size_t nl, vl;
                line_end = memmem(p, (size_t)(end - p), "\r\n", 2);
                colon = memchr(p, ':', (size_t)(line_end - p));
                if (*p == ' ' || *p == '\t' || !colon || colon == p) {
                        ret->why = "response header";
                        return -EINVAL;
                }
                nl = (size_t)(colon - p);
                for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t'); v++)
                        ;
                for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
                        ;
                vl = (size_t)(ve - v);
                if (hdr_is(p, nl, "content-length")) {
                        uint64_t x = 0;
                        if (vl == 0 || vl > 15)
                                goto bad_cl;
                        for (const char *q = v; q < ve; q++) {
                                if (*q < '0' || *q > '9')
                                        goto bad_cl;
                                x = x * 10 + (uint64_t)(*q - '0');
                        }
                        if (cl_hdrs++ && x != cl)
                                goto bad_cl;
                        cl = x;
                        continue;
                } else if (hdr_is(p, nl, "transfer-encoding")) {
                        te_hdrs++;
                        if (vl != 7 || strncasecmp(v, "chunked", 7) != 0) {
                                ret->why = "response Transfer-Encoding other than chunked";
                                return -EINVAL;
                        }
                        continue;
                } else if (hdr_is(p, nl, "connection")) {
                        if (memmem(v, vl, "close", 5) || memmem(v, vl, "Close", 5))
                                ret->close = true;
                        continue;
                } else if (hdr_is(p, nl, "keep-alive") || hdr_is(p, nl, "trailer") || hdr_is(p, nl, "upgrade"))
                        continue;
                else if (hdr_is(p, nl, "content-encoding") && !(vl == 8 && strncasecmp(v, "identity", 8) == 0))
                        ret->encoded = true;
                put(&o, p, (size_t)(line_end - p) + 2);
        }
        if (te_hdrs > 1 || (te_hdrs && cl_hdrs)) {
                ret->why = "ambiguous response framing";
                return -EINVAL;
        }
        if (http10)
                ret->close = true;
        has_body = !(head_method || ret->interim || ret->status == 204 || ret->status == 304);
        if (!has_body)
                ret->body = BODY_NONE;
        else if (te_hdrs)
                ret->body = BODY_CHUNKED;
        else if (cl_hdrs) {
                ret->body = cl ? BODY_LENGTH : BODY_NONE;
                ret->length = cl;
        } else {
                ret->body = BODY_CLOSE;
                ret->close = true;
        }
        if (ret->interim)
                ;
        else if (!has_body && cl_hdrs) {
                /* HEAD or 304: the length the server stated, unchanged */
                char n[40];
                snprintf(n, sizeof n, "Content-Length: %llu\r\n", (unsigned long long)cl);
                puts_(&o, n);
        } else if (has_body && client_http10) {
                ret->close = true;
                puts_(&o, "Connection: close\r\n");
        } else if (has_body && ret->body != BODY_NONE)
                puts_(&o, "Transfer-Encoding: chunked\r\n");
        else if (has_body)
                puts_(&o, "Content-Length: 0\r\n");
        if (!ret->interim && ret->close && !(has_body && client_http10))
                puts_(&o, "Connection: close\r\n");
        puts_(&o, "\r\n");
        if (o.full)
                return -E2BIG;
        /* the head itself may quote the secret (an echoed request header) */
        {
                for (size_t i = 0; i < c->n_creds; i++) {
                        const struct bhttp_cred *cr = &c->creds[i];
                        char *q;
                        if (cr->value_len < BHTTP_SCRUB_MIN || cr->value_len > BHTTP_SCRUB_PAT)
                                continue;
                        while ((q = memmem(o.p, o.len, cr->value, cr->value_len))) {
                                size_t tail = o.len - (size_t)(q - o.p) - cr->value_len;
                                if (o.len - cr->value_len + PLACEHOLDER_LEN > o.size)
                                        return -E2BIG;
                                memmove(q + PLACEHOLDER_LEN, q + cr->value_len, tail);
                                memcpy(q, cr->placeholder, PLACEHOLDER_LEN);
                                o.len = o.len - cr->value_len + PLACEHOLDER_LEN;
                        }
                }
        }
        ret->out_len = o.len;
        return 0;
bad_cl:
        ret->why = "response Content-Length";
        return -EINVAL;
}

void bhttp_scrub_init(struct bhttp_scrub *s, const struct bhttp_conn *c, char *hold) {
        char *area = hold + BHTTP_SCRUB_PAT * 2; /* the patterns live after the held bytes */
        memset(s, 0, sizeof *s);
        s->c = c;
        s->hold = hold;
        for (size_t i = 0; i < c->n_creds; i++) {
                const struct bhttp_cred *cr = &c->creds[i];
                if (cr->value_len < BHTTP_SCRUB_MIN || cr->value_len > BHTTP_SCRUB_PAT)
                        continue;
                s->pat[s->n_pat++] =
                        (typeof(s->pat[0])){ (const char *)cr->value, cr->placeholder, cr->value_len, PLACEHOLDER_LEN };
                if (cr->bind && cr->bind->inject == BIND_BASIC) {
                        /* base64(user:secret) → base64(user:placeholder) */
                        size_t ul = cr->bind->user ? strlen(cr->bind->user) : 0, rl = ul + 1 + cr->value_len;
                        size_t el = sodium_base64_ENCODED_LEN(rl, sodium_base64_VARIANT_ORIGINAL);
                        size_t pl = sodium_base64_ENCODED_LEN(ul + 1 + PLACEHOLDER_LEN, sodium_base64_VARIANT_ORIGINAL);
                        char *raw = area + el + pl;
                        if (el > BHTTP_SCRUB_PAT || pl + rl > BHTTP_SCRUB_PAT ||
                            (size_t)(area - hold) + el + pl + rl > BHTTP_SCRUB_HOLD)
                                continue;
                        memcpy(raw, cr->bind->user ? cr->bind->user : "", ul);
                        raw[ul] = ':';
                        memcpy(raw + ul + 1, cr->value, cr->value_len);
                        sodium_bin2base64(area, el, (unsigned char *)raw, rl, sodium_base64_VARIANT_ORIGINAL);
                        memcpy(raw + ul + 1, cr->placeholder, PLACEHOLDER_LEN);
                        sodium_bin2base64(area + el, pl, (unsigned char *)raw, ul + 1 + PLACEHOLDER_LEN,
                                          sodium_base64_VARIANT_ORIGINAL);
                        sodium_memzero(raw, rl);
                        s->pat[s->n_pat++] = (typeof(s->pat[0])){ area, area + el, el - 1, pl - 1 };
                        area += el + pl;
                }
        }
        for (size_t i = 0; i < s->n_pat; i++)
                if (s->pat[i].from_len > s->max_pat)
                        s->max_pat = s->pat[i].from_len;
}

size_t bhttp_scrub(struct bhttp_scrub *s, const char *in, size_t n, bool eof, char *out) {
        size_t o = 0, i = 0, total;
        char *w = s->hold; /* held bytes, then the new ones, scanned as one run */
        if (n > BHTTP_SCRUB_IN)
                n = BHTTP_SCRUB_IN;
        if (s->n_pat == 0) {
                memcpy(out, in, n);
                return n;
        }
        /* hold: [0, 2*PAT) is the run area, enough for held + one step of input */
        total = s->n_hold;
        for (size_t off = 0; off < n || (eof && off == 0);) {
                size_t take = n - off < BHTTP_SCRUB_PAT ? n - off : BHTTP_SCRUB_PAT;
                bool last = eof && off + take == n;
                memcpy(w + total, in + off, take);
                total += take;
                off += take;
                i = 0;
                while (i < total) {
                        bool hit = false;
                        if (!last && total - i < s->max_pat)
                                break; /* may be the start of a pattern: wait for more */
                        for (size_t k = 0; k < s->n_pat && !hit; k++)
                                if (s->pat[k].from_len <= total - i && w[i] == s->pat[k].from[0] &&
                                    memcmp(w + i, s->pat[k].from, s->pat[k].from_len) == 0) {
                                        memcpy(out + o, s->pat[k].to, s->pat[k].to_len);
                                        o += s->pat[k].to_len;
                                        i += s->pat[k].from_len;
                                        hit = true;
                                }
                        if (!hit)
                                out[o++] = w[i++];
                }
                memmove(w, w + i, total - i);
                sodium_memzero(w + (total - i), i);
                total -= i;
                if (n == 0)
                        break;
        }
        s->n_hold = total;
        return o;
}
