/* Policy section "landlock" (placeholder: accepts only an empty object until its issue lands). */
#include "policy/pol_landlock.h"

int pol_landlock_parse(struct jx *x, json_t *v, const char *path, struct policy_landlock *ret) {
        static const char *const keys[] = { NULL };
        (void)ret;
        return jx_object(x, v, path, keys);
}

void pol_landlock_free(struct policy_landlock *l) {
        (void)l;
}
