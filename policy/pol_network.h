/* Policy section "network": isolation mode, veth address pools, hosts and resolv.conf. */
#pragma once
#include <stdint.h>
#include <jansson.h>
#include "policy/jsonx.h"
#include "policy/pol_egress.h"

enum net_mode { NET_NONE, NET_VETH, NET_HOST, NET_PROXY };

#define NET_MAX_POOLS 16
#define NET_MAX_HOSTS 256
#define NET_MAX_HOST_NAMES 16
#define NET_MAX_NAMESERVERS 3 /* glibc's MAXNS: more are ignored */
#define NET_MAX_SEARCH 6
#define NET_MAX_OPTIONS 8
/* Smallest and largest veth pool: a pool is cut into /30s, one per task. */
#define NET_POOL_MIN_PREFIX 8
#define NET_POOL_MAX_PREFIX 30

struct net_pool {
        uint32_t addr; /* network address, host byte order */
        unsigned prefix;
};

struct net_host_entry {
        char *address; /* canonical text form */
        char *names[NET_MAX_HOST_NAMES];
        size_t n_names;
};

struct policy_network {
        enum net_mode mode;
        /* "modes": the other modes --network may pick (bit 1 << NET_*); the
         * policy's own mode and "none" are always allowed, "host" never */
        unsigned modes;
        struct net_pool pools[NET_MAX_POOLS]; /* veth only */
        size_t n_pools;
        struct net_host_entry *hosts;
        size_t n_hosts;
        char *nameservers[NET_MAX_NAMESERVERS];
        size_t n_nameservers;
        char *search[NET_MAX_SEARCH];
        size_t n_search;
        char *options[NET_MAX_OPTIONS];
        size_t n_options;
        struct policy_egress egress; /* proxy only */
};

int pol_network_parse(struct jx *x, json_t *v, const char *path, struct policy_network *ret);
void pol_network_free(struct policy_network *n);
const char *pol_network_mode_name(enum net_mode m);
/* NET_* for a mode name, or -EINVAL. */
int pol_network_mode_from_name(const char *s);
/* May a task run this policy in mode m (--network)? */
bool pol_network_mode_allowed(const struct policy_network *n, enum net_mode m);

/* "a.b.c.d/len" with len 0..32, no host bits set: 0, -EINVAL (malformed) or
 * -EDOM (host bits set; *ret_addr then holds the masked network). */
int net_cidr_parse(const char *s, uint32_t *ret_addr, unsigned *ret_prefix);
uint32_t net_prefix_mask(unsigned prefix);
bool net_cidr_overlap(uint32_t a, unsigned alen, uint32_t b, unsigned blen);
/* Dotted quad of a host-order address into buf (>= 16 bytes). */
const char *net_addr_str(uint32_t a, char *buf, size_t size);

/* Number of /30 task slots over all pools, and the /30 network address of
 * slot idx (pools in policy order): 0 or -ERANGE. */
uint64_t pol_network_slot_count(const struct policy_network *n);
int pol_network_slot(const struct policy_network *n, uint64_t idx, uint32_t *ret_net);

/* Contents of the sandbox's generated /etc/hosts and /etc/resolv.conf
 * (malloc'd, NUL-terminated): 0 or -ENOMEM. hostname may be NULL. */
int pol_network_hosts_file(const struct policy_network *n, const char *hostname, char **ret);
int pol_network_resolv_file(const struct policy_network *n, char **ret);
