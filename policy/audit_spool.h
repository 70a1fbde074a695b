/* Audit spool: events sealrun could not deliver in time, kept in a root-owned directory until delivered.
 *
 * Only root spools. A spool must be a place no payload can write: a root
 * caller's payloads run as other host uids, so a root-owned 0700 directory
 * (verified by fd) is out of their reach. An unprivileged caller's payload
 * runs as the caller's own uid, and the kernel offers no directory that uid
 * can write but the same uid inside a sandbox cannot (a bind chosen by the
 * policy or the worker can expose any of them; a MAC key would sit in a file
 * readable the same way), so a spooled "scrub" or "exit" there could be
 * forged. Unprivileged callers therefore hold the task's exit and retry
 * within the bound instead, and the collector's "abandoned" record covers a
 * sender that vanished. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "policy/audit_proto.h"

#define AUDIT_SPOOL_DEFAULT "/var/lib/sealrun/spool"
#define AUDIT_SPOOL_ENV "SEALRUN_AUDIT_SPOOL"
/* At most this many entries (one per task); when full, a required-mode
 * launch is refused (75, reason "audit-spool-full"). */
#define AUDIT_SPOOL_MAX_ENTRIES 1024
/* One entry never grows beyond this (a task has a handful of events). */
#define AUDIT_SPOOL_MAX_BYTES (4 * AUDIT_MSG_MAX)
/* After the task ends, sealrun holds its exit at most this long to deliver
 * "scrub" and "exit" (retry with backoff) before spooling them. */
#define AUDIT_HOLD_MS 5000

/* One task's entry (the supervisor's). */
struct audit_spool_entry {
        int dirfd; /* borrowed */
        int fd;    /* -1 when none */
        char name[64];
        bool dirty; /* events added since the last commit */
};

/* Open (creating when create) the spool directory: DIR, else $SEALRUN_AUDIT_SPOOL,
 * else AUDIT_SPOOL_DEFAULT. Root only (-EPERM otherwise); refused unless
 * root-owned, a directory and without group/other access (-EPERM, e filled). */
int audit_spool_open(const char *dir, bool create, int *ret_fd, struct sr_error *e);
/* Number of entries in the directory. */
int audit_spool_count(int dirfd, size_t *ret);
/* Create this task's entry: the socket to deliver to and, when abandoned is
 * non-NULL, the record to deliver if this process dies before finishing
 * (a marker: no fsync, it matters only while the machine stays up). */
int audit_spool_begin(int dirfd, const char *socket, const struct audit_event *abandoned, struct audit_spool_entry *ret,
                      struct sr_error *e);
/* Close the entry's fd, keeping its name (no descriptor crosses into the
 * sandbox); audit_spool_reopen() opens it again in dirfd. */
void audit_spool_suspend(struct audit_spool_entry *s);
int audit_spool_reopen(int dirfd, struct audit_spool_entry *s, struct sr_error *e);
/* Append one encoded event (names only, as sent). */
int audit_spool_add(struct audit_spool_entry *s, const char *msg, size_t len, struct sr_error *e);
/* The task finished: when events were added, mark the entry complete and make
 * it durable (fdatasync, directory fsync) and keep it; otherwise remove it. */
int audit_spool_finish(struct audit_spool_entry *s, struct sr_error *e);

struct audit_flush_result {
        unsigned delivered; /* entries fully delivered and removed */
        unsigned events;    /* events acknowledged (spooled and abandoned) */
        unsigned abandoned; /* abandoned records sent for vanished owners */
        unsigned live;      /* entries of running tasks, left alone */
        unsigned left;      /* entries that could not be delivered now */
        char first_error[256];
};
/* Deliver entries (at most max_entries, within budget_ms): only those for
 * socket when it is non-NULL. An entry leaves the spool only when every one
 * of its events was acknowledged. */
int audit_spool_flush(int dirfd, const char *socket, int timeout_ms, int budget_ms, unsigned max_entries,
                      struct audit_flush_result *ret);
