/* Audit client core: one connection to sealrun-auditd, each event sent and its ack awaited.
 * Used by sealrun (launcher/audit.c) and by `sealctl revoke`. */
#pragma once

#include "policy/audit_proto.h"
#include "policy/pol_audit.h"

struct audit_client;

/* Connect to PATH within timeout_ms. Errors (exit 75, reason "audit-unavailable"):
 * "audit: collector unreachable at PATH: REASON". */
int audit_client_connect(const char *path, int timeout_ms, struct audit_client **ret, struct sr_error *e);
/* Fill ev->seq (unless the caller set it: sealrun numbers a task's events
 * across connections) and ev->time (unless set), send, wait for the ack up to the timeout.
 * 0 when acknowledged (*ret_line = the line in the tenant's file, may be NULL).
 * Errors, all exit 75: -ETIMEDOUT (no ack in time), -EPIPE/-ECONNRESET
 * (collector gone; a message that could not be sent at all is retried once on
 * a new connection, one that was sent never is, so nothing is duplicated),
 * -EPERM/-EBADMSG/-EIO (collector refused: reason "audit-refused").
 * Sending again after a lost ack is safe: the collector deduplicates by
 * tenant, task, pid and seq. */
int audit_client_send(struct audit_client *c, struct audit_event *ev, uint64_t *ret_line, struct sr_error *e);
/* The two halves: number and encode (for the spool), then send an encoded
 * message and wait for the ack of seq (timeout_ms 0 = the client's). */
int audit_client_encode(struct audit_client *c, struct audit_event *ev, char **ret, size_t *ret_len,
                        struct sr_error *e);
int audit_client_send_msg(struct audit_client *c, const char *msg, size_t len, uint64_t seq, const char *name,
                          int timeout_ms, uint64_t *ret_line, struct sr_error *e);
/* Whether the last message left this process (a failure after that may still
 * have reached a collector that was only slow). */
bool audit_client_sent(const struct audit_client *c);
void audit_client_free(struct audit_client *c);

/* One `revoke` event for sealctl: tenant (NULL for a revoke by key id only),
 * profile (or NULL), version (-1 = all), key_id (or NULL), reason code (or
 * NULL). mode OFF: nothing;
 * BEST_EFFORT: a failure is reported as a warning on stderr and 0 returned;
 * REQUIRED: failure → -errno with e filled (exit 75). */
int audit_emit_revoke(const char *socket, enum pol_audit_mode mode, int timeout_ms, const char *tenant,
                      const char *profile, long long version, const char *key_id, const char *reason,
                      struct sr_error *e);
