/* sealrun-auditd's allow map: which client uid may write events for which tenants. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include "policy/util.h"

/* Parsed map. uid 0 is always allowed every tenant (root can rewrite the
 * files anyway); without a map only uid 0 is allowed. */
struct audit_allow_entry {
        uid_t uid;
        bool any;       /* "*" */
        char **tenants; /* slugs, or "_global" for events without a tenant */
        size_t n_tenants;
};

struct audit_allow {
        struct audit_allow_entry *entries;
        size_t n;
};

/* {"version":1,"allow":[{"uid":1000,"tenants":["acme","globex"]},{"uid":1001,"tenants":["*"]}]}
 * The file must be a regular file not writable by group or others. */
int audit_allow_load(const char *path, struct audit_allow **ret, struct sr_error *e);
int audit_allow_parse(const char *name, const char *buf, size_t len, struct audit_allow **ret, struct sr_error *e);
/* tenant NULL = an event without a tenant (stored in _global.jsonl). */
bool audit_allow_check(const struct audit_allow *a, uid_t uid, const char *tenant);
void audit_allow_free(struct audit_allow *a);
