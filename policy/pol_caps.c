/* Policy section "capabilities": names validated against libcap's table. */
#include "policy/pol_caps.h"

#include <string.h>
#include <sys/capability.h>

/* A value from the input, safe to quote in a one-line message (sr_quote). */
static const char *printable(const char *s, char *buf, size_t size) {
        return sr_quote(s, buf, size);
}

int pol_caps_parse(struct jx *x, json_t *v, const char *path, struct policy_caps *ret) {
        char ip[512], low[64], q[80];
        if (!json_is_array(v))
                return jx_fail(x, path, "expected an array of capability names like [\"CAP_NET_BIND_SERVICE\"]");
        ret->keep = 0;
        for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *n = json_array_get(v, i);
                const char *s;
                cap_value_t cap;
                size_t k;
                jx_index(ip, sizeof ip, path, i);
                if (!json_is_string(n))
                        return jx_fail(x, ip, "expected a capability name");
                s = json_string_value(n);
                /* Only the CAP_ spelling: libcap would also take "all",
                 * numbers and lower case, which hide typos. */
                if (strncmp(s, "CAP_", 4) != 0 || strlen(s) >= sizeof low || strlen(s) != json_string_length(n))
                        return jx_fail(x, ip, "unknown capability \"%s\" (expected a name like CAP_NET_BIND_SERVICE)",
                                       printable(s, q, sizeof q));
                for (k = 0; s[k]; k++) {
                        if (!((s[k] >= 'A' && s[k] <= 'Z') || s[k] == '_'))
                                return jx_fail(x, ip, "unknown capability \"%s\"", printable(s, q, sizeof q));
                        low[k] = (char)(s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
                }
                low[k] = 0;
                if (cap_from_name(low, &cap) < 0 || cap < 0 || cap >= CAPS_MAX)
                        return jx_fail(x, ip, "unknown capability \"%s\" (libcap does not know it)", printable(s, q, sizeof q));
                if (ret->keep & (UINT64_C(1) << cap))
                        return jx_fail(x, ip, "\"%s\" is listed twice", s);
                ret->keep |= UINT64_C(1) << cap;
        }
        return 0;
}

void pol_caps_free(struct policy_caps *c) {
        (void)c;
}
