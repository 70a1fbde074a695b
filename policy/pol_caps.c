/* Policy section "capabilities" (placeholder: accepts only an empty object until its issue lands). */
#include "policy/pol_caps.h"

int pol_caps_parse(struct jx *x, json_t *v, const char *path, struct policy_caps *ret) {
        static const char *const keys[] = { NULL };
        (void)ret;
        return jx_object(x, v, path, keys);
}

void pol_caps_free(struct policy_caps *c) {
        (void)c;
}
