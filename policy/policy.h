/* Policy document: parsed and validated from JSON into plain structs.
 * launcher/ reads these structs and never touches JSON itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "policy/util.h"
#include "policy/pol_credentials.h"
#include "policy/pol_audit.h"
#include "policy/pol_seccomp.h"
#include "policy/pol_landlock.h"
#include "policy/pol_caps.h"
#include "policy/pol_limits.h"
#include "policy/pol_network.h"
#include "policy/pol_ids.h"

#define POLICY_VERSION 1
#define POLICY_MAX_BYTES (4u << 20)

enum mount_type {
        MNT_RO_BIND,
        MNT_BIND,
        MNT_TMPFS,
        MNT_PROC,
        MNT_DEV,
        MNT_DIR,
        MNT_SYMLINK,
        MNT_FILE,
};

enum mount_idmap {
        IDMAP_NONE,
        IDMAP_REQUIRED, /* refused (77) where the kernel cannot idmap */
        IDMAP_OPTIONAL, /* bound without the idmap there, reported in not_enforced */
};

#define POLICY_MAX_WORKDIR_SOURCES 64

/* "workdir": where --workdir HOST_DIR is bound read-write (and the task
 * starts); without the key --workdir is refused. */
struct policy_workdir {
        char *path;                                /* inside the sandbox; NULL = no --workdir */
        char *sources[POLICY_MAX_WORKDIR_SOURCES]; /* host dirs HOST_DIR must be under; none = any */
        size_t n_sources;
};

struct mount_entry {
        enum mount_type type;
        char *src;     /* binds: host path; symlink: link target */
        char *dst;     /* absolute path inside the sandbox */
        char *content; /* file: contents */
        size_t content_len;
        unsigned mode;           /* dir/file/tmpfs mode; 0 = default */
        unsigned long long size; /* tmpfs size in bytes; 0 = default */
        bool optional;           /* binds: a missing source is skipped, not an error */
        enum mount_idmap idmap;  /* binds: map the source's owner to the sandbox's ids */
        bool from_cli;           /* added by a command-line flag (--bind, --tmpfs, --workdir, ...) */
        /* "landlock": false: the entry implies no Landlock access for its
         * dst (binds imply read, plus write unless ro; tmpfs read and write) */
        bool no_landlock;
        bool absent; /* the plan's copy only: an optional source was missing, nothing was bound */
};

struct env_set {
        char *name;
        char *value;
};

struct policy {
        char *file; /* path it was loaded from (for messages) */
        int version;
        char *tenant; /* optional: policy bound to one tenant */

        /* namespaces: user, mount and pid are always on (the design relies
         * on them); the others may be turned off explicitly. */
        bool ns_net, ns_ipc, ns_uts, ns_cgroup;
        /* "user": "optional": a root caller that cannot create a user
         * namespace launches without one (docs/where-it-runs.md) */
        bool userns_optional;

        char *hostname;
        uid_t uid; /* ids inside the sandbox */
        gid_t gid;
        uid_t host_uid; /* host ids they map to when run as root */
        gid_t host_gid;

        struct mount_entry *mounts;
        size_t n_mounts;
        bool root_readonly;
        bool allow_extra_binds;
        bool allow_tty;
        char *chdir;
        struct policy_workdir workdir;

        char **env_pass; /* names copied from the caller's env */
        size_t n_env_pass;
        struct env_set *env_set; /* fixed values */
        size_t n_env_set;

        struct policy_credentials credentials;
        struct policy_audit audit;
        struct policy_seccomp seccomp;
        struct policy_landlock landlock;
        struct policy_caps caps;
        struct policy_limits limits;
        struct policy_network network;
        struct policy_tenant_ids tenant_ids;
};

/* Load, resolve and validate a policy named on the command line: NULL (the
 * stock default), a stock name ("agent"), "-" or "/dev/stdin" (read once from
 * fd 0), "/dev/fd/N" (read once from fd N), or a file path. "extends" chains
 * are resolved (policy_extends.c). Errors: e filled, exit code 125, message
 * "FILE: $.json.path: problem". */
int policy_load(const char *arg, struct policy **ret, struct sr_error *e);
/* The same document, resolved and validated, as indented JSON on f
 * (sealrun --print-policy): a policy that --policy reads back unchanged. */
int policy_print(const char *arg, FILE *f, struct sr_error *e);
/* Same from a buffer (unit tests, fuzzing); `name` is used in messages.
 * "extends" is not followed here. */
int policy_parse(const char *name, const char *buf, size_t len, struct policy **ret, struct sr_error *e);
/* Validate an already merged document (no "extends" left in it). */
int policy_from_json(const char *name, json_t *root, struct policy **ret, struct sr_error *e);
/* Read a policy's bytes from an open fd (path_source: the fd was opened from
 * a path and must be a regular file; otherwise pipes and sockets are taken
 * too). The one place where policy bytes enter. */
int policy_read_fd(int fd, const char *name, bool path_source, char **ret_buf, size_t *ret_len, struct stat *ret_st,
                   struct sr_error *e);
int policy_read_file(const char *path, char **ret_buf, size_t *ret_len, struct stat *ret_st, struct sr_error *e);
/* Merge `over` into `base` (both objects) by the documented rules: objects
 * merge key by key, null deletes a key, top-level "mounts" appends (an entry
 * with a dst already in base replaces that entry), every other value (arrays
 * included) replaces. */
int policy_merge(json_t *base, json_t *over);
/* The fd a --policy argument names ("-", "/dev/stdin", "/dev/fd/N",
 * "/proc/self/fd/N"), or -1 when it names none. */
int policy_source_fd(const char *arg);
/* A stock policy name: [a-z0-9][a-z0-9_-]{0,63}, no '/', no ".json". */
bool policy_stock_name_valid(const char *s);
/* Path of the stock policy NAME (installed, else next to the build tree). */
int policy_stock_path(const char *name, char *buf, size_t size);
void policy_free(struct policy *p);
/* Path of the stock default policy (installed or in the source tree). */
const char *policy_default_path(void);
/* path is base or lies below it (both normalised, absolute). */
bool policy_path_under(const char *path, const char *base);
/* Absolute, normalised path inside the sandbox: starts with '/', no "..",
 * no "//", no trailing '/', <= 4095 bytes. */
bool policy_path_valid(const char *p);
