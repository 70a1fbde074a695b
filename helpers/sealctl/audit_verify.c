/* sealctl audit-verify FILE|DIR...: check the hash chains of audit files (whole rotated series), print the first broken
 * line. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "policy/audit_chain.h"

int sealctl_audit_verify(int argc, char **argv);

/* NAME.jsonl (or a rotated NAME.jsonl.NNNNNN) → the tenant its lines must belong to,
 * when NAME is a slug or "_global". */
static const char *tenant_of(const char *path, char *buf, size_t size) {
        const char *base = strrchr(path, '/');
        size_t n;
        base = base ? base + 1 : path;
        n = strlen(base);
        if (n > 7 + AUDIT_ROTATED_DIGITS && strncmp(base + n - 7 - AUDIT_ROTATED_DIGITS, ".jsonl.", 7) == 0)
                n -= 1 + AUDIT_ROTATED_DIGITS;
        if (n < 7 || strncmp(base + n - 6, ".jsonl", 6) != 0 || n - 6 >= size)
                return NULL;
        memcpy(buf, base, n - 6);
        buf[n - 6] = 0;
        return slug_valid(buf) || strcmp(buf, AUDIT_GLOBAL_NAME) == 0 ? buf : NULL;
}

/* 0 intact, 1 broken, -errno unreadable. */
static int verify_fd(int fd, const char *path, bool quiet) {
        struct audit_verify_result res;
        char tb[128];
        int r = audit_chain_verify(fd, tenant_of(path, tb, sizeof tb), &res);
        if (r < 0) {
                fprintf(stderr, "sealctl: %s: cannot read: %s\n", path, strerror(-r));
                return r;
        }
        if (res.bad_line) {
                printf("%s:%llu: broken: %s\n", path, (unsigned long long)res.bad_line, res.why);
                return 1;
        }
        if (!quiet)
                printf("%s: ok, %llu lines, head %s\n", path, (unsigned long long)res.lines, res.head);
        return 0;
}

/* One tenant's series in dirfd: NAME.jsonl.000001, ... then NAME.jsonl, the
 * chain running on across files. 0 intact, 1 broken, -errno unreadable. */
