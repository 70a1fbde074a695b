/* Brokered credentials as the egress broker holds them (network mode
 * `proxy`). Loaded in the proxy process inside the sandbox, after the fork
 * and before the payload starts: the only process that ever holds a bound
 * credential's value. The payload gets the placeholders instead. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "launcher/task.h"
#include "policy/binding.h"
#include "policy/secmem.h"

struct broker_cred {
        const char *name;                      /* the credential's name in the profile */
        char placeholder[PLACEHOLDER_LEN + 1]; /* "sealrun-ph-" + 32 hex, random per task */
        const uint8_t *value;                  /* value_len bytes + NUL, in the arena */
        size_t value_len;
        struct cred_binding bind;             /* strings in the arena */
        uint64_t requests[BINDING_MAX_HOSTS]; /* injected requests per bind.hosts[i] */
};

struct broker_creds {
        struct secmem *arena; /* locked, non-dumpable; owns everything above */
        struct broker_cred *v;
        size_t n;
};

/* Proxy process: decrypt the profile and keep the bound credentials (the
 * others go to the payload as before). n == 0 when the task has none. */
int broker_creds_load(struct task *t, struct broker_creds *ret, struct sr_error *e);
/* Wipe and free (the release of the scrub). */
void broker_creds_free(struct broker_creds *b);
