/* Egress rules (network mode "proxy"): host canonicalisation, rule matching,
 * address classification and the one table of egress reason codes. Pure: no
 * sockets, no resolver, so it is unit-tested and fuzzed without a network. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EGRESS_HOST_MAX 253
#define EGRESS_MAX_RULES 256
#define EGRESS_MAX_PORTS 16
#define EGRESS_MAX_PINS 64
#define EGRESS_MAX_PIN_ADDRS 8

/* Why a request was refused: the word in the status JSON, the audit event,
 * the 403/502/504 body and stderr alike (README "Egress reason codes"). */
enum egress_reason {
        EGR_OK = 0,
        EGR_NOT_ALLOWED, /* no allow rule names the host */
        EGR_DENY_RULE,   /* a deny rule matches the host or an address */
        EGR_PORT,        /* the host is allowed, the port is not */
        EGR_IP_LITERAL,  /* an address was asked for and no CIDR rule allows it */
        EGR_ADDRESS,     /* the name resolved only to denied addresses */
        EGR_BAD_HOST,    /* not a host name or address we accept (non-ASCII, syntax) */
        EGR_RESOLVE,     /* the name does not resolve */
        EGR_RESOLVE_TIMEOUT,
        EGR_CONNECT, /* every checked address refused the connection */
        EGR_CONNECT_TIMEOUT,
        EGR_CONN_LIMIT,     /* limits.connections reached */
        EGR_BYTE_LIMIT,     /* limits.bytes reached */
        EGR_BAD_REQUEST,    /* malformed or ambiguous HTTP (smuggling) */
        EGR_HEADER_TIMEOUT, /* the client did not send its request head in time */
        EGR_HEADER_SIZE,    /* request head larger than the limit */
        EGR_SNI_MISMATCH,   /* transparent path: the TLS SNI names another host than the address stands for */
        EGR_PLACEHOLDER,    /* a brokered credential's placeholder toward a host it is not bound to, or plain HTTP */
        EGR_UPSTREAM_TLS,   /* the broker's TLS to the server failed (certificate, name, handshake) */
        EGR_MEMLOCK,        /* the broker could not lock this connection's buffers (RLIMIT_MEMLOCK) */
        EGR_REASON_MAX
};
const char *egress_reason_name(enum egress_reason r);

enum egress_host_kind { EH_NAME, EH_V4, EH_V6 };

struct egress_host {
        enum egress_host_kind kind;
        char name[EGRESS_HOST_MAX + 1]; /* canonical text (lowercase name, or the address) */
        uint8_t addr[16];               /* EH_V4: 4 bytes, network order; EH_V6: 16 */
};

/* Lowercase, one trailing dot dropped, "[v6]" brackets removed; every IPv4
 * form inet_aton takes (2130706433, 0x7f.1, 0177.0.0.1) becomes a dotted
 * quad, so rules never see two spellings of one address. Non-ASCII (a
 * U-label: no IDNA here, clients send A-labels) and a name whose last label
 * is numeric but not an address are refused: 0 or -EINVAL. */
int egress_host_canon(const char *in, struct egress_host *ret);

enum egress_rule_kind { ER_EXACT, ER_SUFFIX, ER_CIDR };

struct egress_rule {
        enum egress_rule_kind kind;
        char name[EGRESS_HOST_MAX + 2]; /* EXACT: the name; SUFFIX: ".example.com" */
        int af;                         /* CIDR: AF_INET or AF_INET6 */
        uint8_t addr[16];
        unsigned prefix;
        uint16_t ports[EGRESS_MAX_PORTS]; /* empty in a deny rule = every port */
        size_t n_ports;
        char text[EGRESS_HOST_MAX + 8]; /* as written (canonical), for the 403 body */
};

/* A rule's "host" text: exact name, "*.suffix", address or CIDR. 0 or -EINVAL. */
int egress_rule_parse(const char *text, struct egress_rule *ret);

struct egress_pin {
        char name[EGRESS_HOST_MAX + 1];
        int af[EGRESS_MAX_PIN_ADDRS];
        uint8_t addr[EGRESS_MAX_PIN_ADDRS][16];
        size_t n_addrs;
};

struct egress_rules {
        struct egress_rule *allow;
        size_t n_allow;
        struct egress_rule *deny;
        size_t n_deny;
        struct egress_pin *pins;
        size_t n_pins;
};

/* Name-level decision for a canonical host and port, before resolution:
 * EGR_OK, or the reason. *ret_rule (may be NULL) names the rule that decided. */
enum egress_reason egress_check_host(const struct egress_rules *r, const struct egress_host *h, uint16_t port,
                                     const struct egress_rule **ret_rule);
/* Address-level decision for one resolved (or literal) address. own holds
 * the host's own addresses (16 bytes each; IPv4 as ::ffff:a.b.c.d). */
enum egress_reason egress_check_addr(const struct egress_rules *r, int af, const uint8_t *addr, uint16_t port,
                                     const uint8_t (*own)[16], size_t n_own, const struct egress_rule **ret_rule);
/* Why an address is special (loopback, private, ...), or NULL for a public one. */
const char *egress_addr_class(int af, const uint8_t *addr);
const struct egress_pin *egress_pin_find(const struct egress_rules *r, const char *canon_name);
