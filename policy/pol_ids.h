/* Policy section "tenant_ids": the host id range root allocates per-tenant blocks from. */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include "policy/jsonx.h"

/* One block per tenant: the sandbox's uid/gid N maps to FIRST+N on the host
 * (policy uid/gid are at most 65533, so every id fits in the block). */
#define POL_IDS_BLOCK 65536u
/* Default: systemd's "unused" range 0x70000000..0x7FFDFFFF (docs/UIDS-GIDS.md),
 * away from nspawn's 0x00080000..0x6FFFFFFF and the foreign range above it. */
#define POL_IDS_DEFAULT_FIRST 0x70000000u
#define POL_IDS_DEFAULT_LAST 0x7FFDFFFFu

struct policy_tenant_ids {
        uint32_t first, last; /* 0/0 in a calloc'd policy: use the defaults */
};
/* {"range": [FIRST, LAST]}: FIRST a multiple of 65536, at least 65536; the
 * range holds at least one whole block; LAST below 4294967295. */
int pol_ids_parse(struct jx *x, json_t *v, const char *path, struct policy_tenant_ids *ret);
void pol_ids_free(struct policy_tenant_ids *t);
/* The effective range (defaults applied). */
void pol_ids_range(const struct policy_tenant_ids *t, uint32_t *ret_first, uint32_t *ret_last);
