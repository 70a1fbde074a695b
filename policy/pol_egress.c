/* Policy key "network.egress": strict parsing into egress_rules, and CLI narrowing. */
#include "policy/pol_egress.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Quoted policy text: printable ASCII, cut at 64 bytes, one line. */
static const char *q(const char *s, char buf[72]) {
        size_t i = 0;
        for (; s[i] && i < 64; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        strcpy(buf + i, s[i] ? "..." : "");
        return buf;
}

static int parse_ports(struct jx *x, json_t *o, const char *path, struct egress_rule *r, bool deny) {
        char kp[512], ip[512];
        json_t *arr = NULL;
        int rc = jx_array(x, o, path, "ports", false, &arr);
        if (rc < 0)
                return rc;
        if (!arr) {
                if (!deny) { /* default: HTTPS and HTTP */
                        r->ports[0] = 443;
                        r->ports[1] = 80;
                        r->n_ports = 2;
                }
                return 0;
        }
        jx_path(kp, sizeof kp, path, "ports");
        if (json_array_size(arr) == 0 || json_array_size(arr) > EGRESS_MAX_PORTS)
                return jx_fail(x, kp, "expected 1 to %d ports", EGRESS_MAX_PORTS);
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *e = json_array_get(arr, i);
                jx_index(ip, sizeof ip, kp, i);
                if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 65535)
                        return jx_fail(x, ip, "expected a TCP port number 1..65535");
                r->ports[i] = (uint16_t)json_integer_value(e);
                r->n_ports = i + 1;
        }
        return 0;
}

static int parse_rules(struct jx *x, json_t *v, const char *path, const char *key, bool deny, struct egress_rule **ret,
                       size_t *n_ret) {
        static const char *const keys[] = { "host", "ports", NULL };
        char kp[512], ip[512], hp[512], qb[72];
        json_t *arr = NULL;
        int r = jx_array(x, v, path, key, false, &arr);
        if (r < 0 || !arr)
                return r;
        jx_path(kp, sizeof kp, path, key);
        if (json_array_size(arr) > EGRESS_MAX_RULES)
                return jx_fail(x, kp, "too many rules (%zu > %d)", json_array_size(arr), EGRESS_MAX_RULES);
        *ret = calloc(json_array_size(arr) + 1, sizeof **ret);
        if (!*ret)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *e = json_array_get(arr, i);
                struct egress_rule *er = &(*ret)[i];
                const char *host;
                jx_index(ip, sizeof ip, kp, i);
                if ((r = jx_object(x, e, ip, keys)) < 0 || (r = jx_string(x, e, ip, "host", true, &host)) < 0)
                        return r;
                jx_path(hp, sizeof hp, ip, "host");
                r = egress_rule_parse(host, er);
                if (r == -EDOM)
                        return jx_fail(x, hp, "\"%s\" has host bits set", q(host, qb));
                if (r < 0)
                        return jx_fail(x, hp,
                                       "\"%s\" is not a host name, \"*.suffix\", IP address or CIDR "
                                       "(names are ASCII: write an IDN as its xn-- form)",
                                       q(host, qb));
                if ((r = parse_ports(x, e, ip, er, deny)) < 0)
                        return r;
                *n_ret = i + 1;
        }
        return 0;
}

