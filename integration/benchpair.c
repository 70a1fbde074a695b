/* make bench's driver: paired launches (interleaved A/B, wall + CPU + peak RSS
 * from wait4) and throughput with P launches in flight. JSON on stdout.
 *   benchpair pair RUNS WARMUP "CMD A" "CMD B"
 *   benchpair rate PAR COUNT "CMD"
 * A command is split on spaces (the bench's commands need no quoting); its
 * stdio goes to /dev/null; any launch that fails makes the run fail. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGV 128

struct cmd {
        char *argv[MAX_ARGV];
};

struct sample {
        double wall_ms, cpu_ms;
        long rss_kb;
};

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void split(char *s, struct cmd *c) {
        int n = 0;
        for (char *tok = strtok(s, " "); tok && n < MAX_ARGV - 1; tok = strtok(NULL, " "))
                c->argv[n++] = tok;
        c->argv[n] = NULL;
}

static pid_t start(const struct cmd *c) {
        pid_t p = fork();
        if (p == 0) {
                int fd = open("/dev/null", O_RDWR);
                dup2(fd, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                if (fd > 2)
                        close(fd);
                execvp(c->argv[0], c->argv);
                _exit(127);
        }
        return p;
}

/* Reap one launch: its wall time from t0, its CPU and peak RSS (wait4
 * reports the child together with the descendants it reaped). */
static int reap(pid_t want, double t0, struct sample *s) {
        struct rusage ru;
        int st;
        pid_t p;
        do
                p = wait4(want, &st, 0, &ru);
        while (p < 0 && errno == EINTR);
        if (p < 0)
                return -1;
        s->wall_ms = now_ms() - t0;
        s->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        s->rss_kb = ru.ru_maxrss;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int one(const struct cmd *c, struct sample *s) {
        double t0 = now_ms();
        pid_t p = start(c);
        if (p < 0)
                return -1;
        return reap(p, t0, s);
}

static int cmp_d(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double q) {
        qsort(v, n, sizeof *v, cmp_d);
        size_t i = (size_t)(q * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

static void summary(const char *name, struct sample *s, size_t n) {
        double *w = calloc(n, sizeof *w), *r = calloc(n, sizeof *r), cpu = 0;
        for (size_t i = 0; i < n; i++) {
                w[i] = s[i].wall_ms;
                r[i] = (double)s[i].rss_kb;
                cpu += s[i].cpu_ms;
        }
        printf("\"%s\":{\"wall_median_ms\":%.3f,\"wall_p99_ms\":%.3f,\"cpu_mean_ms\":%.3f,\"rss_median_kb\":%.0f}",
               name, pct(w, n, 0.5), pct(w, n, 0.99), cpu / (double)n, pct(r, n, 0.5));
        free(w);
        free(r);
}

static int pair(int runs, int warmup, struct cmd *a, struct cmd *b) {
        struct sample *sa = calloc((size_t)runs, sizeof *sa), *sb = calloc((size_t)runs, sizeof *sb), x;
        double *ratio = calloc((size_t)runs, sizeof *ratio), *cratio = calloc((size_t)runs, sizeof *cratio);
        for (int i = 0; i < warmup; i++)
                if (one(a, &x) < 0 || one(b, &x) < 0)
                        return fprintf(stderr, "benchpair: a warm-up launch failed\n"), 1;
        for (int i = 0; i < runs; i++) {
                /* alternate who goes first, so neither always runs on a cache the other warmed */
                int r = i % 2 ? (one(b, &sb[i]) | one(a, &sa[i])) : (one(a, &sa[i]) | one(b, &sb[i]));
                if (r < 0)
                        return fprintf(stderr, "benchpair: launch %d failed\n", i), 1;
                ratio[i] = sa[i].wall_ms / sb[i].wall_ms;
                cratio[i] = sa[i].cpu_ms / (sb[i].cpu_ms > 0 ? sb[i].cpu_ms : 1e-3);
        }
        printf("{\"runs\":%d,", runs);
        summary("a", sa, (size_t)runs);
        putchar(',');
        summary("b", sb, (size_t)runs);
        printf(",\"wall_ratio_median\":%.3f}\n", pct(ratio, (size_t)runs, 0.5));
        return 0;
}

static int rate(int par, int count, struct cmd *c) {
        struct sample *s = calloc((size_t)count, sizeof *s);
        pid_t *pids = calloc((size_t)par, sizeof *pids);
        double *t0 = calloc((size_t)par, sizeof *t0), *lat = calloc((size_t)count, sizeof *lat), begin, cpu = 0;
        int started = 0, done = 0, fail = 0;
        begin = now_ms();
        while (done < count) {
                for (int k = 0; k < par && started < count; k++)
                        if (!pids[k]) {
                                t0[k] = now_ms();
                                pids[k] = start(c);
                                started++;
                        }
                struct rusage ru;
                int st;
                pid_t p = wait4(-1, &st, 0, &ru);
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int k = 0; k < par; k++)
                        if (pids[k] == p) {
                                s[done].wall_ms = now_ms() - t0[k];
                                pids[k] = 0;
                        }
                s[done].cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        fail++;
                cpu += s[done].cpu_ms;
                done++;
        }
        double wall = now_ms() - begin;
        for (int i = 0; i < done; i++)
                lat[i] = s[i].wall_ms;
        printf("{\"par\":%d,\"n\":%d,\"failed\":%d,\"wall_s\":%.3f,\"per_s\":%.1f,\"cpu_per_launch_ms\":%.3f", par,
               done, fail, wall / 1e3, (double)done / (wall / 1e3), cpu / (double)(done ? done : 1));
        if (done >= 200) {
                /* drift over a long run: the first and the last hundred */
                double first[100], last[100];
                for (int i = 0; i < 100; i++) {
                        first[i] = s[i].wall_ms;
                        last[i] = s[done - 100 + i].wall_ms;
                }
                printf(",\"first100_median_ms\":%.3f,\"last100_median_ms\":%.3f", pct(first, 100, 0.5),
                       pct(last, 100, 0.5));
        }
        printf(",\"lat_median_ms\":%.3f,\"lat_p99_ms\":%.3f}\n", pct(lat, (size_t)done, 0.5),
               pct(lat, (size_t)done, 0.99));
        return fail ? 1 : 0;
}

int main(int argc, char **argv) {
        struct cmd a, b;
        if (argc == 6 && strcmp(argv[1], "pair") == 0) {
                split(argv[4], &a);
                split(argv[5], &b);
                return pair(atoi(argv[2]), atoi(argv[3]), &a, &b);
        }
        if (argc == 5 && strcmp(argv[1], "rate") == 0 && atoi(argv[2]) > 0 && atoi(argv[3]) > 0) {
                split(argv[4], &a);
                return rate(atoi(argv[2]), atoi(argv[3]), &a);
        }
        fprintf(stderr, "usage: benchpair pair RUNS WARMUP \"CMD A\" \"CMD B\" | benchpair rate PAR COUNT \"CMD\"\n");
        return 2;
}
