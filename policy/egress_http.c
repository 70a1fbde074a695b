/* Strict HTTP/1.1 request-head parser for the egress proxy (no third-party
 * parser: Debian ships only the unmaintained http-parser 2.9). */
#include "policy/egress_http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

long egress_http_head_end(const char *buf, size_t len, size_t max, const char **ret_why) {
        for (size_t i = 0; i < len && i < max; i++) {
                if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n')
                        return *ret_why = "bare CR", -EBADMSG;
                if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
                        return *ret_why = "bare LF", -EBADMSG;
                if (buf[i] == 0)
                        return *ret_why = "NUL byte", -EBADMSG;
                if (i >= 3 && memcmp(buf + i - 3, "\r\n\r\n", 4) == 0)
                        return (long)(i + 1);
        }
        return 0;
}

bool egress_http_tchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

const char *egress_http_field(const char *p, const char *line_end, size_t *ret_name_len, const char **ret_value,
                              const char **ret_value_end) {
        const char *colon = memchr(p, ':', (size_t)(line_end - p)), *v, *ve;
        if (!colon || colon == p)
                return "header field without a name";
        for (const char *c = p; c < colon; c++)
                if (!egress_http_tchar(*c))
                        return "header name";
        for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t'); v++)
                ;
        for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
                ;
        for (const char *c = v; c < ve; c++)
                if ((unsigned char)*c < 0x20 && *c != '\t')
                        return "control character in a header value";
        *ret_name_len = (size_t)(colon - p);
        *ret_value = v;
        *ret_value_end = ve;
        return NULL;
}

static int refuse(struct egress_http_req *r, const char *why) {
        r->why = why;
        return -EINVAL;
}

/* "host:port", "[v6]:port" or (port_default != 0) without the port. */
static int parse_authority(const char *s, size_t n, uint16_t port_default, char *host, size_t host_size,
                           uint16_t *ret_port) {
        size_t hl;
        const char *colon = NULL;
        unsigned long port = 0;
        if (n == 0)
                return -EINVAL;
        if (s[0] == '[') {
                const char *end = memchr(s, ']', n);
                if (!end)
                        return -EINVAL;
                hl = (size_t)(end - s) + 1;
                if (hl < n) {
                        if (s[hl] != ':')
                                return -EINVAL;
                        colon = s + hl;
                }
        } else {
                colon = memchr(s, ':', n);
                hl = colon ? (size_t)(colon - s) : n;
        }
        if (hl == 0 || hl >= host_size)
                return -EINVAL;
        for (size_t i = 0; i < hl; i++)
                if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '@' || s[i] == '/' || s[i] == '\\')
                        return -EINVAL;
        if (colon) {
                size_t pl = n - (size_t)(colon - s) - 1;
                if (pl == 0 || pl > 5)
                        return -EINVAL;
                for (size_t i = 0; i < pl; i++) {
                        if (colon[1 + i] < '0' || colon[1 + i] > '9')
                                return -EINVAL;
                        port = port * 10 + (unsigned long)(colon[1 + i] - '0');
                }
                if (port == 0 || port > 65535)
                        return -EINVAL;
        } else if (port_default)
                port = port_default;
        else
                return -EINVAL;
        memcpy(host, s, hl);
        host[hl] = 0;
        *ret_port = (uint16_t)port;
        return 0;
}

static bool hdr_is(const char *name, size_t nl, const char *want) {
        return strlen(want) == nl && strncasecmp(name, want, nl) == 0;
}

/* Hop-by-hop headers the proxy consumes instead of forwarding. */
static bool hop_by_hop(const char *name, size_t nl) {
        return hdr_is(name, nl, "proxy-connection") || hdr_is(name, nl, "proxy-authorization") ||
               hdr_is(name, nl, "connection") || hdr_is(name, nl, "keep-alive");
}

