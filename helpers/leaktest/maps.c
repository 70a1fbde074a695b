/* Parser of /proc/PID/maps and /proc/PID/smaps text: ranges, permissions, names, Rss and VmFlags. */
#include "helpers/leaktest/leaktest.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A mapping header: "start-end perms offset dev inode [path]". Returns false
 * for any other line (smaps "Key: value" lines). */
static bool parse_header(const char *line, size_t len, struct map_entry *m) {
        char buf[512];
        unsigned long long start, end, off, ino;
        char perms[8], dev[32];
        int consumed = 0;

        if (len == 0 || len >= sizeof buf || !isxdigit((unsigned char)line[0]))
                return false;
        memcpy(buf, line, len);
        buf[len] = '\0';
        if (sscanf(buf, "%llx-%llx %7s %llx %31s %llu%n", &start, &end, perms, &off, dev, &ino, &consumed) != 6)
                return false;
        if (end < start || strlen(perms) != 4 || !strchr(dev, ':'))
                return false;
        memset(m, 0, sizeof *m);
        m->start = start;
        m->end = end;
        m->offset = off;
        m->inode = ino;
        memcpy(m->perms, perms, 5);
        m->rss_kb = -1;
        m->swap_kb = -1;
        const char *p = buf + consumed;
        while (*p == ' ' || *p == '\t')
                p++;
        snprintf(m->path, sizeof m->path, "%s", p);
        return true;
}

/* " 1234 kB" -> 1234, -1 when there is no number. */
static int64_t kb_value(const char *p, size_t n) {
        char num[24];
        size_t k = 0, j = 0;
        while (k < n && p[k] == ' ')
                k++;
        while (k < n && j + 1 < sizeof num && isdigit((unsigned char)p[k]))
                num[j++] = p[k++];
        num[j] = '\0';
        return j > 0 ? strtoll(num, NULL, 10) : -1;
}

int maps_parse(const char *text, size_t len, struct map_entry **ret, size_t *ret_n) {
        struct map_entry *v = NULL;
        size_t n = 0, cap = 0;
        size_t i = 0;

        while (i < len) {
                const char *line = text + i;
                const char *nl = memchr(line, '\n', len - i);
                size_t ll = nl ? (size_t)(nl - line) : len - i;
                struct map_entry m;

                i += ll + (nl ? 1 : 0);
                if (parse_header(line, ll, &m)) {
                        if (n == cap) {
                                size_t nc = cap ? 2 * cap : 64;
                                struct map_entry *nv = realloc(v, nc * sizeof *v);
                                if (!nv) {
                                        free(v);
                                        return -ENOMEM;
                                }
                                v = nv;
                                cap = nc;
                        }
                        v[n++] = m;
                        continue;
                }
                if (n == 0)
                        continue; /* a key line before any header: ignore */
                if (ll > 4 && strncmp(line, "Rss:", 4) == 0) {
                        v[n - 1].rss_kb = kb_value(line + 4, ll - 4);
                } else if (ll > 5 && strncmp(line, "Swap:", 5) == 0) {
                        v[n - 1].swap_kb = kb_value(line + 5, ll - 5);
                } else if (ll > 8 && strncmp(line, "VmFlags:", 8) == 0) {
                        size_t k = 8;
                        while (k < ll && line[k] == ' ')
                                k++;
                        size_t fl = ll - k < sizeof v[n - 1].flags - 1 ? ll - k : sizeof v[n - 1].flags - 1;
                        memcpy(v[n - 1].flags, line + k, fl);
                        v[n - 1].flags[fl] = '\0';
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

bool map_has_flag(const struct map_entry *m, const char *flag) {
        size_t fl = strlen(flag);
        const char *p = m->flags;
        while (*p) {
                while (*p == ' ')
                        p++;
                const char *q = p;
                while (*q && *q != ' ')
                        q++;
                if ((size_t)(q - p) == fl && strncmp(p, flag, fl) == 0)
                        return true;
                p = q;
        }
        return false;
}

const struct map_entry *maps_find(const struct map_entry *m, size_t n, uint64_t addr) {
        for (size_t i = 0; i < n; i++)
                if (addr >= m[i].start && addr < m[i].end)
                        return &m[i];
        return NULL;
}
