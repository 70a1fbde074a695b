/* Policy section "capabilities": capabilities kept inside the user namespace. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

struct policy_caps {
        int unused;  /* filled by the confinement issue */
};
int pol_caps_parse(struct jx *x, json_t *v, const char *path, struct policy_caps *ret);
void pol_caps_free(struct policy_caps *c);
