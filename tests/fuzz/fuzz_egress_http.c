/* libFuzzer target: the egress proxy's request-head parser (policy/egress_http.c)
 * and host canonicalisation. Built and run by `make fuzz` (tests/fuzz/run.sh);
 * seeds in tests/fuzz/seeds/egress_http/. Properties: never crash or read past
 * the input; an accepted head ends in CRLFCRLF within the input; a forward
 * request's upstream head has exactly one Host, only CRLF line ends and our
 * own Connection: close; no proper prefix of an accepted head is accepted.
 * The same bytes go through the DNS query parser: an accepted query has a
 * valid name and its answer fits; and through the SNI reader
 * (policy/egress_tls.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/egress_dns.h"
#include "policy/egress_http.h"
#include "policy/egress_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count(const char *h, size_t n, const char *needle) {
        size_t c = 0, l = strlen(needle);
        for (size_t i = 0; i + l <= n; i++)
                c += memcmp(h + i, needle, l) == 0;
        return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct egress_http_req r, r2;
        struct egress_host h;
        char *buf = malloc(size ? size : 1), *hn;
        int rc;
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        hn = malloc(size + 1);
        if (hn) {
                memcpy(hn, data, size);
                hn[size] = 0;
                if (egress_host_canon(hn, &h) == 0 && (strlen(h.name) == 0 || strlen(h.name) > EGRESS_HOST_MAX))
                        abort();
                free(hn);
        }
        {
                char name[EGRESS_HOST_MAX + 1];
                uint8_t out[65536 + 16];
                uint16_t type;
                size_t qend, olen;
                if (egress_dns_parse(data, size, name, &type, &qend) == 0) {
                        if (qend > size || !name[0] || strlen(name) > EGRESS_HOST_MAX)
                                abort();
                        if (egress_dns_answer(data, qend, 0, (const uint8_t *)"\x7f\x64\0\1", out, sizeof out, &olen) <
                                    0 ||
                            olen != qend + 16)
                                abort();
                }
        }
        rc = egress_http_parse(buf, size, &r);
        if (rc == 0) {
                if (r.head_len > size || r.head_len < 4 || memcmp(buf + r.head_len - 4, "\r\n\r\n", 4) != 0)
                        abort();
                if (r.port == 0 || !r.host[0])
                        abort();
                if (r.kind == EHTTP_FORWARD) {
                        if (!r.upstream || count(r.upstream, r.upstream_len, "\r\n\r\n") != 1 ||
                            count(r.upstream, r.upstream_len, "\nHost:") +
                                            count(r.upstream, r.upstream_len, "\nhost:") +
                                            count(r.upstream, r.upstream_len, "\nHOST:") >
                                    1 ||
                            count(r.upstream, r.upstream_len, "\r") != count(r.upstream, r.upstream_len, "\r\n") ||
                            count(r.upstream, r.upstream_len, "\n") != count(r.upstream, r.upstream_len, "\r\n") ||
                            r.upstream_len < 21 ||
                            memcmp(r.upstream + r.upstream_len - 21, "Connection: close\r\n\r\n", 21) != 0)
                                abort();
                }
                if (egress_http_parse(buf, r.head_len - 1, &r2) == 0)
                        abort();
                egress_http_req_free(&r2);
                egress_http_req_free(&r);
        } else if (rc != -EAGAIN && rc != -EINVAL && rc != -E2BIG && rc != -ENOMEM)
                abort();
        else
                egress_http_req_free(&r);
        free(buf);
        /* and through the transparent path's SNI reader: a name it returns
         * is printable ASCII of 1..253 bytes; a prefix of an accepted hello
         * is never accepted with another name */
        {
                char sni[256], sni2[256];
                rc = egress_tls_sni(data, size, sni, sizeof sni);
                if (rc == 0 && sni[0]) {
                        size_t n = strlen(sni);
                        if (n > 253)
                                abort();
                        for (size_t i = 0; i < n; i++)
                                if (sni[i] < 0x21 || sni[i] > 0x7e)
                                        abort();
                        if (size > 1 && egress_tls_sni(data, size - 1, sni2, sizeof sni2) == 0 &&
                            strcmp(sni, sni2) != 0)
                                abort();
                } else if (rc != 0 && rc != -EAGAIN && rc != -EINVAL && rc != -ENOENT)
                        abort();
        }
        return 0;
}