static int parse_pins(struct jx *x, json_t *v, const char *path, struct egress_rules *rules) {
        char kp[512], np[512], ip[512], qb[72];
        const char *name;
        json_t *obj = json_object_get(v, "resolve"), *arr;
        size_t k = 0;
        if (!obj)
                return 0;
        jx_path(kp, sizeof kp, path, "resolve");
        if (!json_is_object(obj))
                return jx_fail(x, kp, "expected an object {\"name\": [\"address\", ...]}");
        if (json_object_size(obj) > EGRESS_MAX_PINS)
                return jx_fail(x, kp, "too many names (%zu > %d)", json_object_size(obj), EGRESS_MAX_PINS);
        rules->pins = calloc(json_object_size(obj) + 1, sizeof *rules->pins);
        if (!rules->pins)
                return -ENOMEM;
        json_object_foreach(obj, name, arr) {
                struct egress_pin *p = &rules->pins[k];
                struct egress_host h;
                jx_path(np, sizeof np, kp, name);
                if (egress_host_canon(name, &h) < 0 || h.kind != EH_NAME)
                        return jx_fail(x, np, "\"%s\" is not a host name", q(name, qb));
                if (egress_pin_find(rules, h.name))
                        return jx_fail(x, np, "\"%s\" is pinned twice", q(name, qb));
                memcpy(p->name, h.name, sizeof p->name);
                if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > EGRESS_MAX_PIN_ADDRS)
                        return jx_fail(x, np, "expected 1 to %d addresses", EGRESS_MAX_PIN_ADDRS);
                for (size_t i = 0; i < json_array_size(arr); i++) {
                        json_t *e = json_array_get(arr, i);
                        const char *s = json_string_value(e);
                        jx_index(ip, sizeof ip, np, i);
                        if (!s)
                                return jx_fail(x, ip, "expected an address string");
                        if (inet_pton(AF_INET, s, p->addr[i]) == 1)
                                p->af[i] = AF_INET;
                        else if (inet_pton(AF_INET6, s, p->addr[i]) == 1)
                                p->af[i] = AF_INET6;
                        else
                                return jx_fail(x, ip, "\"%s\" is not an IPv4 or IPv6 address", q(s, qb));
                        p->n_addrs = i + 1;
                }
                rules->n_pins = ++k;
        }
        return 0;
}

static int parse_limits(struct jx *x, json_t *v, const char *path, struct policy_egress *ret) {
        static const char *const keys[] = { "connections", "connect_timeout_ms", "header_timeout_ms", "bytes", NULL };
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0 ||
            (r = jx_int(x, v, path, "connections", false, 1, 4096, &ret->max_connections)) < 0 ||
            (r = jx_int(x, v, path, "connect_timeout_ms", false, 100, 300000, &ret->connect_timeout_ms)) < 0 ||
            (r = jx_int(x, v, path, "header_timeout_ms", false, 100, 300000, &ret->header_timeout_ms)) < 0 ||
            (r = jx_int(x, v, path, "bytes", false, 0, (long long)1 << 50, &ret->max_bytes)) < 0)
                return r;
        return 0;
}

/* "passthrough": host names (exact or *.suffix) whose TLS the broker does not terminate. */
static int parse_passthrough(struct jx *x, json_t *v, const char *path, struct policy_egress *ret) {
        char kp[512], ip[560], qb[80];
        json_t *arr = NULL;
        int r;
        if ((r = jx_array(x, v, path, "passthrough", false, &arr)) < 0 || !arr)
                return r;
        jx_path(kp, sizeof kp, path, "passthrough");
        if (json_array_size(arr) > EGRESS_MAX_RULES)
                return jx_fail(x, kp, "too many names (%zu > %d)", json_array_size(arr), EGRESS_MAX_RULES);
        ret->passthrough = calloc(json_array_size(arr) + 1, sizeof *ret->passthrough);
        if (!ret->passthrough)
                return jx_fail(x, kp, "out of memory");
        for (size_t i = 0; i < json_array_size(arr); i++) {
                const char *s = json_string_value(json_array_get(arr, i));
                struct egress_rule *er = &ret->passthrough[i];
                jx_index(ip, sizeof ip, kp, i);
                if (!s)
                        return jx_fail(x, ip, "must be a string");
                if (egress_rule_parse(s, er) < 0 || er->kind == ER_CIDR)
                        return jx_fail(x, ip, "\"%s\" is not a host name or \"*.suffix\"", q(s, qb));
                ret->n_passthrough = i + 1;
        }
        return 0;
}

