/* Egress rules: canonical hosts, rule matching, special-address table, reason codes. */
#include "policy/egress_rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/util.h"

static const char *const reason_names[EGR_REASON_MAX] = {
        [EGR_OK] = "ok",
        [EGR_NOT_ALLOWED] = "not-allowed",
        [EGR_DENY_RULE] = "deny-rule",
        [EGR_PORT] = "port-not-allowed",
        [EGR_IP_LITERAL] = "ip-literal",
        [EGR_ADDRESS] = "address-denied",
        [EGR_BAD_HOST] = "bad-host",
        [EGR_RESOLVE] = "resolve-failed",
        [EGR_RESOLVE_TIMEOUT] = "resolve-timeout",
        [EGR_CONNECT] = "connect-failed",
        [EGR_CONNECT_TIMEOUT] = "connect-timeout",
        [EGR_CONN_LIMIT] = "connection-limit",
        [EGR_BYTE_LIMIT] = "byte-limit",
        [EGR_BAD_REQUEST] = "bad-request",
        [EGR_HEADER_TIMEOUT] = "header-timeout",
        [EGR_HEADER_SIZE] = "header-too-large",
        [EGR_SNI_MISMATCH] = "sni-mismatch",
        [EGR_PLACEHOLDER] = "placeholder-misdirected",
        [EGR_UPSTREAM_TLS] = "upstream-tls",
        [EGR_MEMLOCK] = "broker-memlock",
};

const char *egress_reason_name(enum egress_reason r) {
        return (unsigned)r < EGR_REASON_MAX ? reason_names[r] : "?";
}

/* One inet_aton component: 0x.. hex, 0.. octal, else decimal; no empty part. */
static int aton_part(const char *s, size_t n, uint64_t *ret) {
        unsigned base = 10;
        uint64_t v = 0;
        if (n == 0)
                return -EINVAL;
        if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
                n -= 2;
                if (n == 0)
                        return -EINVAL;
        } else if (n > 1 && s[0] == '0') {
                base = 8;
                s++;
                n--;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned d;
                char c = s[i];
                if (c >= '0' && c <= '9')
                        d = (unsigned)(c - '0');
                else if (base == 16 && c >= 'a' && c <= 'f')
                        d = (unsigned)(c - 'a' + 10);
                else if (base == 16 && c >= 'A' && c <= 'F')
                        d = (unsigned)(c - 'A' + 10);
                else
                        return -EINVAL;
                if (d >= base)
                        return -EINVAL;
                v = v * base + d;
                if (v > 0xffffffffull)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

/* inet_aton's grammar (1 to 4 parts, the last filling the remaining bytes),
 * written out so every libc and the canonical form agree. */
static int parse_ipv4_loose(const char *s, uint32_t *ret) {
        uint64_t part[4];
        size_t n = 0;
        const char *p = s;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t)(dot - p) : strlen(p);
                if (n == 4 || aton_part(p, len, &part[n]) < 0)
                        return -EINVAL;
                n++;
                if (!dot)
                        break;
                p = dot + 1;
        }
        for (size_t i = 0; i + 1 < n; i++)
                if (part[i] > 0xff)
                        return -EINVAL;
        if (part[n - 1] > (0xffffffffull >> (8 * (n - 1))))
                return -EINVAL;
        uint32_t a = (uint32_t)part[n - 1];
        for (size_t i = 0; i + 1 < n; i++)
                a |= (uint32_t)part[i] << (24 - 8 * i);
        *ret = a;
        return 0;
}

/* The last label looks numeric (digits, or 0x + hex): then the whole host
 * must be an address (WHATWG's "ends in a number" rule), never a name. */
static bool last_label_numeric(const char *s) {
        const char *l = strrchr(s, '.');
        l = l ? l + 1 : s;
        if (!*l)
                return false;
        if (l[0] == '0' && (l[1] == 'x' || l[1] == 'X'))
                return true;
        for (; *l; l++)
                if (*l < '0' || *l > '9')
                        return false;
        return true;
}

