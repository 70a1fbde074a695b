/* Egress, the transparent path: the SNI of a TLS ClientHello (RFC 8446 4.1.2,
 * RFC 6066 3), collected across records, checked strictly. */
#include "policy/egress_tls.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define REC_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define EXT_SERVER_NAME 0
#define HS_MAX 16384

static unsigned be16(const uint8_t *p) {
        return (unsigned)p[0] << 8 | p[1];
}

/* Walk the hello body h[0..n): version, random, session id, cipher suites,
 * compression methods, extensions. */
static int parse_hello(const uint8_t *h, size_t n, char *ret, size_t ret_size) {
        size_t i = 2 + 32, ext_end;
        bool seen = false;
        if (n < i + 1)
                return -EINVAL;
        i += 1 + h[i]; /* session id */
        if (n < i + 2)
                return -EINVAL;
        i += 2 + be16(h + i); /* cipher suites */
        if (n < i + 1)
                return -EINVAL;
        i += 1 + h[i]; /* compression methods */
        if (i == n)
                return 0; /* no extensions at all: no SNI */
        if (n < i + 2)
                return -EINVAL;
        ext_end = i + 2 + be16(h + i);
        if (ext_end != n)
                return -EINVAL;
        for (i += 2; i < ext_end;) {
                unsigned type, elen;
                if (ext_end - i < 4)
                        return -EINVAL;
                type = be16(h + i);
                elen = be16(h + i + 2);
                i += 4;
                if (ext_end - i < elen)
                        return -EINVAL;
                if (type == EXT_SERVER_NAME) {
                        const uint8_t *e = h + i;
                        unsigned list, nlen;
                        if (seen || elen < 5)
                                return -EINVAL;
                        seen = true;
                        list = be16(e);
                        if (list != elen - 2 || e[2] != 0 /* host_name */)
                                return -EINVAL;
                        nlen = be16(e + 3);
                        /* one name only: RFC 6066 allows one per type, and only host_name exists */
                        if (nlen == 0 || nlen > 253 || nlen != list - 3 || nlen >= ret_size)
                                return -EINVAL;
                        for (unsigned k = 0; k < nlen; k++)
                                if (e[5 + k] < 0x21 || e[5 + k] > 0x7e)
                                        return -EINVAL;
                        memcpy(ret, e + 5, nlen);
                        ret[nlen] = 0;
                }
                i += elen;
        }
        return 0;
}

int egress_tls_sni(const uint8_t *buf, size_t len, char *ret, size_t ret_size) {
        uint8_t hs[HS_MAX + 4];
        size_t have = 0, need = 0, off = 0;
        if (ret_size < 1)
                return -EINVAL;
        ret[0] = 0;
        if (len == 0)
                return -EAGAIN;
        if (buf[0] != REC_HANDSHAKE)
                return -ENOENT;
        /* the handshake message, gathered from consecutive handshake records */
        for (;;) {
                size_t rlen;
                if (len - off < 5)
                        return -EAGAIN;
                if (buf[off] != REC_HANDSHAKE || buf[off + 1] != 3 || buf[off + 2] > 4)
                        return -EINVAL;
                rlen = be16(buf + off + 3);
                if (rlen == 0 || rlen > HS_MAX)
                        return -EINVAL;
                if (len - off - 5 < rlen)
                        return -EAGAIN;
                if (have + rlen > sizeof hs)
                        return -EINVAL;
                memcpy(hs + have, buf + off + 5, rlen);
                have += rlen;
                off += 5 + rlen;
                if (have >= 4 && !need) {
                        if (hs[0] != HS_CLIENT_HELLO)
                                return -EINVAL;
                        need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
                        if (need > sizeof hs)
                                return -EINVAL;
                }
                if (need && have >= need)
                        break;
        }
        /* nothing but the hello may share its records (no trailing handshake bytes) */
        if (have != need)
                return -EINVAL;
        return parse_hello(hs + 4, need - 4, ret, ret_size);
}
