/* The normal run: profiles, the two-tenant fleet through the real sealrun, and what is checked when (setup.c, fleet.c,
 * sample.c, verdict.c). */
#pragma once

#include <limits.h>

#include "helpers/leaktest/egress.h"
#include "helpers/leaktest/leaktest.h"
#include "helpers/leaktest/proxy.h"

/* Rows of the normal run, in the order they are printed. */
enum rid {
        R_SETUP,
        R_AUDITD,
        R_DELIV_A,
        R_DELIV_B,
        R_DELIV_CRASH,
        R_DELIV_BROKER,
        R_DELIV_BROKER_TLS,
        R_ENV_WORKER,
        R_ENV_SUP,
        R_ENV_INIT,
        R_ENV_HOST,
        R_ENV_OTHER,
        R_CMDLINE,
        R_MEM_WORKER,
        R_MEM_WORKER_AFTER,
        R_MEM_SUP,
        R_MEM_SUP_AFTER,
        R_MEM_INIT,
        R_MEM_INIT_AFTER,
        R_MEM_PAYLOAD,
        R_CORE_RLIMIT,
        R_CORE_DUMPABLE,
        R_CORE_DD,
        R_CORE_CRASH,
        R_FD_PAYLOAD,
        R_FD_HOST,
        R_FD_WORKER,
        R_FILE_TMP,
        R_FILE_VARTMP,
        R_FILE_RUN,
        R_FILE_SHM,
        R_FILE_STATE,
        R_FILE_MOUNTS,
        R_SWAP_PAGES,
        R_SWAP_CREDSDIR,
        R_LOG_STDERR,
        R_LOG_STATUS,
        R_LOG_AUDIT,
        R_LOG_AUDIT_NAMES,
        R_LOG_WIRE,
        R_LOG_TOOLS,
        R_LOG_VARLOG,
        R_OUTPUT,
        R_CROSS_AB,
        R_CROSS_BA,
        R_CROSS_SCOPE,
        R_UNITS,
        R_FC_TAMPERED,
        R_FC_EXPIRED,
        R_FC_REVOKED,
        R_FC_FOREIGN,
        R_FC_FOREIGN_KEY,
        R_FC_WRONG_POOL,
        R_FC_UNTRUSTED,
        R_FC_DOWN,
        R_TRIP_UNBOUND,
        R_TRIP_PLAIN,
        R_TRIP_BODY,
        R__MAX,
};

struct cred_spec {
        const char *name;
        const char *as;    /* "file", "env", "both" */
        const char *scope; /* or NULL */
        bool binary;       /* value_base64 */
        bool granted;      /* the task's scopes cover it */
        const char *bind;  /* bound to this host (brokered): the payload gets a placeholder, or NULL */
};

#define PROFILE_CREDS 8

struct profile {
        char name[32]; /* profile name in the header, and the owner's name */
        char tenant[64];
        int version;
        const char *pool;   /* whose pool key it is sealed to: "a" or "b" */
        const char *issuer; /* "issuer" (trusted) or "issuer2" (not) */
        const char *not_after;
        int owner;
        const struct cred_spec *specs;
        size_t n;
        int canary[PROFILE_CREDS];
        char sealed[PATH_MAX];
        bool ok; /* sealed */
};

enum task_kind { TK_PROBE, TK_CRASH, TK_REFUSE };

struct task {
        char id[40];
        enum task_kind kind;
        struct profile *prof;
        const char *tenant;   /* --tenant */
        const char *pool_key; /* the pool key the worker holds: "a" or "b" */
        bool key_by_fd;
        bool collector_down;
        bool proxy;           /* network mode proxy (the brokered task): f->policy_proxy */
        unsigned trip_denies; /* its audit "deny" events with reason placeholder-misdirected */
        int expect_exit;
        enum rid row; /* its own row (delivery or fail-closed) */
        /* processes */
        pid_t worker, supervisor, init;
        int wctl, wout, sock;
        char wbuf[4096];
        size_t wlen;
        /* outcomes */
        bool started, exited, worker_done, dump_done, released, inject_seen, exit_event_seen;
        int exit_code;
        char worker_fds[1024];
        char worker_error[160]; /* the worker's "error ..." line */
        char *rep;              /* the payload's "R" lines */
        size_t rep_len;
        char out[PATH_MAX], err[PATH_MAX], status[PATH_MAX];
        /* the payload's dump: "F LEN LABEL\n" then LEN bytes */
        char fhdr[4200];
        size_t fhdr_len;
        uint64_t fremain;
        bool fbody;
        struct scan_stream fstream;
        struct sink fsink;
        uint64_t dumped, frames;
};

