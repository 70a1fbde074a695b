/* Policy key "network.egress" (mode "proxy"): allow/deny rules, resolve pins, limits. */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include "policy/egress_rules.h"
#include "policy/jsonx.h"

#define EGRESS_DEFAULT_CONNECTIONS 64
#define EGRESS_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define EGRESS_DEFAULT_HEADER_TIMEOUT_MS 10000
#define EGRESS_DEFAULT_PROXY_PORT 3128

struct policy_egress {
        bool set;
        struct egress_rules rules;
        long long max_connections;    /* concurrent tunnels per task */
        long long connect_timeout_ms; /* resolve + connect, per request */
        long long header_timeout_ms;  /* the client's request head */
        long long max_bytes;          /* both directions, whole task; 0 = no limit */
        uint16_t proxy_port;          /* 127.0.0.1:PORT inside */
        /* brokered credentials (docs/network.md "Brokered credentials") */
        struct egress_rule *passthrough; /* hosts tunneled untouched (exact or *.suffix) */
        size_t n_passthrough;
        char *trust_store; /* PEM file: anchors for unbound hosts instead of the host's store */
};

/* {"allow": [{"host": "api.example.com", "ports": [443]}, {"host": "*.example.org"},
 *            {"host": "127.0.0.0/8", "ports": [8443]}],
 *  "deny": [{"host": "evil.example.org"}],
 *  "resolve": {"api.internal": ["10.0.0.5"]},
 *  "limits": {"connections": 64, "connect_timeout_ms": 10000, "header_timeout_ms": 10000, "bytes": 0},
 *  "proxy_port": 3128,
 *  "passthrough": ["pinned.example.com", "*.example.org"],
 *  "trust_store": "/etc/sealrun/anchors.pem"} */
int pol_egress_parse(struct jx *x, json_t *v, const char *path, struct policy_egress *ret);
void pol_egress_free(struct policy_egress *e);
/* Is the canonical name one the policy marks passthrough? */
bool pol_egress_passthrough(const struct policy_egress *e, const char *canon_name);
/* Command-line narrowing: keep only allow rules whose host text equals one
 * of names (canonicalised); a name no rule allows is an error (-ENOENT,
 * *ret_bad set), never a new rule. */
int pol_egress_narrow(struct policy_egress *e, const char *const *names, size_t n, const char **ret_bad);
