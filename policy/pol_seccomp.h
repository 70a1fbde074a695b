/* Policy section "seccomp": an OCI runtime-spec style syscall filter. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

struct policy_seccomp {
        int unused;  /* filled by the confinement issue */
};
int pol_seccomp_parse(struct jx *x, json_t *v, const char *path, struct policy_seccomp *ret);
void pol_seccomp_free(struct policy_seccomp *s);
