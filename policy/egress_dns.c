/* DNS wire format for the egress responder: strict query parsing, minimal answers. */
#include "policy/egress_dns.h"

#include <errno.h>
#include <string.h>

int egress_dns_parse(const uint8_t *q, size_t n, char name[EGRESS_HOST_MAX + 1], uint16_t *ret_type, size_t *ret_qend) {
        size_t p = 12, len = 0;
        if (n < 12 + 5)
                return -EINVAL;
        /* QR=0, opcode QUERY, one question, no answers; EDNS (ARCOUNT) tolerated */
        if ((q[2] & 0x80) || ((q[2] >> 3) & 0x0f) != 0 || q[4] != 0 || q[5] != 1 || q[6] || q[7] || q[8] || q[9])
                return -EINVAL;
        for (;;) {
                uint8_t l;
                if (p >= n)
                        return -EINVAL;
                l = q[p++];
                if (l == 0)
                        break;
                if (l > 63 || p + l > n || len + l + 1 > EGRESS_HOST_MAX)
                        return -EINVAL;
                if (len)
                        name[len++] = '.';
                for (uint8_t i = 0; i < l; i++) {
                        char c = (char)q[p + i];
                        if (c >= 'A' && c <= 'Z')
                                c = (char)(c - 'A' + 'a');
                        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                                return -EINVAL;
                        name[len++] = c;
                }
                p += l;
        }
        name[len] = 0;
        if (len == 0 || p + 4 > n || q[p + 2] != 0 || q[p + 3] != 1)
                return -EINVAL;
        *ret_type = (uint16_t)(q[p] << 8 | q[p + 1]);
        *ret_qend = p + 4;
        return 0;
}

int egress_dns_answer(const uint8_t *q, size_t qend, int rcode, const uint8_t *a4, uint8_t *out, size_t size,
                      size_t *ret_len) {
        size_t n = qend;
        if (qend < 12 || size < qend + 16)
                return -ENOBUFS;
        memcpy(out, q, qend);
        out[2] = (uint8_t)(0x80 | (q[2] & 0x01));  /* QR, keep RD; AA off */
        out[3] = (uint8_t)(0x80 | (rcode & 0x0f)); /* RA */
        out[6] = 0;
        out[7] = a4 ? 1 : 0;
        out[8] = out[9] = out[10] = out[11] = 0; /* EDNS dropped */
        if (a4) {
                static const uint8_t rr[12] = { 0xc0, 0x0c, 0, DNS_TYPE_A, 0, 1, 0, 0, 0, 30, 0, 4 };
                memcpy(out + n, rr, sizeof rr);
                memcpy(out + n + 12, a4, 4);
                n += 16;
        }
        *ret_len = n;
        return 0;
}

enum egress_reason egress_name_allowed(const struct egress_rules *r, const struct egress_host *h) {
        enum egress_reason first = EGR_NOT_ALLOWED;
        for (size_t i = 0; i < r->n_allow; i++)
                for (size_t k = 0; k < r->allow[i].n_ports; k++) {
                        enum egress_reason d = egress_check_host(r, h, r->allow[i].ports[k], NULL);
                        if (d == EGR_OK)
                                return EGR_OK;
                        if (d == EGR_DENY_RULE)
                                first = d;
                }
        return first;
}
