/* Policy section "network": mode, veth pools (CIDR math, /30 slots), hosts and
 * resolv.conf entries, and the text of the generated /etc files. */
#include "policy/pol_network.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const mode_names[] = {
        [NET_NONE] = "none", [NET_VETH] = "veth", [NET_HOST] = "host", [NET_PROXY] = "proxy"
};

const char *pol_network_mode_name(enum net_mode m) {
        return (unsigned)m < ELEMENTSOF(mode_names) ? mode_names[m] : "?";
}

uint32_t net_prefix_mask(unsigned prefix) {
        return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

int net_cidr_parse(const char *s, uint32_t *ret_addr, unsigned *ret_prefix) {
        char buf[INET_ADDRSTRLEN];
        const char *slash = strchr(s, '/'), *d;
        struct in_addr in;
        unsigned prefix = 0;
        uint32_t a;

        if (!slash || (size_t)(slash - s) >= sizeof buf || !slash[1] || strlen(slash + 1) > 2)
                return -EINVAL;
        for (d = slash + 1; *d; d++) {
                if (!isdigit((unsigned char)*d))
                        return -EINVAL;
                prefix = prefix * 10 + (unsigned)(*d - '0');
        }
        if (prefix > 32 || (slash[1] == '0' && slash[2]))
                return -EINVAL;
        memcpy(buf, s, (size_t)(slash - s));
        buf[slash - s] = 0;
        /* glibc's inet_pton refuses octal-looking "010.x" and short forms */
        if (inet_pton(AF_INET, buf, &in) != 1)
                return -EINVAL;
        a = ntohl(in.s_addr);
        *ret_prefix = prefix;
        *ret_addr = a & net_prefix_mask(prefix);
        return (a & ~net_prefix_mask(prefix)) ? -EDOM : 0;
}

bool net_cidr_overlap(uint32_t a, unsigned alen, uint32_t b, unsigned blen) {
        uint32_t m = net_prefix_mask(alen < blen ? alen : blen);
        return (a & m) == (b & m);
}

const char *net_addr_str(uint32_t a, char *buf, size_t size) {
        snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
        return buf;
}

uint64_t pol_network_slot_count(const struct policy_network *n) {
        uint64_t c = 0;
        for (size_t i = 0; i < n->n_pools; i++)
                c += (uint64_t)1 << (30 - n->pools[i].prefix);
        return c;
}

int pol_network_slot(const struct policy_network *n, uint64_t idx, uint32_t *ret_net) {
        for (size_t i = 0; i < n->n_pools; i++) {
                uint64_t c = (uint64_t)1 << (30 - n->pools[i].prefix);
                if (idx < c) {
                        *ret_net = n->pools[i].addr + (uint32_t)(idx << 2);
                        return 0;
                }
                idx -= c;
        }
        return -ERANGE;
}

/* Input quoted in a message: escaped, cut at 64 bytes (sr_quote), so an
 * error stays one line whatever the policy holds. */
static const char *q(const char *s, char buf[72]) {
        return sr_quote(s, buf, 72);
}

/* IPv4 or IPv6 literal, stored in canonical form so the generated files never
 * carry text from the policy that is not an address. */
static int parse_ip(struct jx *x, const char *path, const char *s, char **ret) {
        unsigned char bin[16];
        char canon[INET6_ADDRSTRLEN], qb[72];
        int af = strchr(s, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(af, s, bin) != 1 || !inet_ntop(af, bin, canon, sizeof canon))
                return jx_fail(x, path, "\"%s\" is not an IPv4 or IPv6 address", q(s, qb));
        return jx_strdup(x, path, canon, ret);
}

/* Fixed-size array of strings, each checked by `valid`. */
static int parse_strings(struct jx *x, json_t *obj, const char *path, const char *key, size_t max,
                         int (*item)(struct jx *, const char *, const char *, char **), char **out, size_t *n_out) {
        char kp[512], ip[512];
        json_t *arr = NULL;
        int r = jx_array(x, obj, path, key, false, &arr);
        if (r < 0 || !arr)
                return r;
        jx_path(kp, sizeof kp, path, key);
        if (json_array_size(arr) > max)
                return jx_fail(x, kp, "too many entries (%zu > %zu)", json_array_size(arr), max);
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *e = json_array_get(arr, i);
                jx_index(ip, sizeof ip, kp, i);
                if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
                        return jx_fail(x, ip, "expected a string");
                if ((r = item(x, ip, json_string_value(e), &out[i])) < 0)
                        return r;
                *n_out = i + 1;
        }
        return 0;
}

static int item_ip(struct jx *x, const char *path, const char *s, char **ret) {
        return parse_ip(x, path, s, ret);
}

