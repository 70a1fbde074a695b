/* Policy section "audit": where the collector listens, how strict delivery is, how long to wait. */
#include "policy/pol_audit.h"

#include <string.h>
#include <sys/un.h>

enum pol_audit_mode pol_audit_mode_from_name(const char *s) {
        if (!s)
                return POL_AUDIT_UNSET;
        if (strcmp(s, "required") == 0)
                return POL_AUDIT_REQUIRED;
        if (strcmp(s, "best-effort") == 0)
                return POL_AUDIT_BEST_EFFORT;
        if (strcmp(s, "off") == 0)
                return POL_AUDIT_OFF;
        return POL_AUDIT_UNSET;
}

const char *pol_audit_mode_name(enum pol_audit_mode m) {
        switch (m) {
        case POL_AUDIT_REQUIRED: return "required";
        case POL_AUDIT_BEST_EFFORT: return "best-effort";
        case POL_AUDIT_OFF: return "off";
        default: return "unset";
        }
}

int pol_audit_parse(struct jx *x, json_t *v, const char *path, struct policy_audit *ret) {
        static const char *const keys[] = { "socket", "mode", "ack_timeout_ms", "pool", NULL };
        const char *sock = NULL, *mode = NULL, *pool = NULL;
        long long timeout = POL_AUDIT_DEFAULT_TIMEOUT_MS;
        char p[512];
        int r;

        if ((r = jx_object(x, v, path, keys)) < 0 || (r = jx_string(x, v, path, "socket", false, &sock)) < 0 ||
            (r = jx_string(x, v, path, "mode", false, &mode)) < 0 ||
            (r = jx_string(x, v, path, "pool", false, &pool)) < 0 ||
            (r = jx_int(x, v, path, "ack_timeout_ms", false, 1, 600000, &timeout)) < 0)
                return r;
        if (sock && (sock[0] != '/' || strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
                return jx_fail(x, jx_path(p, sizeof p, path, "socket"),
                               "must be an absolute path shorter than 108 bytes");
        if (mode && (ret->mode = pol_audit_mode_from_name(mode)) == POL_AUDIT_UNSET)
                return jx_fail(x, jx_path(p, sizeof p, path, "mode"),
                               "must be \"required\", \"best-effort\" or \"off\"");
        if (pool && !slug_valid(pool))
                return jx_fail(x, jx_path(p, sizeof p, path, "pool"), "not a valid slug (^[a-z0-9][a-z0-9_-]{1,62}$)");
        ret->ack_timeout_ms = (int)timeout;
        if ((sock && (r = jx_strdup(x, path, sock, &ret->socket)) < 0) ||
            (pool && (r = jx_strdup(x, path, pool, &ret->pool)) < 0))
                return r;
        return 0;
}

void pol_audit_free(struct policy_audit *a) {
        free(a->socket);
        free(a->pool);
        a->socket = a->pool = NULL;
}
