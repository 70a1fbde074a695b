/* sealrun-pool: one tenant's worker pool (config, task requests, spool, running tasks, audit). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/util.h"

#define POOL_REQUEST_MAX (64 * 1024) /* one request file */
#define POOL_ARGV_MAX 256            /* command[] entries */
#define POOL_SCOPES_MAX 64
#define POOL_TASKS_MAX 256               /* max_tasks ceiling */
#define POOL_STATUS_MAX (256 * 1024)     /* sealrun's status stream for one task */
#define POOL_KEY_CREDENTIAL "pool.key"   /* name in $CREDENTIALS_DIRECTORY */
#define POOL_WORKDIR_MAX 1024            /* a request's workdir, relative to work_root */
#define POOL_WORK_MAX_BYTES (1ULL << 30) /* a work dir's copy: bytes of its files */
#define POOL_WORK_MAX_FILES 100000L      /* ... and entries */
#define POOL_WORK_PATH_DEFAULT "/home/sandbox/work"

enum pool_audit_mode { POOL_AUDIT_OFF, POOL_AUDIT_BEST_EFFORT, POOL_AUDIT_REQUIRED };

/* /etc/sealrun/pools/<tenant>/pool.json (docs/operations.md "Pool config"). */
struct pool_config {
        char *file; /* path it was read from (messages) */
        char *tenant;
        char *policy; /* passed to sealrun --policy */
        char **trust; /* --trust FILE... */
        size_t n_trust;
        char *revoked;              /* --revoked FILE, or NULL */
        char *profiles_dir;         /* a request's "profile" is a file name in here; NULL = no profiles */
        char *key_file;             /* pool key outside systemd (tests); $CREDENTIALS_DIRECTORY wins */
        char *spool;                /* NULL = $STATE_DIRECTORY */
        char *sealrun;              /* NULL = "sealrun" next to this binary */
        char *audit_socket;         /* NULL = sealrun's default */
        char *work_root;            /* a request's "workdir" is a directory beneath it; NULL = no work dirs */
        char *work_path;            /* where the copy appears in the sandbox (--bind, --chdir) */
        enum pool_audit_mode audit; /* for the pool's own deny events */
        long max_tasks;             /* tasks running at once (1..POOL_TASKS_MAX) */
        long timeout_s;             /* --timeout for every task, 0 = the policy's */
        long stop_grace_ms;         /* on stop: SIGTERM, wait this long, then kill the sandboxes */
        long prebuilt;              /* sandboxes kept built ahead (sealrun --prepare), 0 = none */
};

/* One task request: a single JSON object per request file. */
struct pool_request {
        char *task;
        char *tenant;
        char *profile; /* file name in profiles_dir, or NULL */
        char **scopes;
        size_t n_scopes;
        char **argv; /* NULL-terminated */
        size_t argc;
        char *workdir; /* relative to the pool's work_root, or NULL */
};

/* config.c */
int pool_config_parse(const char *name, const char *buf, size_t len, struct pool_config *ret, struct sr_error *e);
int pool_config_load(const char *path, struct pool_config *ret, struct sr_error *e);
void pool_config_free(struct pool_config *c);

/* request.c. Errors: exit 77 reason "cross-tenant" for another tenant's
 * request (checked before anything else so it is always reported as such),
 * 125 reason "bad-request" for everything else. ret->task is kept when it
 * was valid, so the refusal can name it. */
int pool_request_parse(const char *name, const char *buf, size_t len, const char *pool_tenant, struct pool_request *ret,
                       struct sr_error *e);
void pool_request_free(struct pool_request *r);
/* Profile file names: [A-Za-z0-9_.-], not starting with '.', 1..128 bytes. */
bool pool_profile_name_valid(const char *s);
/* Request file names in incoming/: "<stem>.json", stem as a task id, not starting with '.'. */
bool pool_spool_name_valid(const char *s);
/* A request's workdir: a relative path of plain components (no "", ".", "..", control bytes). */
bool pool_workdir_valid(const char *s);

/* audit.c: one "deny" event for a refused request (tenant = the pool's). */
struct pool_audit;
int pool_audit_open(const struct pool_config *c, struct pool_audit **ret);
/* 0 when acknowledged (or audit is off), -errno when the collector did not
 * acknowledge it. The request is refused either way; the status lists the
 * missing event. */
int pool_audit_deny(struct pool_audit *a, const char *task, const char *reason);
void pool_audit_free(struct pool_audit *a);

