/* Injection bindings of brokered credentials: where a sealed credential may
 * go (hosts, port, header), parsed from the profile plaintext by
 * profile_plain.c. A bound credential never reaches the payload: the payload
 * holds a placeholder and the egress broker (the proxy of network mode
 * `proxy`) puts the value into requests to the bound hosts only.
 *
 * Plaintext form (inside a credential of docs/profiles.md):
 *   "bind": {"hosts": ["api.example.com", "*.example.net"],   1..16, canonical
 *            "port": 443,                                       default 443
 *            "inject": "bearer" | "basic" | "header",
 *            "header": "x-api-key",                             inject=header only
 *            "user": "x-access-token",                          inject=basic only
 *            "resolve": {"api.example.com": ["127.0.0.1"]},     optional pins
 *            "ca_pem": "-----BEGIN CERTIFICATE-----..."}        optional anchors
 * The pins and anchors of a bound host come only from here: the policy's
 * `resolve` pins, CIDR allows and trust-store override do not apply to it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BINDING_MAX_HOSTS 16
#define BINDING_MAX_PINS 8      /* names under "resolve" */
#define BINDING_MAX_PIN_ADDRS 8 /* addresses per name */
#define BINDING_HEADER_MAX 64   /* header name: an HTTP token */
#define BINDING_CA_MAX (64 * 1024)
#define PLACEHOLDER_PREFIX "sealrun-ph-"
#define PLACEHOLDER_HEX 32 /* 128 random bits, never derived from the secret */
#define PLACEHOLDER_LEN (sizeof(PLACEHOLDER_PREFIX) - 1 + PLACEHOLDER_HEX)

enum binding_inject {
        BIND_BEARER = 1, /* Authorization: Bearer VALUE */
        BIND_BASIC,      /* Authorization: Basic base64(USER:VALUE) */
        BIND_HEADER,     /* HEADER: VALUE */
};

struct binding_pin {
        const char *host;                         /* canonical name, one of hosts[] */
        const char *addrs[BINDING_MAX_PIN_ADDRS]; /* IP literals */
        size_t n_addrs;
};

struct cred_binding {
        const char *hosts[BINDING_MAX_HOSTS]; /* canonical (egress_rules.c) exact names or "*.suffix" */
        size_t n_hosts;
        uint16_t port;
        enum binding_inject inject;
        const char *header; /* BIND_HEADER */
        const char *user;   /* BIND_BASIC */
        struct binding_pin pins[BINDING_MAX_PINS];
        size_t n_pins;
        const char *ca_pem; /* NULL: the host's (or the default) trust store */
};
