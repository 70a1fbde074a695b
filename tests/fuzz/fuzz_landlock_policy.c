/* libFuzzer target: the "landlock" (and "capabilities") policy section parsers, on a JSON document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_caps.h"
#include "policy/pol_landlock.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sr_error e = { 0 };
        struct jx x = { .file = "fuzz", .e = &e, .exit_code = SR_EXIT_LAUNCHER };
        struct policy_landlock l = { 0 };
        struct policy_caps c = { 0 };
        json_t *root = NULL;
        if (size > 1 << 20 || jx_load(&x, (const char *)data, size, &root) < 0)
                return 0;
        /* the same bytes as a landlock section and as a capabilities section */
        if (pol_landlock_parse(&x, root, "$.landlock", &l) == 0) {
                if (!l.set || (!l.fs && !l.net && !l.scopes) || l.n_fs_rules > LANDLOCK_MAX_FS ||
                    l.n_bind_ports > LANDLOCK_MAX_PORTS || l.n_connect_ports > LANDLOCK_MAX_PORTS)
                        abort();
                for (size_t i = 0; i < l.n_fs_rules; i++)
                        if (!policy_path_valid(l.fs_rules[i].path) || !l.fs_rules[i].access ||
                            (l.fs_rules[i].access & ~(unsigned)(LL_READ | LL_WRITE | LL_EXECUTE)))
                                abort();
        } else if (!e.msg[0] || strchr(e.msg, '\n')) {
                abort();
        }
        pol_landlock_free(&l);
        e.msg[0] = 0;
        if (pol_caps_parse(&x, root, "$.capabilities", &c) < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
                abort();
        json_decref(root);
        return 0;
}