static int verify_series(int dirfd, const char *dir, const char *name, struct dirent **ents, int n, bool quiet,
                         int *n_files) {
        char head[AUDIT_HASH_HEX + 1], last[PATH_MAX] = "";
        uint64_t expect = 1, lines = 0;
        unsigned files = 0, prev_idx = 0;
        memset(head, '0', AUDIT_HASH_HEX);
        head[AUDIT_HASH_HEX] = 0;
        /* alphasort puts NAME.jsonl first: rotated files (numbered, oldest first), then the live one */
        for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < n; i++) {
                        const char *fn = ents[i]->d_name;
                        unsigned idx = audit_chain_rotated_index(fn, name);
                        char live[160], full[PATH_MAX];
                        struct audit_verify_result res;
                        int fd, r;
                        snprintf(live, sizeof live, "%s.jsonl", name);
                        if (pass == 0 ? idx == 0 : strcmp(fn, live) != 0)
                                continue;
                        snprintf(full, sizeof full, "%s/%s", dir, fn);
                        if (pass == 0 && idx != prev_idx + 1 && prev_idx > 0) {
                                printf("%s:1: broken: rotated file number %u follows %u (a file of the series is "
                                       "missing)\n",
                                       full, idx, prev_idx);
                                return 1;
                        }
                        prev_idx = idx;
                        (*n_files)++;
                        files++;
                        if ((fd = openat(dirfd, fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0) {
                                fprintf(stderr, "sealctl: %s: cannot open: %s\n", full, strerror(errno));
                                return -errno;
                        }
                        r = audit_chain_verify_from(fd, name, expect, head, &res);
                        close(fd);
                        if (r < 0) {
                                fprintf(stderr, "sealctl: %s: cannot read: %s\n", full, strerror(-r));
                                return r;
                        }
                        if (res.bad_line) {
                                printf("%s:%llu: broken: %s\n", full, (unsigned long long)res.bad_line, res.why);
                                return 1;
                        }
                        if (res.lines) {
                                expect = res.last_seq + 1;
                                memcpy(head, res.head, sizeof head);
                                lines += res.lines;
                        }
                        snprintf(last, sizeof last, "%s", full);
                }
        if (!quiet && files)
                printf("%s: ok, %llu lines, head %s%s\n", last, (unsigned long long)lines, head,
                       files > 1 ? " (a rotated series)" : "");
        return 0;
}

static int verify_path(const char *path, bool quiet, int *n_files) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct dirent **ents = NULL;
        int n, worst = 0; /* -errno beats 1 (broken) beats 0 */
        if (fd < 0) {
                fprintf(stderr, "sealctl: %s: cannot open: %s\n", path, strerror(errno));
                return -errno;
        }
        if ((n = scandirat(fd, ".", &ents, NULL, alphasort)) < 0) {
                if (errno != ENOTDIR) {
                        fprintf(stderr, "sealctl: %s: cannot list: %s\n", path, strerror(errno));
                        return -errno;
                }
                (*n_files)++;
                return verify_fd(fd, path, quiet);
        }
        for (int i = 0; i < n; i++) {
                const char *name = ents[i]->d_name;
                size_t l = strlen(name);
                char tb[128];
                const char *tenant = tenant_of(name, tb, sizeof tb);
                bool rotated = l > 7 + AUDIT_ROTATED_DIGITS && name[l - 1 - AUDIT_ROTATED_DIGITS] == '.' &&
                               strncmp(name + l - 7 - AUDIT_ROTATED_DIGITS, ".jsonl.", 7) == 0;
                int r;
                if (name[0] == '.')
                        continue;
                if (!tenant) {
                        /* not named after a tenant: checked alone, from seq 1 */
                        _cleanup_close_ int ffd = -1;
                        char full[PATH_MAX];
                        if (l <= 6 || strcmp(name + l - 6, ".jsonl") != 0)
                                continue;
                        snprintf(full, sizeof full, "%s/%s", path, name);
                        (*n_files)++;
                        if ((ffd = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0) {
                                fprintf(stderr, "sealctl: %s: cannot open: %s\n", full, strerror(errno));
                                r = -errno;
                        } else
                                r = verify_fd(ffd, full, quiet);
                        if (r < 0 || (worst == 0 && r > 0))
                                worst = r;
                        continue;
                }
                /* a series is checked once: at its live file, or at its first rotated file when the live one is gone */
                if (rotated) {
                        char live[160];
                        bool seen = false;
                        snprintf(live, sizeof live, "%s.jsonl", tenant);
                        for (int j = 0; j < n && !seen; j++)
                                seen = strcmp(ents[j]->d_name, live) == 0 ||
                                       (j < i && audit_chain_rotated_index(ents[j]->d_name, tenant) > 0);
                        if (seen)
                                continue;
                } else if (l <= 6 || strcmp(name + l - 6, ".jsonl") != 0)
                        continue;
                r = verify_series(fd, path, tenant, ents, n, quiet, n_files);
                if (r < 0 || (worst == 0 && r > 0))
                        worst = r;
        }
        for (int i = 0; i < n; i++)
                free(ents[i]);
        free(ents);
        return worst;
}

int sealctl_audit_verify(int argc, char **argv) {
        static const struct option lo[] = { { "quiet", no_argument, NULL, 'q' },
                                            { "help", no_argument, NULL, 'h' },
                                            { 0 } };
        bool quiet = false, unreadable = false, broken = false;
        int c, n_files = 0;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
                switch (c) {
                case 'q': quiet = true; break;
                case 'h':
                        printf("usage: sealctl audit-verify [--quiet] FILE|DIR...\n"
                               "Checks each audit file's hash chain (DIR: every *.jsonl in it, and each\n"
                               "rotated series TENANT.jsonl.NNNNNN... + TENANT.jsonl as one chain). Prints the\n"
                               "first broken line per file; exit 0 only when every chain is intact,\n"
                               "77 when one is broken, 125 when a file cannot be read.\n");
                        return 0;
                default:
                        fprintf(stderr, "sealctl: audit-verify: %s: unknown option (see --help)\n", argv[optind - 1]);
                        return SR_EXIT_LAUNCHER;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "sealctl: audit-verify: FILE or DIR required\n");
                return SR_EXIT_LAUNCHER;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "sealctl: libsodium failed to initialise\n");
                return SR_EXIT_LAUNCHER;
        }
        for (int i = optind; i < argc; i++) {
                int r = verify_path(argv[i], quiet, &n_files);
                if (r < 0)
                        unreadable = true;
                else if (r > 0)
                        broken = true;
        }
        if (n_files == 0 && !unreadable) {
                fprintf(stderr, "sealctl: audit-verify: no *.jsonl file found\n");
                return SR_EXIT_LAUNCHER;
        }
        return unreadable ? SR_EXIT_LAUNCHER : broken ? SR_EXIT_REFUSED : 0;
}
