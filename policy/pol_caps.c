/* Policy section "capabilities": names validated against libcap's table. */
#include "policy/pol_caps.h"

#include <string.h>
#include <sys/capability.h>

/* A value from the input, safe to quote in a one-line message (sr_quote). */
static const char *printable(const char *s, char *buf, size_t size) {
        return sr_quote(s, buf, size);
}

int pol_caps_lookup(const char *name, int *ret) {
        char low[64];
        cap_value_t cap;
        size_t k;
        /* Only the CAP_ spelling: libcap would also take "all", numbers and
         * lower case, which hide typos. */
        if (strncmp(name, "CAP_", 4) != 0 || strlen(name) >= sizeof low)
                return -EINVAL;
        for (k = 0; name[k]; k++) {
                if (!((name[k] >= 'A' && name[k] <= 'Z') || name[k] == '_'))
                        return -EINVAL;
                low[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
        }
        low[k] = 0;
        if (cap_from_name(low, &cap) < 0 || cap < 0 || cap >= CAPS_MAX)
                return -EINVAL;
        *ret = cap;
        return 0;
}

int pol_caps_parse(struct jx *x, json_t *v, const char *path, struct policy_caps *ret) {
        char ip[512], q[80];
        if (!json_is_array(v))
                return jx_fail(x, path, "expected an array of capability names like [\"CAP_NET_BIND_SERVICE\"]");
        ret->keep = 0;
        for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *n = json_array_get(v, i);
                const char *s;
                int cap;
                jx_index(ip, sizeof ip, path, i);
                if (!json_is_string(n))
                        return jx_fail(x, ip, "expected a capability name");
                s = json_string_value(n);
                if (strncmp(s, "CAP_", 4) != 0 || strlen(s) != json_string_length(n))
                        return jx_fail(x, ip, "unknown capability \"%s\" (expected a name like CAP_NET_BIND_SERVICE)",
                                       printable(s, q, sizeof q));
                if (pol_caps_lookup(s, &cap) < 0)
                        return jx_fail(x, ip, "unknown capability \"%s\" (libcap does not know it)",
                                       printable(s, q, sizeof q));
                if (ret->keep & (UINT64_C(1) << cap))
                        return jx_fail(x, ip, "\"%s\" is listed twice", s);
                ret->keep |= UINT64_C(1) << cap;
        }
        return 0;
}

void pol_caps_free(struct policy_caps *c) {
        (void)c;
}
