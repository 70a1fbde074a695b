/* Policy section "network": isolation mode, addresses, hosts and resolv.conf. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

enum net_mode { NET_NONE, NET_VETH, NET_HOST };

struct policy_network {
        enum net_mode mode;
};
int pol_network_parse(struct jx *x, json_t *v, const char *path, struct policy_network *ret);
void pol_network_free(struct policy_network *n);