bool pol_egress_passthrough(const struct policy_egress *e, const char *name) {
        size_t nl = strlen(name);
        for (size_t i = 0; i < e->n_passthrough; i++) {
                const struct egress_rule *r = &e->passthrough[i];
                size_t rl = strlen(r->name);
                if (r->kind == ER_EXACT && strcmp(r->name, name) == 0)
                        return true;
                if (r->kind == ER_SUFFIX && nl > rl && strcmp(name + nl - rl, r->name) == 0)
                        return true;
        }
        return false;
}

int pol_egress_parse(struct jx *x, json_t *v, const char *path, struct policy_egress *ret) {
        static const char *const keys[] = { "allow",      "deny",        "resolve",     "limits",
                                            "proxy_port", "passthrough", "trust_store", NULL };
        char kp[512];
        long long port = EGRESS_DEFAULT_PROXY_PORT;
        const char *ts = NULL;
        json_t *lim;
        int r;

        ret->set = true;
        ret->max_connections = EGRESS_DEFAULT_CONNECTIONS;
        ret->connect_timeout_ms = EGRESS_DEFAULT_CONNECT_TIMEOUT_MS;
        ret->header_timeout_ms = EGRESS_DEFAULT_HEADER_TIMEOUT_MS;
        if ((r = jx_object(x, v, path, keys)) < 0 ||
            (r = parse_rules(x, v, path, "allow", false, &ret->rules.allow, &ret->rules.n_allow)) < 0 ||
            (r = parse_rules(x, v, path, "deny", true, &ret->rules.deny, &ret->rules.n_deny)) < 0 ||
            (r = parse_pins(x, v, path, &ret->rules)) < 0 ||
            (r = jx_int(x, v, path, "proxy_port", false, 1, 65535, &port)) < 0 ||
            (r = parse_passthrough(x, v, path, ret)) < 0 || (r = jx_string(x, v, path, "trust_store", false, &ts)) < 0)
                return r;
        if (ts && (r = jx_strdup(x, path, ts, &ret->trust_store)) < 0)
                return r;
        if (ret->trust_store && ret->trust_store[0] != '/')
                return jx_fail(x, jx_path(kp, sizeof kp, path, "trust_store"), "must be an absolute path");
        ret->proxy_port = (uint16_t)port;
        if ((lim = json_object_get(v, "limits")) &&
            (r = parse_limits(x, lim, jx_path(kp, sizeof kp, path, "limits"), ret)) < 0)
                return r;
        return 0;
}

void pol_egress_free(struct policy_egress *e) {
        free(e->rules.allow);
        free(e->rules.deny);
        free(e->rules.pins);
        free(e->passthrough);
        free(e->trust_store);
        e->trust_store = NULL;
        e->passthrough = NULL;
        e->n_passthrough = 0;
        memset(&e->rules, 0, sizeof e->rules);
}

int pol_egress_narrow(struct policy_egress *e, const char *const *names, size_t n, const char **ret_bad) {
        size_t keep = 0;
        for (size_t k = 0; k < n; k++) {
                struct egress_rule want;
                bool found = false;
                if (egress_rule_parse(names[k], &want) < 0) {
                        *ret_bad = names[k];
                        return -EINVAL;
                }
                for (size_t i = 0; i < e->rules.n_allow; i++)
                        found |= strcmp(e->rules.allow[i].text, want.text) == 0;
                if (!found) {
                        *ret_bad = names[k];
                        return -ENOENT;
                }
        }
        for (size_t i = 0; i < e->rules.n_allow; i++) {
                bool wanted = false;
                for (size_t k = 0; k < n; k++) {
                        struct egress_rule want;
                        wanted |= egress_rule_parse(names[k], &want) == 0 &&
                                  strcmp(e->rules.allow[i].text, want.text) == 0;
                }
                if (wanted)
                        e->rules.allow[keep++] = e->rules.allow[i];
        }
        e->rules.n_allow = keep;
        return 0;
}
