/* Policy section "credentials": trusted issuers, revocation list, scope ceiling, limits, delivery. */
#pragma once
#include <jansson.h>
#include "policy/jsonx.h"

#define CREDS_DEFAULT_DIR "/run/credentials"

struct policy_credentials {
        char **trusted_issuers; /* absolute paths of issuer public key files */
        size_t n_trusted_issuers;
        char *revocation_list; /* absolute path, or NULL */
        char **scope_ceiling;  /* the pool's ceiling; empty: no --scope is allowed */
        size_t n_scope_ceiling;
        size_t max_profile_bytes; /* 0 = PROFILE_MAX_BYTES; never more */
        bool allow_env;           /* env delivery at all (default false) */
        char *dir;                /* credentials dir inside the sandbox, NULL = default */
};
int pol_credentials_parse(struct jx *x, json_t *v, const char *path, struct policy_credentials *ret);
void pol_credentials_free(struct policy_credentials *c);
/* Effective values with defaults applied. */
const char *pol_credentials_dir(const struct policy_credentials *c);
size_t pol_credentials_max_bytes(const struct policy_credentials *c);
