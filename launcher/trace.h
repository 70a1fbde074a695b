/* --trace-fd: where a launch spends its time, as one JSON line of timestamps. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The points, in the order a successful launch passes them. */
enum trace_point {
        TRACE_START,         /* main() entered (after exec and the dynamic loader) */
        TRACE_POLICY_LOADED, /* policy parsed, command line resolved */
        TRACE_CLONE,         /* host side prepared (credentials, audit, cgroup, ...): clone3 */
        TRACE_GO,            /* id maps, cgroup and host network done: SYNC_GO sent */
        TRACE_MOUNTS_DONE,   /* sandbox init finished its steps (mounts, masks, network) */
        TRACE_CLAIMED,       /* a pre-built sandbox (--prepare) received its claim */
        TRACE_PAYLOAD_EXEC,  /* payload steps done (seccomp last): execve */
        TRACE_EXIT,          /* sandbox init reaped the payload */
        TRACE_CLEANUP_DONE,  /* supervisor released cgroup, network, credentials, audit */
        TRACE_N
};

/* Called first thing in main(): one vDSO clock read, nothing else. */
void trace_start(void);
/* Turn tracing on for this launch: fd must be open; maps one shared page
 * that the sandbox side (a clone without CLONE_VM) writes its points into.
 * Before the clone. 0 or -errno. */
int trace_enable(int fd);
/* Record a point (no-op when tracing is off: one load and one branch). */
void trace_point(enum trace_point p);
/* Write the line to the fd (supervisor, at the very end); a no-op when off. */
void trace_emit(void);
/* Render the line into buf (exposed for tests); returns its length. */
size_t trace_format(char *buf, size_t size, const uint64_t *t_us, uint64_t cpu_us, long maxrss_kb);
const char *trace_point_name(enum trace_point p);
