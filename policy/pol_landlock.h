/* Policy section "landlock": filesystem, TCP port and scoping rules, as plain structs. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "policy/jsonx.h"

#define LANDLOCK_MAX_FS 256
#define LANDLOCK_MAX_PORTS 256

enum {
        LL_READ = 1 << 0,    /* read files, list directories */
        LL_WRITE = 1 << 1,   /* write, create, remove, rename, truncate */
        LL_EXECUTE = 1 << 2, /* execute files */
};

enum {
        LL_SCOPE_ABSTRACT_UNIX = 1 << 0, /* abstract unix sockets outside the sandbox */
        LL_SCOPE_SIGNAL = 1 << 1,        /* signals to processes outside the sandbox */
};

struct landlock_fs_rule {
        char *path;      /* absolute path inside the sandbox */
        unsigned access; /* LL_READ | LL_WRITE | LL_EXECUTE */
        bool optional;   /* a missing path is skipped and reported */
};

struct policy_landlock {
        bool set;                /* the section was given */
        bool optional;           /* whatever the kernel cannot enforce is reported, not refused */
        bool fs;                 /* filesystem access is restricted to fs_rules */
        bool fs_rights_optional; /* truncate (ABI 3) and device ioctls (ABI 5) may go unrestricted */
        struct landlock_fs_rule *fs_rules;
        size_t n_fs_rules;
        bool net; /* TCP bind/connect restricted to the ports below (ABI >= 4) */
        bool net_optional;
        uint16_t bind_ports[LANDLOCK_MAX_PORTS];
        size_t n_bind_ports;
        uint16_t connect_ports[LANDLOCK_MAX_PORTS];
        size_t n_connect_ports;
        unsigned scopes; /* LL_SCOPE_* (ABI >= 6) */
        bool scope_optional;
};

/* {"fs": [{"path": "/usr", "access": ["read", "execute"], "optional": false}],
 *  "net": {"bind": [8080], "connect": [443], "optional": false},
 *  "scope": {"abstract-unix": true, "signal": true, "optional": false},
 *  "fs_rights_optional": false, "optional": false} */
int pol_landlock_parse(struct jx *x, json_t *v, const char *path, struct policy_landlock *ret);
void pol_landlock_free(struct policy_landlock *l);
