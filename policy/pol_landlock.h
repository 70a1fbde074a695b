/* Policy section "landlock": filesystem and network rules. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

struct policy_landlock {
        int unused;  /* filled by the confinement issue */
};
int pol_landlock_parse(struct jx *x, json_t *v, const char *path, struct policy_landlock *ret);
void pol_landlock_free(struct policy_landlock *l);
