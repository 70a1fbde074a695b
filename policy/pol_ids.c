/* Policy section "tenant_ids": validate the per-tenant host id range. */
#include "policy/pol_ids.h"

int pol_ids_parse(struct jx *x, json_t *v, const char *path, struct policy_tenant_ids *ret) {
        static const char *const keys[] = { "range", NULL };
        char rp[512];
        json_t *range = NULL;
        long long b[2];
        int r = jx_object(x, v, path, keys);
        if (r < 0 || (r = jx_array(x, v, path, "range", true, &range)) < 0)
                return r;
        jx_path(rp, sizeof rp, path, "range");
        if (json_array_size(range) != 2)
                return jx_fail(x, rp, "expected [FIRST, LAST] host ids");
        for (size_t i = 0; i < 2; i++) {
                json_t *n = json_array_get(range, i);
                if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) >= 0xffffffffLL)
                        return jx_fail(x, rp, "expected [FIRST, LAST] host ids (integers 0..4294967294)");
                b[i] = json_integer_value(n);
        }
        /* Below 65536 live the host's own users and nobody; blocks aligned to
         * 65536 keep "which tenant owns uid U" a division. */
        if (b[0] < POL_IDS_BLOCK || b[0] % POL_IDS_BLOCK)
                return jx_fail(x, rp, "FIRST must be a multiple of 65536, at least 65536 (host users live below)");
        if (b[1] < b[0] + POL_IDS_BLOCK - 1)
                return jx_fail(x, rp, "the range must hold at least one block of 65536 ids");
        ret->first = (uint32_t)b[0];
        ret->last = (uint32_t)b[1];
        return 0;
}

void pol_ids_free(struct policy_tenant_ids *t) {
        (void)t;
}

void pol_ids_range(const struct policy_tenant_ids *t, uint32_t *ret_first, uint32_t *ret_last) {
        *ret_first = t->first ? t->first : POL_IDS_DEFAULT_FIRST;
        *ret_last = t->first ? t->last : POL_IDS_DEFAULT_LAST;
}
