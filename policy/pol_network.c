/* Policy section "network": isolation mode (none only until the network issue lands). */
#include <string.h>
#include "policy/pol_network.h"

int pol_network_parse(struct jx *x, json_t *v, const char *path, struct policy_network *ret) {
        static const char *const keys[] = { "mode", NULL };
        const char *mode = "none";
        char p[512];
        int r = jx_object(x, v, path, keys);
        if (r < 0)
                return r;
        r = jx_string(x, v, path, "mode", false, &mode);
        if (r < 0)
                return r;
        if (strcmp(mode, "none") != 0)
                return jx_fail(x, jx_path(p, sizeof p, path, "mode"), "unknown mode \"%s\" (expected \"none\")", mode);
        ret->mode = NET_NONE;
        return 0;
}

void pol_network_free(struct policy_network *n) {
        (void)n;
}
