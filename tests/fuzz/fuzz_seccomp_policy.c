/* libFuzzer target: the OCI seccomp section parser, and libseccomp compiling whatever it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct policy_seccomp s = { 0 };
        struct sr_error e = { 0 };
        if (size > SECCOMP_PROFILE_MAX_BYTES)
                return 0;
        if (pol_seccomp_parse_buffer("fuzz", (const char *)data, size, 0, &s, &e) == 0) {
                /* invariants the compiler relies on */
                if (!s.set || s.n_rules > SECCOMP_MAX_RULES || s.n_arches > SECCOMP_MAX_ARCHES)
                        abort();
                for (size_t i = 0; i < s.n_rules; i++) {
                        const struct seccomp_rule *r = &s.rules[i];
                        unsigned seen = 0;
                        if (!r->name || r->n_args > SECCOMP_MAX_ARGS)
                                abort();
                        for (size_t k = 0; k < r->n_args; k++) {
                                if (r->args[k].index >= SECCOMP_MAX_ARGS || (seen & (1u << r->args[k].index)))
                                        abort();
                                seen |= 1u << r->args[k].index;
                        }
                }
        } else if (!e.msg[0] || strchr(e.msg, '\n')) {
                abort(); /* every refusal is one line */
        }
        pol_seccomp_free(&s);
        return 0;
}
