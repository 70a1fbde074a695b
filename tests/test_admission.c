/* Unit tests: policy/admission.c, the profile admission decision, one table row per reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "policy/admission.h"

static const char *plain = "{\"tenant\":\"acme\",\"credentials\":[{\"name\":\"t\",\"value\":\"v\"}]}";

struct fx {
        struct secmem *m;
        struct sr_key pool_sk, pool_pk, iss_sk, iss_pk, other_sk, other_pk, forged_pk;
        struct profile_envelope *env;
        struct revocation_list revoked, unrelated;
        int64_t now;
};

static int setup(void **state) {
        struct fx *f = calloc(1, sizeof *f);
        struct profile_header h = { .version = 3 };
        struct sr_error e = { 0 };
        char line[128];
        f->now = (int64_t)time(NULL);
        snprintf(h.tenant, sizeof h.tenant, "acme");
        snprintf(h.profile, sizeof h.profile, "agent");
        h.issued_at = f->now - 10;
        h.not_after = f->now + 3600;
        assert_int_equal(secmem_new(8u << 20, &f->m), 0);
        assert_int_equal(key_generate(false, f->m, &f->pool_sk, &f->pool_pk), 0);
        assert_int_equal(key_generate(true, f->m, &f->iss_sk, &f->iss_pk), 0);
        assert_int_equal(key_generate(true, f->m, &f->other_sk, &f->other_pk), 0);
        /* another key under the trusted issuer's id: the signature fails */
        f->forged_pk = f->other_pk;
        memcpy(f->forged_pk.id, f->iss_pk.id, KEY_ID_BYTES);
        assert_int_equal(profile_seal(&h, &f->pool_pk, &f->iss_sk, (const uint8_t *)plain, strlen(plain), &f->env, &e),
                         0);
        snprintf(line, sizeof line, "tenant=acme profile=agent\n");
        assert_int_equal(revocation_parse("r.list", line, strlen(line), &f->revoked, &e), 0);
        snprintf(line, sizeof line, "tenant=globex\n");
        assert_int_equal(revocation_parse("u.list", line, strlen(line), &f->unrelated, &e), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;
        profile_envelope_free(f->env);
        revocation_free(&f->revoked);
        revocation_free(&f->unrelated);
        secmem_destroy(f->m);
        free(f);
        return 0;
}

enum { TRUST_ISSUER, TRUST_OTHER, TRUST_FORGED };

struct row {
        const char *what;
        const char *task_tenant, *policy_tenant;
        bool other_pool_key;
        int trust;
        int64_t dt; /* now = real now + dt */
        bool revoked_list;
        const char *reason; /* NULL: admitted */
        const char *needle;
};

static const struct row rows[] = {
        { "admitted", "acme", NULL, false, TRUST_ISSUER, 0, false, NULL, NULL },
        { "admitted, policy bound to the tenant, unrelated list", "acme", "acme", false, TRUST_ISSUER, 0, false, NULL,
          NULL },
        { "another task tenant", "globex", NULL, false, TRUST_ISSUER, 0, false, "cross-tenant",
          "but --tenant is globex" },
        { "no task tenant", NULL, NULL, false, TRUST_ISSUER, 0, false, "cross-tenant", "--tenant is (none)" },
        { "policy bound elsewhere", "acme", "globex", false, TRUST_ISSUER, 0, false, "cross-tenant",
          "is bound to globex" },
        { "another pool key", "acme", NULL, true, TRUST_ISSUER, 0, false, "wrong-recipient", "sealed to pool key" },
        { "issuer not trusted", "acme", NULL, false, TRUST_OTHER, 0, false, "untrusted-issuer", NULL },
        { "forged signature", "acme", NULL, false, TRUST_FORGED, 0, false, "bad-signature", NULL },
        { "expired", "acme", NULL, false, TRUST_ISSUER, 7200, false, "expired", NULL },
        { "not yet valid", "acme", NULL, false, TRUST_ISSUER, -(PROFILE_SKEW_S + 3600), false, "not-yet-valid", NULL },
        { "revoked", "acme", NULL, false, TRUST_ISSUER, 0, true, "revoked", "in r.list" },
        /* order: the tenant is refused before anything else is looked at */
        { "cross-tenant wins over expired and revoked", "globex", NULL, true, TRUST_OTHER, 7200, true, "cross-tenant",
          NULL },
        { "expired wins over revoked", "acme", NULL, false, TRUST_ISSUER, 7200, true, "expired", NULL },
};

static void test_table(void **state) {
        struct fx *f = *state;
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                const struct row *w = &rows[i];
                const struct sr_key *trust = w->trust == TRUST_ISSUER  ? &f->iss_pk
                                             : w->trust == TRUST_OTHER ? &f->other_pk
                                                                       : &f->forged_pk;
                struct admission_input in = {
                        .name = "p.sealed",
                        .env = f->env,
                        .task_tenant = w->task_tenant,
                        .policy_tenant = w->policy_tenant,
                        .policy_file = "p.json",
                        .pool_key_id = w->other_pool_key ? f->other_pk.id : f->pool_pk.id,
                        .pool_key_name = "--key k",
                        .trusted = trust,
                        .n_trusted = 1,
                        .now = f->now + w->dt,
                        .lists = { &f->unrelated, w->revoked_list ? &f->revoked : NULL },
                        .list_names = { "u.list", "r.list" },
                        .n_lists = 2,
                };
                struct sr_error e = { 0 };
                int r = admission_check(&in, &e);
                if (!w->reason) {
                        if (r != 0)
                                fail_msg("row \"%s\": refused (%s: %s)", w->what, e.reason, e.msg);
                        continue;
                }
                if (r >= 0 || e.exit_code != SR_EXIT_REFUSED || strcmp(e.reason, w->reason) != 0)
                        fail_msg("row \"%s\": got %d exit %d reason \"%s\", want 77 \"%s\"", w->what, r, e.exit_code,
                                 e.reason, w->reason);
                if (w->needle && !strstr(e.msg, w->needle))
                        fail_msg("row \"%s\": message \"%s\" lacks \"%s\"", w->what, e.msg, w->needle);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
