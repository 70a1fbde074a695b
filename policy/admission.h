/* Admission of a sealed profile: a pure decision from its header, the keys, the trust set, the revocation lists and the
 * time. */
#pragma once

#include <stdint.h>

#include "policy/profile.h"

#define ADMISSION_MAX_LISTS 4

struct admission_input {
        const char *name;                   /* the profile as named in messages (its path) */
        const struct profile_envelope *env; /* parsed, header and signature not yet trusted */
        const char *task_tenant;            /* the task's tenant (resolved) */
        const char *policy_tenant;          /* the policy's tenant, or NULL */
        const char *policy_file;
        const uint8_t *pool_key_id;   /* id of the pool key the task was given */
        const char *pool_key_name;    /* "--key PATH" / "--key-fd N" */
        const struct sr_key *trusted; /* issuer public keys the task may trust */
        size_t n_trusted;
        const struct revocation_list *lists[ADMISSION_MAX_LISTS];
        const char *list_names[ADMISSION_MAX_LISTS];
        size_t n_lists;
        int64_t now; /* Unix seconds */
};

/* 0 when the profile may be used; else -errno with e filled (exit 77), the
 * reason one of: cross-tenant, wrong-recipient, untrusted-issuer,
 * bad-signature, expired, not-yet-valid, revoked. No I/O: every input is
 * loaded by the caller. Checked in that order, so that the cheapest and
 * most telling refusal wins. */
int admission_check(const struct admission_input *in, struct sr_error *e);
