/* Escape suite: shared declarations of the in-sandbox attack program (libc only). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum result {
        R_DENIED,  /* a protection refused it */
        R_ALLOWED, /* it worked, or got past every permission check */
        R_ABSENT,  /* nothing to attack here (kernel lacks it, path missing) */
        R_KILLED,  /* the attempt killed the process (seccomp kill) */
        R_SKIPPED, /* could not be attempted (setup failed) */
};

struct outcome {
        int result;
        int err; /* errno of the deciding call, or 0 */
        char detail[240];
};

struct ctx {
        pid_t target; /* "pid 1" probes aim here: 1, or our main process (--target-self) */
        pid_t main_pid;
};

typedef void (*probe_fn)(const struct ctx *c, struct outcome *o);

struct probe {
        const char *name;
        probe_fn fn;
};

/* Fill o: result from the return value and errno of the deciding call.
 * `denied` lists the errnos that mean "a protection said no"; anything
 * else after a failure means the call got past the checks. */
void set_result(struct outcome *o, long ret, int err, const int *denied, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void set_detail(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern const int DENY_PERM[];       /* EPERM, EACCES */
extern const int DENY_PERM_RO[];    /* EPERM, EACCES, EROFS */
extern const int DENY_SECCOMP_NS[]; /* EPERM, EACCES, ENOSYS (clone3 answered with ENOSYS) */

extern const struct probe probes_sys[];
extern const size_t probes_sys_n;
extern const struct probe probes_fs[];
extern const size_t probes_fs_n;
extern const struct probe probes_new[];
extern const size_t probes_new_n;

/* The fd scan has to run before the harness opens anything. */
void fd_scan_early(void);