/* One running task. */
struct pool_task {
        pid_t pid;     /* sealrun; 0 = free slot */
        char *task;    /* task id */
        char *claimed; /* its request's file name in claimed/ */
        int status_fd; /* done/<task>.part: sealrun's --status-fd */
        int64_t started_ms;
        int kill_stage; /* 0 none, 1 SIGTERM sent, 2 sandbox killed, 3 sealrun killed */
        int claim_sock; /* a pre-built sandbox's claim socket, kept open while it runs (its closing cancels the
                           task); 0 = none (fd 0 is never one) */
};

/* One sandbox built ahead: sealrun --prepare --claim-fd, its socketpair's other end. */
struct pool_prebuilt {
        pid_t pid; /* 0 = empty */
        int sock;
        bool ready; /* READY received: built, claimable */
};

struct pool {
        struct pool_config cfg;
        int incoming_fd, claimed_fd, done_fd;
        char *incoming_path;
        char *done_path;
        int work_root_fd; /* -1 = no work dirs */
        dev_t work_root_dev;
        int key_dir_fd; /* $CREDENTIALS_DIRECTORY or the key file's directory; -1 = no key */
        char *key_name;
        char *sealrun;     /* binary to run */
        char *runtime_dir; /* XDG_RUNTIME_DIR for sealrun (its slot files), or NULL */
        struct pool_audit *audit;
        struct pool_task *tasks;   /* cfg.max_tasks entries */
        struct pool_prebuilt *pre; /* cfg.prebuilt entries */
        size_t running;
};

/* spool.c */
int spool_open(struct pool *p, const char *dir, struct sr_error *e);
/* Request files in incoming/, oldest first; *ret NULL-terminated, free with spool_names_free. */
int spool_scan(struct pool *p, char ***ret);
void spool_names_free(char **names);
/* Move incoming/NAME to claimed/NAME. -ENOENT: someone else took it. */
int spool_claim(struct pool *p, const char *name);
/* Read and parse claimed/NAME. */
int spool_read_request(struct pool *p, const char *name, struct pool_request *ret, struct sr_error *e);
/* Done file name for a request: "<task>" when valid, else the request file's stem. */
void spool_done_stem(const char *task, const char *name, char out[130]);
/* True when done/<stem>.json or .part exists or the task is running. */
bool spool_task_known(struct pool *p, const char *stem);
/* A refused request: audit "deny", done/<stem>.json with the refusal, claimed file removed. */
void spool_refuse(struct pool *p, const char *name, const char *task, const struct sr_error *why);
/* Requests left in claimed/ by a pool that stopped mid-task: marked interrupted (75). */
void spool_recover(struct pool *p);
/* Finish done/<stem>.part: append a final status object when sealrun wrote none
 * (exit_code and error describe why), then rename it to done/<stem>.json. */
int spool_finish(struct pool *p, const char *stem, int status_fd, int exit_code, const char *error);

/* workdir.c. Open the config's work_root, refusing one that holds any of the
 * `protect` directories (NULL entries skipped) or lies inside protect[0], the spool. */
int workdir_open_root(struct pool *p, const char *const *protect, size_t n_protect, struct sr_error *e);
/* Resolve the request's workdir beneath the work root (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV) and copy it into done/<task>.work; its
 * path in *ret_path. 77 "workdir-denied" when it does not resolve there, 125
 * "workdir" when the copy fails (the partial copy is removed). */
int workdir_prepare(struct pool *p, const char *name, const struct pool_request *rq, char **ret_path,
                    struct sr_error *e);

/* run.c */
int run_start(struct pool *p, const char *name, struct pool_request *rq, struct sr_error *e);
/* Reap exited sealrun processes and record their status. */
void run_reap(struct pool *p);
/* Stop: stage 1 SIGTERM to every sealrun; 2 SIGKILL their sandboxes; 3 SIGKILL sealrun. */
void run_stop(struct pool *p, int stage);
/* Keep cfg.prebuilt sandboxes built ahead (sealrun --prepare --claim-fd). */
void prebuilt_fill(struct pool *p);
/* Take a built one for a task: its claim socket (and *ret_pid), or -1. */
int prebuilt_take(struct pool *p, pid_t *ret_pid);
/* Tear them all down (EOF + SIGTERM, then SIGKILL after 5 s) and reap them. */
void prebuilt_stop(struct pool *p);
