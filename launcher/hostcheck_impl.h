/* --check-host internals shared by hostcheck_probe.c (the probes) and hostcheck_report.c (needs, table, JSON). */
#pragma once

#include <stdbool.h>
#include "launcher/hostcheck.h"
#include "policy/policy.h"

#define HC_MAX_ITEMS 96
/* hc_run's result for a probe child killed by signal `sig` (a seccomp KILL). */
#define HC_KILLED(sig) (-(1000 + (sig)))

enum hc_state { HC_OK, HC_FAIL };

struct hc_item {
        char name[48];
        enum hc_state state;
        bool needed;      /* the policy (or every launch) needs it */
        char detail[320]; /* what was found */
        char reason[48];  /* reason code when it failed */
        char fix[320];    /* one-line fix when it failed */
};

struct hc_report {
        struct hc_item items[HC_MAX_ITEMS];
        size_t n;
        bool as_root;
        bool userns_ok; /* a user namespace with capabilities could be had */
        bool rootns_ok; /* root could create mount+pid namespaces without one */
};

/* Append an item (dropped silently past HC_MAX_ITEMS: the table is fixed). */
struct hc_item *hc_add(struct hc_report *r, const char *name, bool ok, bool needed, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void hc_set_fix(struct hc_item *it, const char *reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "Operation not permitted", or "killed by signal 31" for HC_KILLED. */
const char *hc_strerror(int r, char *buf, size_t size);

/* Run fn(arg) in a throwaway child (fork), so that namespaces, mounts and
 * filters it creates die with it. 0, -errno, or HC_KILLED(sig). */
int hc_run(int (*fn)(void *), void *arg);

/* The probes: each adds its items to r. */
void hc_probe_namespaces(struct hc_report *r, const struct policy *p);
void hc_probe_kernel(struct hc_report *r, const struct policy *p);
void hc_probe_cgroup(struct hc_report *r, const struct policy *p);
void hc_probe_security(struct hc_report *r);