struct fleet {
        struct lt *lt;
        struct row *rows[R__MAX];
        unsigned exercised[R__MAX];
        char why[R__MAX][512];                         /* why a row could not be checked */
        char note[R__MAX][1024];                       /* what a passing row saw */
        uint64_t bytes[R__MAX];                        /* bytes scanned for the row */
        uint64_t big_maps[R__MAX], big_rss_kb[R__MAX]; /* mappings over 1 GiB, not read */
        struct profile profiles[16];
        size_t n_profiles;
        struct task tasks[16];
        size_t n_tasks;
        struct proxy proxy;
        pid_t auditd;
        char audit_dir[PATH_MAX], collector[108], proxy_path[108], dead_socket[108];
        char bin_dir[PATH_MAX];     /* this program's directory: bound read-only at /lt */
        char payload_exe[PATH_MAX]; /* this program: the worker, and the payload */
        char payload_in[PATH_MAX];  /* the payload's path inside the sandbox */
        char policy[PATH_MAX], revoked[PATH_MAX], keys[PATH_MAX];
        char policy_proxy[PATH_MAX]; /* the same in network mode proxy, for the brokered task */
        char ca_file[PATH_MAX];      /* the test CA: the proxy policy's trust_store (unbound hosts) */
        struct tls_pki pki;          /* the test CA; also in the brokered binding's ca_pem */
        struct tls_srv srv;          /* the brokered task's bound server */
        bool srv_ready;
        char tools_log[PATH_MAX]; /* sealctl's and auditd's output */
        unsigned samples, procs_seen;
        bool sealctl_ok, auditd_ok;
        char mounts_before[1 << 16];
        /* the decrypting process as caught at "inject" */
        unsigned decrypters;
};

/* setup.c */
int setup_dir(struct fleet *f);
int setup_profiles(struct fleet *f);
int setup_policy(struct fleet *f);
int setup_auditd(struct fleet *f);
void setup_stop_auditd(struct fleet *f);
/* Run a tool, feeding it `in` on stdin; its output is appended to the tools log. Exit code or -errno. */
int run_tool(struct fleet *f, char *const argv[], const void *in, size_t in_len);

/* fleet.c */
void fleet_rows(struct fleet *f, struct report *r);
int fleet_run(struct fleet *f);
struct task *fleet_add_task(struct fleet *f, const char *id, enum task_kind kind, struct profile *p, const char *tenant,
                            const char *pool_key, enum rid row, int expect);
/* Run tasks [from, to) at once, until every worker is done (or the deadline). */
int fleet_phase(struct fleet *f, size_t from, size_t to);
void mark(struct fleet *f, enum rid r);
void why_not(struct fleet *f, enum rid r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void note(struct fleet *f, enum rid r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* sample.c: the looks from the host */
void sample_inject(struct fleet *f, struct task *t, pid_t supervisor);
void sample_running(struct fleet *f);
void sample_supervisor_after(struct fleet *f, struct task *t, pid_t supervisor);
void sample_worker_after(struct fleet *f, struct task *t);
void sample_cmdlines(struct fleet *f);
void check_decrypter(struct fleet *f, struct task *t, pid_t pid, bool honor_swap_limit);
/* Another uid (root only) tries environ, cmdline and memory of pids. */
void sample_other_uid(struct fleet *f, const pid_t *pids, size_t n);
/* Read what the payload sent (report lines, dump frames) until it would block or ends. */
void fleet_read_payload(struct fleet *f, struct task *t);
/* The relay's callback: scans every message, holds "inject" and "exit" for a look. */
void fleet_on_event(void *ud, const char *event, pid_t peer, const char *msg, size_t len);

/* verdict.c: what is checked once everything ended */
void verdict_task(struct fleet *f, struct task *t);
void verdict_tasks(struct fleet *f);
void verdict_mounts(struct fleet *f, const char *before, const char *after);
void verdict_walk(struct fleet *f, enum rid r, const char *dir, time_t since);
void verdict_scan_path(struct fleet *f, enum rid r, const char *path, const char *what);
void verdict_files(struct fleet *f);
void verdict_logs(struct fleet *f);
/* units.c: the Environment of sealrun-pool@ units, from systemctl when
 * systemd runs, else from the unit files found in dirs (NULL-terminated). */
void verdict_units(struct fleet *f, const char *const *dirs, bool ask_systemd);
void verdict_finish(struct fleet *f);
/* verdict_egress.c: the brokered task's exchange with the bound server, and the tripwire rows */
void verdict_egress(struct fleet *f, const struct task *t);