int egress_host_canon(const char *in, struct egress_host *ret) {
        char buf[EGRESS_HOST_MAX + 3];
        size_t n = strlen(in);
        uint32_t a4;

        memset(ret, 0, sizeof *ret);
        if (n == 0 || n > EGRESS_HOST_MAX + 2)
                return -EINVAL;
        if (in[0] == '[') {
                if (in[n - 1] != ']' || n < 3)
                        return -EINVAL;
                memcpy(buf, in + 1, n - 2);
                buf[n - 2] = 0;
        } else
                memcpy(buf, in, n + 1);
        for (char *c = buf; *c; c++) {
                if ((unsigned char)*c >= 0x80 || (unsigned char)*c <= 0x20)
                        return -EINVAL;
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
        }
        if (strchr(buf, ':')) {
                /* zone ids ("%eth0") select an interface: never from a payload */
                if (inet_pton(AF_INET6, buf, ret->addr) != 1)
                        return -EINVAL;
                ret->kind = EH_V6;
                inet_ntop(AF_INET6, ret->addr, ret->name, sizeof ret->name);
                return 0;
        }
        if (in[0] == '[')
                return -EINVAL;
        n = strlen(buf);
        if (n > 1 && buf[n - 1] == '.')
                buf[--n] = 0;
        if (last_label_numeric(buf)) {
                if (parse_ipv4_loose(buf, &a4) < 0)
                        return -EINVAL;
                a4 = htonl(a4);
                memcpy(ret->addr, &a4, 4);
                ret->kind = EH_V4;
                inet_ntop(AF_INET, ret->addr, ret->name, sizeof ret->name);
                return 0;
        }
        if (!dns_name_valid(buf)) /* lowercased above */
                return -EINVAL;
        ret->kind = EH_NAME;
        memcpy(ret->name, buf, n + 1);
        return 0;
}

int egress_rule_parse(const char *text, struct egress_rule *ret) {
        struct egress_host h;
        char buf[EGRESS_HOST_MAX + 8];
        const char *slash = strchr(text, '/');

        memset(ret, 0, sizeof *ret);
        if (strlen(text) >= sizeof buf)
                return -EINVAL;
        if (slash) {
                char *end;
                unsigned long p;
                memcpy(buf, text, (size_t)(slash - text));
                buf[slash - text] = 0;
                if (!slash[1] || slash[1] == '+' || slash[1] == '-' || (slash[1] == '0' && slash[2]))
                        return -EINVAL;
                errno = 0;
                p = strtoul(slash + 1, &end, 10);
                if (*end || errno)
                        return -EINVAL;
                /* CIDRs are written as strict addresses: no numeric tricks in a policy */
                if (inet_pton(AF_INET, buf, ret->addr) == 1)
                        ret->af = AF_INET;
                else if (inet_pton(AF_INET6, buf, ret->addr) == 1)
                        ret->af = AF_INET6;
                else
                        return -EINVAL;
                if (p > (ret->af == AF_INET ? 32u : 128u))
                        return -EINVAL;
                ret->prefix = (unsigned)p;
                for (unsigned bit = ret->prefix; bit < (ret->af == AF_INET ? 32u : 128u); bit++)
                        if (ret->addr[bit / 8] & (0x80 >> (bit % 8)))
                                return -EDOM;
                ret->kind = ER_CIDR;
                inet_ntop(ret->af, ret->addr, buf, sizeof buf);
                snprintf(ret->text, sizeof ret->text, "%s/%u", buf, ret->prefix);
                return 0;
        }
        if (text[0] == '*') {
                if (text[1] != '.' || egress_host_canon(text + 2, &h) < 0 || h.kind != EH_NAME)
                        return -EINVAL;
                ret->kind = ER_SUFFIX;
                snprintf(ret->name, sizeof ret->name, ".%s", h.name);
                snprintf(ret->text, sizeof ret->text, "*%s", ret->name);
                return 0;
        }
        if (egress_host_canon(text, &h) < 0)
                return -EINVAL;
        if (h.kind == EH_NAME) {
                ret->kind = ER_EXACT;
                memcpy(ret->name, h.name, sizeof ret->name);
        } else {
                ret->kind = ER_CIDR;
                ret->af = h.kind == EH_V4 ? AF_INET : AF_INET6;
                ret->prefix = h.kind == EH_V4 ? 32 : 128;
                memcpy(ret->addr, h.addr, 16);
        }
        snprintf(ret->text, sizeof ret->text, "%s", h.name);
        return 0;
}

