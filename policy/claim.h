/* The claim protocol of a pre-built sandbox (sealrun --prepare): one task handed to it over a unix socket. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* One SOCK_SEQPACKET connection, three messages:
 *   sandbox → claimer  READY (value = the supervisor's pid) once it is built
 *   claimer → sandbox  CLAIM with fds: [args, cwd, stdin, stdout, stderr,
 *                      then one per "fd" record of args]; args is a sealed
 *                      memfd of NUL-terminated records: "a" + a sealrun
 *                      argument, "e" + NAME=VALUE of the claimer's
 *                      environment, "f" + the claimer's number of the next
 *                      extra fd
 *   sandbox → claimer  EXIT (value = the task's exit code), at the end
 * The claimer is checked with SO_PEERCRED: the same uid as the supervisor. */
#define CLAIM_MAGIC 0x53524331u /* "SRC1" */
#define CLAIM_MAX_FDS 16
#define CLAIM_FIXED_FDS 5 /* args, cwd, stdin, stdout, stderr */
#define CLAIM_ARGS_MAX (1u << 20)

enum claim_type { CLAIM_READY = 1, CLAIM_TASK, CLAIM_EXIT };

struct claim_msg {
        unsigned type;
        int value;
};

/* Send a message with fds (n_fds may be 0). 0 or -errno. */
int claim_send(int sock, enum claim_type type, int value, const int *fds, size_t n_fds);
/* Receive one message; fds received are stored (close-on-exec) in fds and
 * counted in *ret_n_fds. timeout_ms < 0 waits forever. 0, -EPIPE at EOF,
 * -ETIMEDOUT, -EBADMSG for anything malformed (its fds closed). */
int claim_recv(int sock, struct claim_msg *ret, int *fds, size_t max_fds, size_t *ret_n_fds, int timeout_ms);
/* The peer's uid must be ours. 0, -EPERM, or -errno. */
int claim_check_peer(int sock, pid_t *ret_pid);
/* n records (tags[i] + strings[i]) in a sealed memfd: its fd, or -errno. */
int claim_pack(const char *tags, char *const *strings, size_t n);
/* The args memfd: records packed and sealed. -errno. */
int claim_args_new(char *const *args, size_t n_args, char *const *env, const int *fd_numbers, size_t n_fds);
/* Read the args memfd into one NUL-terminated block (free()), at most
 * CLAIM_ARGS_MAX bytes. -errno. */
int claim_args_read(int fd, char **ret, size_t *ret_len);