static int item_dns_name(struct jx *x, const char *path, const char *s, char **ret) {
        char qb[72];
        if (!dns_name_valid(s))
                return jx_fail(x, path, "\"%s\" is not a valid DNS name", q(s, qb));
        return jx_strdup(x, path, s, ret);
}

/* resolv.conf option: "name" or "name:N" (ndots:2, timeout:1, edns0, rotate). */
static int item_option(struct jx *x, const char *path, const char *s, char **ret) {
        const char *c = s, *colon = strchr(s, ':');
        char qb[72];
        bool ok = *c >= 'a' && *c <= 'z' && strlen(s) <= 32;
        for (; ok && *c && c != colon; c++)
                ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
        if (ok && colon) {
                ok = colon[1] != 0 && strlen(colon + 1) <= 3;
                for (c = colon + 1; ok && *c; c++)
                        ok = isdigit((unsigned char)*c);
        }
        if (!ok)
                return jx_fail(x, path,
                               "\"%s\" is not a resolv.conf option (expected NAME or NAME:N, like \"ndots:1\")",
                               q(s, qb));
        return jx_strdup(x, path, s, ret);
}

static int parse_pools(struct jx *x, json_t *v, const char *path, struct policy_network *ret) {
        static const char *const keys[] = { "pools", NULL };
        /* ranges a veth pool must not touch: "this network", loopback,
         * multicast, reserved and limited broadcast */
        static const struct {
                uint32_t a;
                unsigned len;
                const char *what;
        } reserved[] = {
                { 0x00000000u, 8, "0.0.0.0/8 (\"this network\")" },
                { 0x7f000000u, 8, "127.0.0.0/8 (loopback)" },
                { 0xe0000000u, 4, "224.0.0.0/4 (multicast)" },
                { 0xf0000000u, 4, "240.0.0.0/4 (reserved)" },
        };
        char kp[512], ip[512], b[16], qb[72];
        json_t *arr;
        int r = jx_object(x, v, path, keys);
        if (r < 0 || (r = jx_array(x, v, path, "pools", true, &arr)) < 0)
                return r;
        jx_path(kp, sizeof kp, path, "pools");
        if (json_array_size(arr) == 0)
                return jx_fail(x, kp, "at least one pool is needed (like \"10.200.0.0/24\")");
        if (json_array_size(arr) > NET_MAX_POOLS)
                return jx_fail(x, kp, "too many pools (%zu > %d)", json_array_size(arr), NET_MAX_POOLS);
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *e = json_array_get(arr, i);
                struct net_pool *p = &ret->pools[i];
                jx_index(ip, sizeof ip, kp, i);
                if (!json_is_string(e))
                        return jx_fail(x, ip, "expected a CIDR string like \"10.200.0.0/24\"");
                r = net_cidr_parse(json_string_value(e), &p->addr, &p->prefix);
                if (r == -EDOM)
                        return jx_fail(x, ip, "\"%s\" has host bits set (did you mean %s/%u?)",
                                       q(json_string_value(e), qb), net_addr_str(p->addr, b, sizeof b), p->prefix);
                if (r < 0)
                        return jx_fail(x, ip, "\"%s\" is not an IPv4 CIDR like \"10.200.0.0/24\"",
                                       q(json_string_value(e), qb));
                if (p->prefix < NET_POOL_MIN_PREFIX || p->prefix > NET_POOL_MAX_PREFIX)
                        return jx_fail(x, ip, "prefix /%u out of range (a pool is /%d to /%d: one /30 per task)",
                                       p->prefix, NET_POOL_MIN_PREFIX, NET_POOL_MAX_PREFIX);
                for (size_t k = 0; k < ELEMENTSOF(reserved); k++)
                        if (net_cidr_overlap(p->addr, p->prefix, reserved[k].a, reserved[k].len))
                                return jx_fail(x, ip, "overlaps %s", reserved[k].what);
                for (size_t k = 0; k < i; k++)
                        if (net_cidr_overlap(p->addr, p->prefix, ret->pools[k].addr, ret->pools[k].prefix))
                                return jx_fail(x, ip, "overlaps %s[%zu] (%s/%u)", kp, k,
                                               net_addr_str(ret->pools[k].addr, b, sizeof b), ret->pools[k].prefix);
                ret->n_pools = i + 1;
        }
        return 0;
}

