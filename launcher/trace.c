/* --trace-fd: timestamps of a launch's phases, written as one JSON line.
 *
 * Off by default and then free: trace_point() is a test of one static
 * pointer. When on, the points live in one MAP_SHARED anonymous page mapped
 * before the clone, so sandbox init and the payload (separate address
 * spaces) record theirs with a plain store: no message, no syscall besides
 * the vDSO clock read. The payload's execve drops the mapping. */
#include "launcher/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *const names[TRACE_N] = {
        [TRACE_START] = "start",
        [TRACE_POLICY_LOADED] = "policy_loaded",
        [TRACE_CLONE] = "clone",
        [TRACE_GO] = "go",
        [TRACE_MOUNTS_DONE] = "mounts_done",
        [TRACE_CLAIMED] = "claimed",
        [TRACE_PAYLOAD_EXEC] = "payload_exec",
        [TRACE_EXIT] = "exit",
        [TRACE_CLEANUP_DONE] = "cleanup_done",
};

static uint64_t start_us;
static uint64_t cpu_at_enable_us; /* process CPU time when tracing was turned on */
static int trace_fd = -1;
static volatile uint64_t *shared; /* TRACE_N slots; NULL = tracing off */

static uint64_t mono_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *trace_point_name(enum trace_point p) {
        return p < TRACE_N ? names[p] : "?";
}

void trace_start(void) {
        start_us = mono_us();
}

int trace_enable(int fd) {
        struct timespec cpu;
        void *m;
        if (fcntl(fd, F_GETFD) < 0)
                return -errno;
        m = mmap(NULL, TRACE_N * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return -errno;
        /* Covers exec, the dynamic loader, constructors and option parsing:
         * the part of a launch no timestamp of ours can see. */
        if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0)
                cpu_at_enable_us = (uint64_t)cpu.tv_sec * 1000000u + (uint64_t)cpu.tv_nsec / 1000u;
        shared = m;
        trace_fd = fd;
        shared[TRACE_START] = start_us ? start_us : mono_us();
        return 0;
}

void trace_point(enum trace_point p) {
        if (shared && p < TRACE_N)
                shared[p] = mono_us();
}

size_t trace_format(char *buf, size_t size, const uint64_t *t_us, uint64_t cpu_us, long maxrss_kb) {
        size_t n = 0;
        int w;
#define PUT(...) \
        do { \
                w = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__); \
                if (w > 0) \
                        n += (size_t)w; \
        } while (0)
        PUT("{\"trace\":1,\"clock\":\"monotonic\",\"unit\":\"us\",\"cpu_at_enable_us\":%llu,\"supervisor_maxrss_kb\":%"
            "ld,"
            "\"points\":[",
            (unsigned long long)cpu_us, maxrss_kb);
        for (int i = 0, first = 1; i < TRACE_N; i++) {
                if (!t_us[i])
                        continue; /* a launch that failed early never reached it */
                PUT("%s{\"name\":\"%s\",\"t_us\":%llu,\"since_start_us\":%llu}", first ? "" : ",", names[i],
                    (unsigned long long)t_us[i], (unsigned long long)(t_us[i] - t_us[TRACE_START]));
                first = 0;
        }
        PUT("]}\n");
#undef PUT
        return n < size ? n : size ? size - 1 : 0;
}

void trace_emit(void) {
        uint64_t t[TRACE_N];
        struct rusage ru;
        char buf[1024];
        size_t n, off = 0;
        if (!shared)
                return;
        trace_point(TRACE_CLEANUP_DONE);
        for (int i = 0; i < TRACE_N; i++)
                t[i] = shared[i];
        /* The supervisor's own peak: sandbox init and the payload are
         * separate processes with their own (reported in the status). */
        if (getrusage(RUSAGE_SELF, &ru) < 0)
                ru.ru_maxrss = -1;
        n = trace_format(buf, sizeof buf, t, cpu_at_enable_us, ru.ru_maxrss);
        while (off < n) {
                ssize_t w = write(trace_fd, buf + off, n - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        munmap((void *)shared, TRACE_N * sizeof(uint64_t));
        shared = NULL;
}
