/* Policy section "credentials": trusted issuers, revocation list, scope ceiling, limits. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

struct policy_credentials {
        int unused;  /* filled by the sealed-profile issue */
};
int pol_credentials_parse(struct jx *x, json_t *v, const char *path, struct policy_credentials *ret);
void pol_credentials_free(struct policy_credentials *c);
