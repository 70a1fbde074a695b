/* libFuzzer target: the plaintext profile parser (runs on jansson with the locked, wiping arena). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct secmem *m = NULL;
        struct profile_plain p;
        struct sr_error e = { 0 };

        if (size > PROFILE_MAX_BYTES || secmem_new(64u << 20, &m) < 0)
                return 0;
        if (profile_plain_parse("fuzz", m, data, size, SR_EXIT_REFUSED, &p, &e) == 0) {
                /* invariants the launcher relies on */
                if (!slug_valid(p.tenant) || p.n_creds > PROFILE_MAX_CREDS)
                        abort();
                for (size_t i = 0; i < p.n_creds; i++) {
                        const struct profile_cred *c = &p.creds[i];
                        if (!cred_name_valid(c->name) || c->value[c->value_len] != 0)
                                abort();
                        if ((c->as & CRED_ENV) && (!env_name_valid(c->name) || memchr(c->value, 0, c->value_len)))
                                abort();
                        for (size_t j = 0; j < i; j++)
                                if (strcmp(p.creds[j].name, c->name) == 0)
                                        abort();
                }
        } else if (!e.msg[0]) {
                abort();
        }
        secmem_destroy(m);
        return 0;
}
