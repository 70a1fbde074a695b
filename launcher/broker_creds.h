/* Brokered credentials as the egress broker holds them (network mode
 * `proxy`). Loaded in the proxy process inside the sandbox, after the fork
 * and before the payload starts: the only process that ever holds a bound
 * credential's value. The payload gets the placeholders instead. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "launcher/task.h"
#include "policy/binding.h"
#include "policy/secmem.h"

struct broker_cred {
        const char *name;                      /* the credential's name in the profile */
        char placeholder[PLACEHOLDER_LEN + 1]; /* "sealrun-ph-" + 32 hex, random per task */
        const uint8_t *value;                  /* value_len bytes + NUL, in the arena */
        size_t value_len;
        struct cred_binding bind;             /* strings in the arena */
        uint64_t requests[BINDING_MAX_HOSTS]; /* injected requests per bind.hosts[i] */
};

struct broker_creds {
        struct secmem *arena; /* locked, non-dumpable; owns everything above */
        struct broker_cred *v;
        size_t n;
};

/* Proxy process: decrypt the profile and keep the bound credentials (the
 * others go to the payload as before). n == 0 when the task has none. */
int broker_creds_load(struct task *t, struct broker_creds *ret, struct sr_error *e);
/* Wipe and free (the release of the scrub). */
void broker_creds_free(struct broker_creds *b);

/* ---- added by the profile side (additions only) -------------------------
 *
 * Where it runs: egress_start_proxy (egress_init.c) opens the handoff pipe
 * (creds_handoff_pipe) before forking the proxy; the proxy child calls
 * broker_start first, before proxy_confine, and keeps the result in
 * t->broker, which egress_proxy_main (the TLS side) reads: t->broker->v[i]
 * for each bound credential. egress_proxy_main calls broker_creds_free
 * before every exit of the proxy (SIGTERM from init at the payload's end:
 * init waits for the proxy's own exit and counts it as the broker's scrub).
 *
 * Request counts (for the TLS side to fill): broker_cred.requests[i] counts
 * requests into which the value was put toward bind.hosts[i].
 * egress_proxy_main's SIGTERM exit calls broker_creds_report(t->broker,
 * dial_fd) before broker_creds_free: one struct egress_injected_msg
 * (egress.h, EGM_INJECTED) per (credential, host) with a count > 0 over the
 * dial socket, as tunnel bytes are reported. The supervisor keeps a count
 * only for a name the payload side announced as brokered and a canonical
 * host (egress_record_injected), and puts them into the status JSON
 * (credentials.injections) and the audit "scrub" event (credentials
 * entries with host and requests). */

/* The broker's start (proxy child, before it confines itself): load, then
 * write the handoff to handoff_wr and close it, also on failure (the error
 * goes over the pipe and is reported by the payload's "credentials" step).
 * handoff_wr < 0 (no profile): nothing to do, *ret is empty. */
int broker_start(struct task *t, int handoff_wr, struct broker_creds *ret);
/* The payload side (creds_stage in proxy mode): read the handoff into `m`
 * as a parsed plaintext: bound credentials come with their placeholder as
 * the value and .placeholder set, never with a value. */
struct profile_plain;
int broker_handoff_read(struct task *t, int fd, struct secmem *m, struct profile_plain *ret, struct sr_error *e);
/* Send the request counts to the supervisor over the dial socket (above). */
void broker_creds_report(const struct broker_creds *b, int fd);
/* The bound credential of that name, or NULL. */
const struct broker_cred *broker_creds_find(const struct broker_creds *b, const char *name);
