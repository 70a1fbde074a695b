/* Policy section "seccomp" (placeholder: accepts only an empty object until its issue lands). */
#include "policy/pol_seccomp.h"

int pol_seccomp_parse(struct jx *x, json_t *v, const char *path, struct policy_seccomp *ret) {
        static const char *const keys[] = { NULL };
        (void)ret;
        return jx_object(x, v, path, keys);
}

void pol_seccomp_free(struct policy_seccomp *s) {
        (void)s;
}
