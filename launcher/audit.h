/* Audit client: events to the collector socket (launch, inject, deny, scrub, exit). */
#pragma once
#include "launcher/task.h"
#include "policy/audit_proto.h"

/* Decide the mode and socket (policy and CLI), connect when the mode is not
 * off. Mode: the policy's "audit.mode" when set (the CLI may only make it
 * stricter: weaker → 77); otherwise --audit, else "required" with a profile,
 * "best-effort" with only --audit-socket, "off" without either. A socket
 * pinned by the policy cannot be changed by --audit-socket (77).
 * required + collector unreachable → 75 with the reason. */
int audit_open(struct task *t, struct sr_error *e);
/* Each returns 0 when acked (or mode off/best-effort), -errno when a required
 * event was not acknowledged. An event that is not acknowledged is added to
 * the status JSON's audit.missing, and (unless e is given to report it) a
 * line on stderr says so. Names only, never values. */
int audit_launch(struct task *t, struct sr_error *e);
int audit_deny(struct task *t, const char *reason);
int audit_inject(struct task *t, const char *const *names, size_t n, struct sr_error *e);
/* Same with each credential's scope (scopes may be NULL, or hold NULLs). */
int audit_inject_scoped(struct task *t, const char *const *names, const char *const *scopes, size_t n,
                        struct sr_error *e);
/* ... and which of them the payload holds only as a broker placeholder
 * (brokered may be NULL): "brokered": true on those entries. */
int audit_inject_brokered(struct task *t, const char *const *names, const char *const *scopes, const bool *brokered,
                          size_t n, struct sr_error *e);
int audit_scrub(struct task *t);
/* Network mode "proxy", once per task before "exit": the hosts reached
 * (connections, bytes) and each refusal, names and reason codes only;
 * omitted counts entries beyond AUDIT_MAX_EGRESS per list. */
int audit_egress(struct task *t, const struct audit_egress_host *hosts, size_t n_hosts,
                 const struct audit_egress_denial *denied, size_t n_denied, long long omitted);
/* exit only follows a launch that went ahead; reason (may be NULL) says why
 * a launched task never ran ("interrupted-setup"). */
int audit_exit(struct task *t, const char *reason);
/* An event that is not acknowledged (and not returned as an error) is only
 * listed in audit.missing, not on stderr: the run ends in a refusal or
 * failure whose one stderr line is the contract. Without it, such events are
 * named on stderr by audit_close, after the task. */
void audit_quiet(struct task *t);
/* The launch event went ahead (an exit event is due). */
bool audit_launched(const struct task *t);
void audit_close(struct task *t);
/* Header facts for the events (called by creds once the header is checked);
 * any argument may be NULL / -1. Strings are copied. */
void audit_note_profile(struct task *t, const char *profile, long long version, const char *recipient,
                        const char *issuer);
