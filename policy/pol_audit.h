/* Policy section "audit": collector socket and mode. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

struct policy_audit {
        int unused;  /* filled by the audit issue */
};
int pol_audit_parse(struct jx *x, json_t *v, const char *path, struct policy_audit *ret);
void pol_audit_free(struct policy_audit *a);
