/* Per-tenant audit file: JSON lines linked by a BLAKE2b-256 hash chain (writer and verifier). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "policy/audit_proto.h"
#include "policy/util.h"

#define AUDIT_HASH_BYTES 32
#define AUDIT_HASH_HEX (AUDIT_HASH_BYTES * 2)
/* Name of the file that holds events not bound to a tenant (revoke by key id).
 * It cannot collide with a tenant: slugs never start with '_'. */
#define AUDIT_GLOBAL_NAME "_global"
/* A stored line never exceeds this (event + envelope). */
#define AUDIT_LINE_MAX (AUDIT_MSG_MAX + 1024)

/* Who sent the event (SO_PEERCRED at connect time). */
struct audit_peer {
        uid_t uid;
        gid_t gid;
        pid_t pid;
};

/* Writer state of one open file. */
struct audit_chain {
        int fd;
        uint64_t seq;                  /* seq of the last line, 0 for an empty series */
        char head[AUDIT_HASH_HEX + 1]; /* hash of the last line, zeros for an empty series */
        int dirfd;                     /* borrowed: where NAME.jsonl and its rotated files live */
        char name[72];
        int64_t size;     /* bytes in the live file */
        int64_t first_ms; /* receive time of the live file's first line, 0 when empty */
        /* group commit: lines written since the last sync, and the state before them */
        unsigned pending;
        uint64_t rollbacks; /* failed syncs so far: a line written before one is gone */
        int64_t synced_size, synced_first_ms;
        uint64_t synced_seq;
        char synced_head[AUDIT_HASH_HEX + 1];
};

/* Rotation: NAME.jsonl is always the live file; rotated files are
 * NAME.jsonl.000001, .000002, ... (oldest first). The chain runs on across
 * files: the first line of a file continues the previous file's seq and its
 * prev is the previous file's last hash. */
#define AUDIT_ROTATED_DIGITS 6

/* Format one line (with trailing '\n') from its parts; pure, for the writer and tests. */
int audit_chain_format(uint64_t seq, const char *prev, const char *recv, const struct audit_peer *peer,
                       const char *event_json, char **ret, size_t *ret_len);
/* Open or create DIRFD/NAME.jsonl (0640, no symlinks), drop an unacknowledged
 * torn tail, and load seq/head from the last line (of the newest rotated
 * file when the live one is empty). A last line that fails its
 * own hash refuses (-EBADMSG): never extend a broken chain. */
int audit_chain_open(int dirfd, const char *name, struct audit_chain *ret, struct sr_error *e);
/* Group commit, in two halves: write one line (advancing seq and head; on a
 * write error the partial line is cut back out and nothing advances), then
 * one sync for every line written since the last: on failure the file is cut
 * back to its size at that sync and seq/head go back with it, so none of the
 * batch may be acknowledged. */
int audit_chain_write(struct audit_chain *c, const struct audit_peer *peer, const char *event_json, uint64_t *ret_seq,
                      struct sr_error *e);
int audit_chain_sync(struct audit_chain *c, struct sr_error *e);
/* Append one event: write the whole line, fdatasync, then advance. On any
 * error the file is cut back to its previous size and nothing advances. */
int audit_chain_append(struct audit_chain *c, const struct audit_peer *peer, const char *event_json, uint64_t *ret_seq,
                       struct sr_error *e);
void audit_chain_close(struct audit_chain *c);
/* Whether the live file is due for rotation (0 = that limit is off). */
bool audit_chain_rotate_due(const struct audit_chain *c, int64_t max_bytes, int64_t max_age_ms);
/* Rename the live file to the next NAME.jsonl.NNNNNN and start an empty one;
 * seq and head carry on. */
int audit_chain_rotate(struct audit_chain *c, struct sr_error *e);
/* Rotated file number of DIR entry FN for NAME ("acme.jsonl.000003" → 3), 0 if not one. */
unsigned audit_chain_rotated_index(const char *fn, const char *name);

/* Result of checking one file. */
struct audit_verify_result {
        uint64_t lines;    /* intact lines before the first broken one */
        uint64_t bad_line; /* 1-based line number, 0 when intact */
        char why[256];
        char head[AUDIT_HASH_HEX + 1]; /* hash of the last intact line */
        uint64_t first_seq;            /* seq of the first line (0 for an empty file) */
        uint64_t last_seq;             /* seq of the last intact line */
};

/* Check every line of fd: JSON validity and strict layout, each line's own
 * hash, the link to the previous line, consecutive seq from 1, and (when
 * tenant is non-NULL) that every event belongs to that tenant. Returns 0
 * (also for a broken chain: see ret->bad_line) or -errno on read errors. */
int audit_chain_verify(int fd, const char *tenant, struct audit_verify_result *ret);
/* The same for one file of a rotated series: the first line must have seq
 * start_seq and prev start_head (start_seq 0: take whatever the first line
 * says, for a file checked on its own; ret->first_seq tells which). */
int audit_chain_verify_from(int fd, const char *tenant, uint64_t start_seq, const char *start_head,
                            struct audit_verify_result *ret);