static bool port_in(const struct egress_rule *r, uint16_t port, bool empty_matches) {
        if (r->n_ports == 0)
                return empty_matches;
        for (size_t i = 0; i < r->n_ports; i++)
                if (r->ports[i] == port)
                        return true;
        return false;
}

static bool name_match(const struct egress_rule *r, const char *name) {
        size_t n = strlen(name), s;
        if (r->kind == ER_EXACT)
                return strcmp(r->name, name) == 0;
        if (r->kind != ER_SUFFIX)
                return false;
        s = strlen(r->name);
        return n > s && strcmp(name + n - s, r->name) == 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned prefix) {
        unsigned full = prefix / 8, rest = prefix % 8;
        if (memcmp(a, b, full) != 0)
                return false;
        return rest == 0 || ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool cidr_match(const struct egress_rule *r, int af, const uint8_t *addr) {
        return r->kind == ER_CIDR && r->af == af && prefix_match(r->addr, addr, r->prefix);
}

enum egress_reason egress_check_host(const struct egress_rules *r, const struct egress_host *h, uint16_t port,
                                     const struct egress_rule **ret_rule) {
        const struct egress_rule *dummy;
        bool host_listed = false;
        if (!ret_rule)
                ret_rule = &dummy;
        *ret_rule = NULL;
        if (h->kind != EH_NAME) {
                /* an address asked for directly: only a CIDR rule speaks for it */
                int af = h->kind == EH_V4 ? AF_INET : AF_INET6;
                for (size_t i = 0; i < r->n_deny; i++)
                        if (cidr_match(&r->deny[i], af, h->addr) && port_in(&r->deny[i], port, true)) {
                                *ret_rule = &r->deny[i];
                                return EGR_DENY_RULE;
                        }
                for (size_t i = 0; i < r->n_allow; i++)
                        if (cidr_match(&r->allow[i], af, h->addr)) {
                                if (port_in(&r->allow[i], port, false)) {
                                        *ret_rule = &r->allow[i];
                                        return EGR_OK;
                                }
                                host_listed = true;
                                *ret_rule = &r->allow[i];
                        }
                return host_listed ? EGR_PORT : EGR_IP_LITERAL;
        }
        for (size_t i = 0; i < r->n_deny; i++)
                if (name_match(&r->deny[i], h->name) && port_in(&r->deny[i], port, true)) {
                        *ret_rule = &r->deny[i];
                        return EGR_DENY_RULE;
                }
        for (size_t i = 0; i < r->n_allow; i++)
                if (name_match(&r->allow[i], h->name)) {
                        if (port_in(&r->allow[i], port, false)) {
                                *ret_rule = &r->allow[i];
                                return EGR_OK;
                        }
                        host_listed = true;
                        *ret_rule = &r->allow[i];
                }
        return host_listed ? EGR_PORT : EGR_NOT_ALLOWED;
}

struct special {
        uint8_t a[16];
        unsigned len;
        const char *what;
};

#define V4M(a, b, c, d) \
        { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d }
/* IPv4 entries are stored as ::ffff:a.b.c.d with the prefix + 96. */
static const struct special specials[] = {
        { V4M(0, 0, 0, 0), 96 + 8, "this-network" },
        { V4M(127, 0, 0, 0), 96 + 8, "loopback" },
        { V4M(10, 0, 0, 0), 96 + 8, "private" },
        { V4M(172, 16, 0, 0), 96 + 12, "private" },
        { V4M(192, 168, 0, 0), 96 + 16, "private" },
        { V4M(100, 64, 0, 0), 96 + 10, "shared" },
        { V4M(169, 254, 0, 0), 96 + 16, "link-local" }, /* 169.254.169.254: cloud metadata */
        { V4M(192, 0, 0, 0), 96 + 24, "reserved" },
        { V4M(192, 0, 2, 0), 96 + 24, "documentation" },
        { V4M(198, 51, 100, 0), 96 + 24, "documentation" },
        { V4M(203, 0, 113, 0), 96 + 24, "documentation" },
        { V4M(198, 18, 0, 0), 96 + 15, "benchmark" },
        { V4M(224, 0, 0, 0), 96 + 4, "multicast" },
        { V4M(240, 0, 0, 0), 96 + 4, "reserved" }, /* includes 255.255.255.255 */
        { { 0 }, 128, "unspecified" },
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, "loopback" },
        { { 0 }, 96, "ipv4-compatible" },
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, "ipv4-mapped" },
        { { 0x00, 0x64, 0xff, 0x9b }, 96, "nat64" },
        { { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, "nat64" },
        { { 0x01, 0x00 }, 64, "discard" },
        { { 0x20, 0x01, 0x00, 0x00 }, 32, "teredo" },
        { { 0x20, 0x01, 0x0d, 0xb8 }, 32, "documentation" },
        { { 0x20, 0x02 }, 16, "6to4" },
        { { 0xfc }, 7, "unique-local" }, /* includes fd00:ec2::254 */
        { { 0xfe, 0x80 }, 10, "link-local" },
        { { 0xfe, 0xc0 }, 10, "site-local" },
        { { 0xff }, 8, "multicast" },
};

