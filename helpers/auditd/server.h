/* sealrun-auditd: the collector's event loop over one listening SOCK_SEQPACKET socket. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "policy/audit_allow.h"
#include "policy/audit_chain.h"

#define AUDITD_MAX_CLIENTS 1024
#define AUDITD_MAX_OPEN_FILES 64
/* A connection silent this long is closed (sealrun reconnects when it next
 * has an event), and one uid holds at most this many: idle connections
 * cannot starve other clients of slots. */
#define AUDITD_IDLE_MS 60000
#define AUDITD_MAX_PER_UID 256
/* Rejections logged per client before it is only counted. */
#define AUDITD_LOG_PER_CLIENT 5

struct auditd_stats {
        uint64_t accepted; /* events written and acknowledged */
        uint64_t rejected; /* bad messages, refused tenants, write errors */
        uint64_t write_errors;
        uint64_t clients; /* connections served */
        uint64_t dropped; /* connections closed for misbehaving or over the limit */
};

struct auditd {
        int listen_fd;
        int dir_fd;
        const char *dir;
        const char *allow_path; /* NULL = only root */
        struct audit_allow *allow;
        int epoll_fd;
        int signal_fd;
        struct auditd_stats stats;
        struct auditd_file *files; /* open tenant files, most recently used first */
        struct auditd_client *clients;
        size_t n_files;
        size_t n_clients;
        size_t max_clients; /* below RLIMIT_NOFILE, so accept never hits EMFILE */
        bool stop;
        int64_t rotate_bytes;  /* 0: no rotation by size */
        int64_t rotate_age_ms; /* 0: no rotation by age */
};

/* Serve until SIGTERM/SIGINT (blocked by the caller and read via signalfd).
 * SIGHUP reloads the allow map, SIGUSR1 logs the counters. */
int auditd_run(struct auditd *d, struct sr_error *e);
void auditd_log_stats(const struct auditd *d, const char *when);
