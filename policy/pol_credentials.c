/* Policy section "credentials" (placeholder: accepts only an empty object until its issue lands). */
#include "policy/pol_credentials.h"

int pol_credentials_parse(struct jx *x, json_t *v, const char *path, struct policy_credentials *ret) {
        static const char *const keys[] = { NULL };
        (void)ret;
        return jx_object(x, v, path, keys);
}

void pol_credentials_free(struct policy_credentials *c) {
        (void)c;
}