static void to16(int af, const uint8_t *addr, uint8_t out[16]) {
        if (af == AF_INET) {
                static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
                memcpy(out, pre, 12);
                memcpy(out + 12, addr, 4);
        } else
                memcpy(out, addr, 16);
}

const char *egress_addr_class(int af, const uint8_t *addr) {
        uint8_t a[16];
        to16(af, addr, a);
        /* an IPv6 socket address in ::ffff:0:0/96 is classified as mapped,
         * never as the IPv4 address it carries: the policy must say so */
        if (af == AF_INET6 && prefix_match(a, specials[17].a, 96))
                return "ipv4-mapped";
        for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
                if (af == AF_INET && specials[i].len <= 96)
                        continue;
                if (af == AF_INET6 && specials[i].len > 96 && i < 14)
                        continue;
                if (prefix_match(a, specials[i].a, specials[i].len))
                        return specials[i].what;
        }
        return NULL;
}

enum egress_reason egress_check_addr(const struct egress_rules *r, int af, const uint8_t *addr, uint16_t port,
                                     const uint8_t (*own)[16], size_t n_own, const struct egress_rule **ret_rule) {
        const struct egress_rule *dummy;
        uint8_t a[16];
        if (!ret_rule)
                ret_rule = &dummy;
        *ret_rule = NULL;
        for (size_t i = 0; i < r->n_deny; i++)
                if (cidr_match(&r->deny[i], af, addr) && port_in(&r->deny[i], port, true)) {
                        *ret_rule = &r->deny[i];
                        return EGR_DENY_RULE;
                }
        /* an explicit CIDR allow is the only way to a special or own address */
        for (size_t i = 0; i < r->n_allow; i++)
                if (cidr_match(&r->allow[i], af, addr) && port_in(&r->allow[i], port, false)) {
                        *ret_rule = &r->allow[i];
                        return EGR_OK;
                }
        if (egress_addr_class(af, addr))
                return EGR_ADDRESS;
        to16(af, addr, a);
        for (size_t i = 0; i < n_own; i++)
                if (memcmp(own[i], a, 16) == 0)
                        return EGR_ADDRESS;
        return EGR_OK;
}

const struct egress_pin *egress_pin_find(const struct egress_rules *r, const char *canon_name) {
        for (size_t i = 0; i < r->n_pins; i++)
                if (strcmp(r->pins[i].name, canon_name) == 0)
                        return &r->pins[i];
        return NULL;
}
