/* Host-side leak scan: is a needle (read from a file, never from argv) in the memory, environ or cmdline of PIDs
 * (--where: in which mappings, locked or not)? */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char needle[4096];
static size_t needle_len;

static int found_in(const char *buf, size_t len) {
        return needle_len && len >= needle_len && memmem(buf, len, needle, needle_len) != NULL;
}

static int scan_file(int pid, const char *what) {
        char path[64], buf[1 << 16];
        size_t len = 0;
        ssize_t n;
        int fd;
        snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        while (len < sizeof buf && (n = read(fd, buf + len, sizeof buf - len)) > 0)
                len += (size_t)n;
        close(fd);
        return found_in(buf, len);
}

/* /proc/PID/<list> (maps or smaps) and /proc/PID/mem, with a 1 MiB chunk to
 * read through; -1 (and nothing left open) when either cannot be opened. */
static int open_proc(int pid, const char *list, FILE **ret_f, int *ret_mem, char **ret_chunk) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", pid, list);
        *ret_f = fopen(path, "re");
        snprintf(path, sizeof path, "/proc/%d/mem", pid);
        *ret_mem = open(path, O_RDONLY | O_CLOEXEC);
        *ret_chunk = malloc(1 << 20);
        if (*ret_f && *ret_mem >= 0 && *ret_chunk)
                return 0;
        if (*ret_f)
                fclose(*ret_f);
        if (*ret_mem >= 0)
                close(*ret_mem);
        free(*ret_chunk);
        return -1;
}

/* Is the needle in [lo, hi)? Chunks overlap by needle_len so a match across
 * a boundary is seen; the bytes read are added to *total. */
static int range_has(int mem, char *chunk, unsigned long lo, unsigned long hi, size_t *total) {
        for (unsigned long a = lo; a < hi;) {
                size_t want = hi - a < (1u << 20) ? hi - a : (1u << 20);
                ssize_t n = pread(mem, chunk, want, (off_t)a);
                if (n <= 0)
                        return 0;
                *total += (size_t)n;
                if (found_in(chunk, (size_t)n))
                        return 1;
                if ((size_t)n <= needle_len)
                        return 0;
                a += (size_t)n - (a + (size_t)n < hi ? needle_len : 0);
        }
        return 0;
}

/* Every readable mapping through /proc/PID/mem; returns 1 when found, 0 when
 * not, -1 when the memory cannot be read at all (then the test must fail). */
static int scan_mem(int pid, size_t *ret_bytes) {
        char line[512], *chunk;
        FILE *maps;
        int mem, hit = 0;
        size_t total = 0, skipped = 0;
        if (open_proc(pid, "maps", &maps, &mem, &chunk) < 0)
                return -1;
        while (!hit && fgets(line, sizeof line, maps)) {
                unsigned long lo, hi;
                char perms[8];
                if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || strstr(line, "[vvar"))
                        continue;
                /* sanitizer shadow maps reserve terabytes that were never written */
                if (hi - lo > (1UL << 32)) {
                        skipped++;
                        continue;
                }
                hit = range_has(mem, chunk, lo, hi, &total);
        }
        fclose(maps);
        close(mem);
        free(chunk);
        *ret_bytes = total;
        if (skipped)
                printf("pid %d: skipped %zu mappings larger than 4 GiB (sanitizer shadow)\n", pid, skipped);
        return hit;
}

/* --where: every mapping of pid holding the needle, by /proc/PID/smaps, as
 * "locked" (VmFlags lo and dd: mlock'ed, not dumped) or "UNLOCKED" with its
 * range and name. 1 when a copy is in unlocked memory, 0 when every copy is
 * locked (the count of locked hits is printed: the control), -1 unreadable. */
static int where(int pid) {
        char line[512], name[256] = "", *chunk;
        FILE *sm;
        int mem, unlocked = 0, locked = 0, have = 0;
        unsigned long lo = 0, hi = 0;
        size_t total = 0;
        if (open_proc(pid, "smaps", &sm, &mem, &chunk) < 0)
                return -1;
        while (fgets(line, sizeof line, sm)) {
                char perms[8];
                int hit = 0;
                unsigned long l2, h2;
                /* temporaries: "FilePmdMapped:" parses a hex F before failing */
                if (sscanf(line, "%lx-%lx %7s", &l2, &h2, perms) == 3) {
                        lo = l2;
                        hi = h2;
                        have = perms[0] == 'r' && hi - lo <= (1UL << 32) && !strstr(line, "[vvar");
                        if (sscanf(line, "%*s %*s %*s %*s %*s %255[^\n]", name) != 1)
                                name[0] = 0;
                        continue;
                }
                if (strncmp(line, "VmFlags:", 8) != 0 || !have)
                        continue;
                hit = range_has(mem, chunk, lo, hi, &total);
                if (!hit)
                        continue;
                if (strstr(line, " lo") && strstr(line, " dd"))
                        locked++;
                else {
                        unlocked++;
                        printf("pid %d: UNLOCKED copy in %lx-%lx %s\n", pid, lo, hi, name[0] ? name : "[anon]");
                }
        }
        fclose(sm);
        close(mem);
        free(chunk);
        printf("pid %d: needle in %d locked mapping(s), %d unlocked\n", pid, locked, unlocked);
        return unlocked ? 1 : 0;
}

int main(int argc, char **argv) {
        int fd, leaks = 0, errors = 0, at = 1;
        bool where_mode = argc > 1 && strcmp(argv[1], "--where") == 0;
        ssize_t n;
        at += where_mode;
        if (argc < at + 2) {
                fprintf(stderr, "usage: memscan [--where] NEEDLE-FILE PID...\n");
                return 2;
        }
        argv += at - 1;
        argc -= at - 1;
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (n = read(fd, needle, sizeof needle)) <= 0) {
                fprintf(stderr, "memscan: cannot read %s\n", argv[1]);
                return 2;
        }
        close(fd);
        needle_len = (size_t)n;
        while (needle_len && (needle[needle_len - 1] == '\n'))
                needle_len--;
        for (int i = 2; where_mode && i < argc; i++) {
                int w = where(atoi(argv[i]));
                if (w < 0) {
                        printf("pid %s: cannot read its smaps or memory: %s\n", argv[i], strerror(errno));
                        errors++;
                }
                leaks += w > 0;
        }
        for (int i = 2; !where_mode && i < argc; i++) {
                int pid = atoi(argv[i]);
                size_t bytes = 0;
                int m = scan_mem(pid, &bytes), env = scan_file(pid, "environ"), cmd = scan_file(pid, "cmdline");
                if (m < 0 || env < 0 || cmd < 0) {
                        printf("pid %d: cannot read (mem %d environ %d cmdline %d): %s\n", pid, m, env, cmd,
                               strerror(errno));
                        errors++;
                        continue;
                }
                printf("pid %d: scanned %zu bytes of memory, environ, cmdline: %s\n", pid, bytes,
                       m || env || cmd ? "NEEDLE FOUND" : "clean");
                leaks += m + env + cmd;
        }
        return leaks ? 1 : errors ? 2 : 0;
}