static int parse_hosts(struct jx *x, json_t *arr, const char *path, struct policy_network *ret) {
        static const char *const keys[] = { "address", "names", NULL };
        char ip[512], fp[512];
        size_t n = json_array_size(arr);
        if (n > NET_MAX_HOSTS)
                return jx_fail(x, path, "too many entries (%zu > %d)", n, NET_MAX_HOSTS);
        ret->hosts = calloc(n ? n : 1, sizeof *ret->hosts);
        if (!ret->hosts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);
                struct net_host_entry *h = &ret->hosts[i];
                const char *addr;
                int r;
                ret->n_hosts = i + 1;
                jx_index(ip, sizeof ip, path, i);
                if ((r = jx_object(x, e, ip, keys)) < 0 || (r = jx_string(x, e, ip, "address", true, &addr)) < 0 ||
                    (r = parse_ip(x, jx_path(fp, sizeof fp, ip, "address"), addr, &h->address)) < 0 ||
                    (r = parse_strings(x, e, ip, "names", NET_MAX_HOST_NAMES, item_dns_name, h->names, &h->n_names)) <
                            0)
                        return r;
                if (h->n_names == 0)
                        return jx_fail(x, jx_path(fp, sizeof fp, ip, "names"), "at least one name is needed");
        }
        return 0;
}

static int parse_dns(struct jx *x, json_t *v, const char *path, struct policy_network *ret) {
        static const char *const keys[] = { "nameservers", "search", "options", NULL };
        size_t total = 0;
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0 ||
            (r = parse_strings(x, v, path, "nameservers", NET_MAX_NAMESERVERS, item_ip, ret->nameservers,
                               &ret->n_nameservers)) < 0 ||
            (r = parse_strings(x, v, path, "search", NET_MAX_SEARCH, item_dns_name, ret->search, &ret->n_search)) < 0 ||
            (r = parse_strings(x, v, path, "options", NET_MAX_OPTIONS, item_option, ret->options, &ret->n_options)) < 0)
                return r;
        for (size_t i = 0; i < ret->n_search; i++)
                total += strlen(ret->search[i]) + 1;
        if (total > 256) {
                char kp[512];
                return jx_fail(x, jx_path(kp, sizeof kp, path, "search"),
                               "longer than 256 characters in all (the resolver ignores the rest)");
        }
        return 0;
}

int pol_network_mode_from_name(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(mode_names); i++)
                if (strcmp(s, mode_names[i]) == 0)
                        return (int)i;
        return -EINVAL;
}

bool pol_network_mode_allowed(const struct policy_network *n, enum net_mode m) {
        return m == n->mode || m == NET_NONE || (n->modes & (1u << m));
}

/* The policy's mode, or one a task may pick: its configuration must be here. */
static bool uses(const struct policy_network *n, enum net_mode m) {
        return n->mode == m || (n->modes & (1u << m));
}

/* "modes": ["veth", "proxy"]: what --network may choose besides the mode. */
static int parse_modes(struct jx *x, json_t *v, const char *path, struct policy_network *ret) {
        char kp[512], ip[512];
        json_t *arr = NULL;
        int r = jx_array(x, v, path, "modes", false, &arr), m;
        if (r < 0 || !arr)
                return r;
        jx_path(kp, sizeof kp, path, "modes");
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *e = json_array_get(arr, i);
                jx_index(ip, sizeof ip, kp, i);
                m = json_is_string(e) ? pol_network_mode_from_name(json_string_value(e)) : -EINVAL;
                if (m < 0)
                        return jx_fail(x, ip, "expected \"none\", \"veth\" or \"proxy\"");
                /* host shares the host's network namespace: a different
                 * sandbox (namespaces.net false), never a task's choice */
                if (m == NET_HOST)
                        return jx_fail(x, ip, "\"host\" cannot be chosen per task (set it as the mode)");
                if (ret->modes & (1u << m))
                        return jx_fail(x, ip, "listed twice");
                ret->modes |= 1u << m;
        }
        return 0;
}