int egress_http_parse(const char *buf, size_t len, struct egress_http_req *ret) {
        const char *end = NULL, *p, *line_end, *sp1, *sp2, *target;
        const char *bad;
        long head;
        size_t tlen, n_headers = 0, host_hdrs = 0, cl_hdrs = 0, te_hdrs = 0, path_len = 0;
        const char *path = "/", *host_val = NULL;
        size_t host_val_len = 0;
        bool forward, cl_nonzero = false;
        char hh[EGRESS_HOST_MAX + 3];
        uint16_t hp;
        FILE *out = NULL;
        size_t out_len;

        memset(ret, 0, sizeof *ret);
        head = egress_http_head_end(buf, len, EGRESS_HTTP_MAX_HEAD, &bad);
        if (head < 0)
                return refuse(ret, bad);
        if (head == 0)
                return len >= EGRESS_HTTP_MAX_HEAD ? -E2BIG : -EAGAIN;
        end = buf + head;
        ret->head_len = (size_t)head;

        /* request line: METHOD SP target SP HTTP/1.x CRLF */
        line_end = memmem(buf, ret->head_len, "\r\n", 2);
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
        tlen = (size_t)(sp2 - target);
        if ((size_t)(line_end - sp2) != 9 || (memcmp(sp2, " HTTP/1.1", 9) != 0 && memcmp(sp2, " HTTP/1.0", 9) != 0))
                return refuse(ret, "HTTP version");
        for (p = target; p < sp2; p++)
                if (*p <= 0x20 || *p >= 0x7f || *p == '#')
                        return refuse(ret, "target");
        forward = !((size_t)(sp1 - buf) == 7 && memcmp(buf, "CONNECT", 7) == 0);
        if (!forward) {
                ret->kind = EHTTP_CONNECT;
                if (parse_authority(target, tlen, 0, ret->host, sizeof ret->host, &ret->port) < 0)
                        return refuse(ret, "CONNECT target is not host:port");
        } else {
                const char *auth, *slash;
                ret->kind = EHTTP_FORWARD;
                if (tlen < 8 || strncasecmp(target, "http://", 7) != 0)
                        return refuse(ret, "not an absolute http:// URI (use CONNECT for https)");
                auth = target + 7;
                for (slash = auth; slash < sp2 && *slash != '/' && *slash != '?' && *slash != '#'; slash++)
                        ;
                if (parse_authority(auth, (size_t)(slash - auth), 80, ret->host, sizeof ret->host, &ret->port) < 0)
                        return refuse(ret, "URI authority");
                if (slash < sp2) {
                        if (*slash == '#')
                                return refuse(ret, "fragment in target");
                        path = slash;
                        path_len = (size_t)(sp2 - slash);
                        if (*slash == '?') /* "http://h?q" → "/?q" */
                                path = NULL;
                } else
                        path_len = 1;
        }

        /* header fields */
        for (p = line_end + 2; p < end - 2; p = line_end + 2) {
                const char *v, *ve, *why;
                size_t nl;
                line_end = memmem(p, (size_t)(end - p), "\r\n", 2);
                if (*p == ' ' || *p == '\t')
                        return refuse(ret, "obs-fold");
                if (++n_headers > EGRESS_HTTP_MAX_HEADERS)
                        return refuse(ret, "too many header fields");
                if ((why = egress_http_field(p, line_end, &nl, &v, &ve)))
                        return refuse(ret, why);
                if (hdr_is(p, nl, "host")) {
                        host_val = v;
                        host_val_len = (size_t)(ve - v);
                        host_hdrs++;
                } else if (hdr_is(p, nl, "content-length")) {
                        if (++cl_hdrs > 1 || v == ve)
                                return refuse(ret, "duplicate or empty Content-Length");
                        for (const char *c = v; c < ve; c++)
                                if (*c < '0' || *c > '9')
                                        return refuse(ret, "Content-Length is not a number");
                                else if (*c != '0')
                                        cl_nonzero = true;
                        if (ve - v > 15)
                                return refuse(ret, "Content-Length too large");
                } else if (hdr_is(p, nl, "transfer-encoding")) {
                        te_hdrs++;
                        if ((size_t)(ve - v) != 7 || strncasecmp(v, "chunked", 7) != 0)
                                return refuse(ret, "Transfer-Encoding other than chunked");
                }
        }
        if (host_hdrs > 1)
                return refuse(ret, "duplicate Host");
        if (te_hdrs > 1)
                return refuse(ret, "duplicate Transfer-Encoding");
        if (cl_hdrs && te_hdrs)
                return refuse(ret, "Content-Length with Transfer-Encoding");
        if (!forward && (te_hdrs || cl_nonzero))
                return refuse(ret, "CONNECT with a body");
        if (host_val) {
                struct egress_host a, b;
                if (parse_authority(host_val, host_val_len, forward ? 80 : ret->port, hh, sizeof hh, &hp) < 0)
                        return refuse(ret, "Host header");
                if (egress_host_canon(hh, &a) < 0 || egress_host_canon(ret->host, &b) < 0 ||
                    strcmp(a.name, b.name) != 0 || hp != ret->port)
                        return refuse(ret, "Host header is not the target's host");
        } else if (memcmp(sp2, " HTTP/1.1", 9) == 0)
                return refuse(ret, "HTTP/1.1 request without Host");
        if (!forward)
                return 0;

        /* the head sent upstream: origin-form target, our own Connection */
        out = open_memstream(&ret->upstream, &out_len);
        if (!out)
                return -ENOMEM;
        fwrite(buf, 1, (size_t)(sp1 - buf) + 1, out);
        if (!path)
                fputc('/', out);
        fwrite(path ? path : target + 7 + strcspn(target + 7, "?"), 1,
               path ? path_len : (size_t)(sp2 - (target + 7 + strcspn(target + 7, "?"))), out);
        fputs(" HTTP/1.1\r\n", out);
        if (!host_val)
                fprintf(out, "Host: %s\r\n", ret->host);
        line_end = memmem(buf, ret->head_len, "\r\n", 2);
        for (p = line_end + 2; p < end - 2; p = line_end + 2) {
                const char *colon;
                line_end = memmem(p, (size_t)(end - p), "\r\n", 2);
                colon = memchr(p, ':', (size_t)(line_end - p));
                if (!hop_by_hop(p, (size_t)(colon - p)))
                        fwrite(p, 1, (size_t)(line_end - p) + 2, out);
        }
        fputs("Connection: close\r\n\r\n", out);
        if (fclose(out) != 0) {
                free(ret->upstream);
                ret->upstream = NULL;
                return -ENOMEM;
        }
        ret->upstream_len = out_len;
        return 0;
}

void egress_http_req_free(struct egress_http_req *r) {
        free(r->upstream);
        r->upstream = NULL;
}
