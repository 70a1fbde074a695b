/* One-off generator of the committed bad-profile fixtures (not built by make):
 *   cc -std=gnu11 -D_GNU_SOURCE -I. tests/data/mkfixtures.c build/libpolicy.a $(pkg-config --libs libsodium jansson) -o
 * /tmp/mkfixtures (cd tests/data && /tmp/mkfixtures) Each is sealed to sample-pool and signed by sample-issuer, so
 * sealrun's header checks pass and only what the sandbox sees after decryption is bad, or the header is validly signed
 * but out of date (sealctl refuses to make these). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/profile.h"

static int make(const char *out, const char *plain, int64_t issued, int64_t not_after, struct sr_key *pool,
                struct sr_key *iss) {
        struct profile_header h = { .version = 1, .issued_at = issued, .not_after = not_after };
        struct profile_envelope *env;
        struct sr_error e = { 0 };
        char *txt;
        size_t len;
        int fd;
        snprintf(h.tenant, sizeof h.tenant, "sample");
        snprintf(h.profile, sizeof h.profile, "sample");
        if (profile_seal(&h, pool, iss, (const uint8_t *)plain, strlen(plain), &env, &e) < 0 ||
            profile_format(env, &txt, &len) < 0) {
                fprintf(stderr, "%s: %s\n", out, e.msg);
                return 1;
        }
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write_all(fd, txt, len) < 0)
                return 1;
        close(fd);
        free(txt);
        profile_envelope_free(env);
        return 0;
}

int main(void) {
        struct secmem *m;
        struct sr_key pool, iss;
        struct sr_error e = { 0 };
        const int64_t y2026 = 1767225600, y2199 = 7226582400, y2020 = 1577836800;
        if (secmem_new(1 << 20, &m) < 0 || key_load_path("sample-pool.pub", KEY_POOL_PUBLIC, m, &pool, &e) < 0 ||
            key_load_path("sample-issuer.key", KEY_ISSUER_SECRET, m, &iss, &e) < 0) {
                fprintf(stderr, "%s\n", e.msg);
                return 1;
        }
        return make("bad-tenant.sealed",
                    "{\"tenant\":\"other\",\"credentials\":[{\"name\":\"t\",\"value\":\"FIXTURE-CANARY\"}]}", y2026,
                    y2199, &pool, &iss) |
               make("bad-dupnames.sealed",
                    "{\"tenant\":\"sample\",\"credentials\":[{\"name\":\"t\",\"value\":\"FIXTURE-CANARY\"},{\"name\":"
                    "\"t\",\"value\":\"x\"}]}",
                    y2026, y2199, &pool, &iss) |
               make("bad-name.sealed",
                    "{\"tenant\":\"sample\",\"credentials\":[{\"name\":\"../escape\",\"value\":\"FIXTURE-CANARY\"}]}",
                    y2026, y2199, &pool, &iss) |
               make("bad-json.sealed",
                    "{\"tenant\":\"sample\",\"credentials\":[{\"name\":\"t\",\"value\":\"FIXTURE-CANARY\"", y2026,
                    y2199, &pool, &iss) |
               make("expired.sealed",
                    "{\"tenant\":\"sample\",\"credentials\":[{\"name\":\"t\",\"value\":\"FIXTURE-CANARY\"}]}",
                    y2020 - 86400, y2020, &pool, &iss);
}
