/* libFuzzer target: the sealed-profile envelope parser (outside input read by the supervisor). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct profile_envelope *env = NULL, *again = NULL;
        struct sr_error e = { 0 };
        struct sr_key issuer = { .kind = KEY_ISSUER_PUBLIC };
        char *txt = NULL;
        size_t len;

        if (profile_parse("fuzz", (const char *)data, size, &env, &e) < 0) {
                /* every refusal is a 77 with a message, never a crash */
                if (e.exit_code != SR_EXIT_REFUSED && e.exit_code != SR_EXIT_LAUNCHER)
                        abort();
                if (!e.msg[0])
                        abort();
                return 0;
        }
        /* accepted envelopes re-serialise canonically and parse to the same header */
        if (profile_format(env, &txt, &len) < 0)
                abort();
        if (profile_parse("fuzz", txt, len, &again, &e) < 0)
                abort();
        if (memcmp(&env->h, &again->h, sizeof env->h) != 0 || env->ct_len != again->ct_len ||
            memcmp(env->ct, again->ct, env->ct_len) != 0)
                abort();
        /* a signature by a key we do not hold never verifies */
        memcpy(issuer.id, env->h.issuer, KEY_ID_BYTES);
        if (profile_verify("fuzz", env, &issuer, 1, &e) == 0)
                abort();
        char *hj = profile_header_json(env);
        free(hj);
        free(txt);
        profile_envelope_free(again);
        profile_envelope_free(env);
        return 0;
}
