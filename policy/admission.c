/* Admission of a sealed profile before any clone (see admission.h): tenant, recipient, trust, time, revocation. */
#include "policy/admission.h"

#include <errno.h>
#include <string.h>

int admission_check(const struct admission_input *in, struct sr_error *e) {
        const struct profile_header *h = &in->env->h;
        char want[KEY_ID_HEX], have[KEY_ID_HEX], what[320];
        int r;

        /* identity first: a pool never handles another tenant's profile */
        if (!in->task_tenant || strcmp(h->tenant, in->task_tenant) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "cross-tenant",
                               "%s: profile of tenant %s, but --tenant is %s", in->name, h->tenant,
                               in->task_tenant ? in->task_tenant : "(none)");
        if (in->policy_tenant && strcmp(h->tenant, in->policy_tenant) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "cross-tenant",
                               "%s: profile of tenant %s, but the policy %s is bound to %s", in->name, h->tenant,
                               in->policy_file, in->policy_tenant);
        if (memcmp(h->recipient, in->pool_key_id, KEY_ID_BYTES) != 0) {
                key_id_hex(h->recipient, want);
                key_id_hex(in->pool_key_id, have);
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "wrong-recipient",
                               "%s: sealed to pool key %s, but %s is key %s", in->name, want, in->pool_key_name, have);
        }
        if ((r = profile_verify(in->name, in->env, in->trusted, in->n_trusted, e)) < 0 ||
            (r = profile_check_time(in->name, in->env, in->now, e)) < 0)
                return r;
        for (size_t i = 0; i < in->n_lists && i < ADMISSION_MAX_LISTS; i++)
                if (in->lists[i] && revocation_match(in->lists[i], h, what, sizeof what))
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "revoked", "%s: revoked by \"%s\" in %s", in->name,
                                       what, in->list_names[i]);
        return 0;
}
