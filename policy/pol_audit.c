/* Policy section "audit" (placeholder: accepts only an empty object until its issue lands). */
#include "policy/pol_audit.h"

int pol_audit_parse(struct jx *x, json_t *v, const char *path, struct policy_audit *ret) {
        static const char *const keys[] = { NULL };
        (void)ret;
        return jx_object(x, v, path, keys);
}

void pol_audit_free(struct policy_audit *a) {
        (void)a;
}
