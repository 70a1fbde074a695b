/* sealrun-pool: "deny" audit events for refused requests, through the shared audit client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/pool/pool.h"
#include "policy/audit_client.h"

#define POOL_AUDIT_TIMEOUT_MS 5000

struct pool_audit {
        const struct pool_config *cfg;
        struct audit_client *client; /* connected lazily, reconnected after a failure */
};

int pool_audit_open(const struct pool_config *c, struct pool_audit **ret) {
        struct pool_audit *a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->cfg = c;
        *ret = a;
        return 0;
}

int pool_audit_deny(struct pool_audit *a, const char *task, const char *reason) {
        struct audit_event ev;
        struct sr_error e = { 0 };
        const char *sock = a->cfg->audit_socket ? a->cfg->audit_socket : AUDIT_DEFAULT_SOCKET;
        int r = 0;

        if (a->cfg->audit == POOL_AUDIT_OFF)
                return 0;
        audit_event_init(&ev, AUDIT_EV_DENY);
        /* Always the pool's own tenant: the collector lets this uid write only
         * there, and the refusal is this pool's event. */
        ev.tenant = a->cfg->tenant;
        ev.pool = a->cfg->tenant;
        ev.task = task;
        ev.pid = getpid();
        ev.reason = reason;
        if (!a->client)
                r = audit_client_connect(sock, POOL_AUDIT_TIMEOUT_MS, &a->client, &e);
        if (r >= 0 && (r = audit_client_send(a->client, &ev, NULL, &e)) < 0) {
                audit_client_free(a->client);
                a->client = NULL;
        }
        if (r < 0) {
                fprintf(stderr, "sealrun-pool: %s: audit: deny event for task %s not acknowledged: %s\n",
                        a->cfg->tenant, task ? task : "(none)", e.msg[0] ? e.msg : strerror(-r));
                return r;
        }
        return 0;
}

void pool_audit_free(struct pool_audit *a) {
        if (!a)
                return;
        audit_client_free(a->client);
        free(a);
}
