/* Policy section "capabilities": the capability names kept (inside the sandbox's user namespace). */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include "policy/jsonx.h"

#define CAPS_MAX 64

struct policy_caps {
        uint64_t keep; /* bit N = capability N is kept in every set */
};
/* The section is an array of names: ["CAP_NET_BIND_SERVICE", ...]; [] keeps none. */
int pol_caps_parse(struct jx *x, json_t *v, const char *path, struct policy_caps *ret);
void pol_caps_free(struct policy_caps *c);
/* "CAP_NET_ADMIN" → its number; only the CAP_ spelling. -EINVAL: not a
 * capability libcap knows (also used by the seccomp dialects' "caps"). */
int pol_caps_lookup(const char *name, int *ret);