int pol_network_parse(struct jx *x, json_t *v, const char *path, struct policy_network *ret) {
        static const char *const keys[] = { "mode", "modes", "veth", "hosts", "dns", "egress", NULL };
        const char *mode = "none";
        char p[512], qb[72];
        json_t *veth, *hosts = NULL, *dns, *egress;
        size_t i;
        int r;

        if ((r = jx_object(x, v, path, keys)) < 0 || (r = jx_string(x, v, path, "mode", false, &mode)) < 0 ||
            (r = jx_array(x, v, path, "hosts", false, &hosts)) < 0)
                return r;
        for (i = 0; i < ELEMENTSOF(mode_names); i++)
                if (strcmp(mode, mode_names[i]) == 0)
                        break;
        if (i == ELEMENTSOF(mode_names))
                return jx_fail(x, jx_path(p, sizeof p, path, "mode"),
                               "unknown mode \"%s\" (expected \"none\", \"veth\", \"host\" or \"proxy\")", q(mode, qb));
        ret->mode = (enum net_mode)i;
        if ((r = parse_modes(x, v, path, ret)) < 0)
                return r;

        veth = json_object_get(v, "veth");
        if (uses(ret, NET_VETH) && !veth)
                return jx_fail(x, jx_path(p, sizeof p, path, "veth"),
                               "missing: mode \"veth\" needs {\"pools\": [\"CIDR\", ...]}");
        if (!uses(ret, NET_VETH) && veth)
                return jx_fail(x, jx_path(p, sizeof p, path, "veth"),
                               "only mode \"veth\" takes address pools (as the mode or listed in \"modes\")");
        if (veth && (r = parse_pools(x, veth, jx_path(p, sizeof p, path, "veth"), ret)) < 0)
                return r;
        if (hosts && (r = parse_hosts(x, hosts, jx_path(p, sizeof p, path, "hosts"), ret)) < 0)
                return r;
        egress = json_object_get(v, "egress");
        if (uses(ret, NET_PROXY) && !egress)
                return jx_fail(x, jx_path(p, sizeof p, path, "egress"),
                               "missing: mode \"proxy\" needs {\"allow\": [{\"host\": ...}]}");
        if (!uses(ret, NET_PROXY) && egress)
                return jx_fail(x, jx_path(p, sizeof p, path, "egress"),
                               "only mode \"proxy\" takes egress rules (as the mode or listed in \"modes\")");
        if (egress && (r = pol_egress_parse(x, egress, jx_path(p, sizeof p, path, "egress"), &ret->egress)) < 0)
                return r;
        dns = json_object_get(v, "dns");
        if (dns && (r = parse_dns(x, dns, jx_path(p, sizeof p, path, "dns"), ret)) < 0)
                return r;
        if (uses(ret, NET_PROXY) && ret->n_nameservers)
                return jx_fail(x, jx_path(p, sizeof p, path, "dns.nameservers"),
                               "mode \"proxy\" answers names itself (use network.egress.resolve to pin a name)");
        return 0;
}

void pol_network_free(struct policy_network *n) {
        for (size_t i = 0; i < n->n_hosts; i++) {
                free(n->hosts[i].address);
                for (size_t k = 0; k < n->hosts[i].n_names; k++)
                        free(n->hosts[i].names[k]);
        }
        free(n->hosts);
        for (size_t i = 0; i < n->n_nameservers; i++)
                free(n->nameservers[i]);
        for (size_t i = 0; i < n->n_search; i++)
                free(n->search[i]);
        for (size_t i = 0; i < n->n_options; i++)
                free(n->options[i]);
        pol_egress_free(&n->egress);
        n->hosts = NULL;
        n->n_hosts = n->n_nameservers = n->n_search = n->n_options = 0;
}

static int memstream_done(FILE *f, char **buf, char **ret) {
        if (ferror(f)) {
                fclose(f);
                free(*buf);
                return -ENOMEM;
        }
        if (fclose(f) != 0) {
                free(*buf);
                return -ENOMEM;
        }
        *ret = *buf;
        return 0;
}

int pol_network_hosts_file(const struct policy_network *n, const char *hostname, char **ret) {
        char *buf = NULL;
        size_t len;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fputs("# generated by sealrun from the policy (network.hosts)\n"
              "127.0.0.1\tlocalhost\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n",
              f);
        /* Debian's convention: the own name resolves without DNS. A hostname
         * that is not a DNS name (the policy allows more) is left out rather
         * than written into the file's syntax. */
        if (hostname && dns_name_valid(hostname))
                fprintf(f, "127.0.1.1\t%s\n", hostname);
        for (size_t i = 0; i < n->n_hosts; i++) {
                fputs(n->hosts[i].address, f);
                for (size_t k = 0; k < n->hosts[i].n_names; k++)
                        fprintf(f, "%c%s", k ? ' ' : '\t', n->hosts[i].names[k]);
                fputc('\n', f);
        }
        return memstream_done(f, &buf, ret);
}

int pol_network_resolv_file(const struct policy_network *n, char **ret) {
        char *buf = NULL;
        size_t len;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fputs("# generated by sealrun from the policy (network.dns)\n", f);
        /* proxy mode: the only resolver is the egress responder inside */
        if (n->mode == NET_PROXY)
                fputs("nameserver 127.0.0.1\n", f);
        for (size_t i = 0; n->mode != NET_PROXY && i < n->n_nameservers; i++)
                fprintf(f, "nameserver %s\n", n->nameservers[i]);
        if (n->n_search) {
                fputs("search", f);
                for (size_t i = 0; i < n->n_search; i++)
                        fprintf(f, " %s", n->search[i]);
                fputc('\n', f);
        }
        if (n->n_options) {
                fputs("options", f);
                for (size_t i = 0; i < n->n_options; i++)
                        fprintf(f, " %s", n->options[i]);
                fputc('\n', f);
        }
        return memstream_done(f, &buf, ret);
}
