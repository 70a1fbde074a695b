/* Policy section "audit": collector socket, mode (required|best-effort|off), ack timeout, pool name. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

/* Zero means "not in the policy", so a policy without the section (calloc'd)
 * reads as unset everywhere. Ordered from weakest to strictest. */
enum pol_audit_mode { POL_AUDIT_UNSET = 0, POL_AUDIT_OFF, POL_AUDIT_BEST_EFFORT, POL_AUDIT_REQUIRED };

#define POL_AUDIT_DEFAULT_TIMEOUT_MS 5000

struct policy_audit {
        char *socket;             /* NULL = the CLI's or the default; when set, pinned */
        enum pol_audit_mode mode; /* UNSET = required with a profile, else off */
        int ack_timeout_ms;       /* per event; 0 = default (5000) */
        char *pool;               /* slug stamped into events, or NULL */
};
int pol_audit_parse(struct jx *x, json_t *v, const char *path, struct policy_audit *ret);
void pol_audit_free(struct policy_audit *a);
/* "required" | "best-effort" | "off" → mode, or POL_AUDIT_UNSET. */
enum pol_audit_mode pol_audit_mode_from_name(const char *s);
const char *pol_audit_mode_name(enum pol_audit_mode m);
