/* libFuzzer target: "extends" merging (policy_merge) and validation of the merged document, on two JSON documents. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* The input is BASE, a NUL byte, then OVER (both JSON): the base any stock
 * policy could be, the difference any policy author could write. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nul = memchr(data, 0, size);
        struct sr_error e = { 0 };
        struct jx x = { .file = "fuzz", .e = &e, .exit_code = SR_EXIT_LAUNCHER };
        struct policy *p = NULL;
        json_t *base = NULL, *over = NULL;
        if (!nul || size > 1 << 20)
                return 0;
        if (jx_load(&x, (const char *)data, (size_t)(nul - data), &base) < 0)
                return 0;
        if (jx_load(&x, (const char *)nul + 1, size - (size_t)(nul - data) - 1, &over) < 0) {
                json_decref(base);
                return 0;
        }
        if (policy_merge(base, over) == 0) {
                /* nothing of "over" that is an object may be left unmerged */
                if (!json_is_object(base))
                        abort();
                e.msg[0] = 0;
                if (policy_from_json("fuzz", base, &p, &e) == 0)
                        policy_free(p);
                else if (!e.msg[0] || strchr(e.msg, '\n'))
                        abort();
        } else if (json_is_object(base) && json_is_object(over)) {
                abort(); /* only a non-object is refused (or ENOMEM) */
        }
        json_decref(over);
        json_decref(base);
        return 0;
}
