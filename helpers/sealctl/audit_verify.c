/* sealctl audit-verify FILE|DIR...: check the hash chain of audit files, print the first broken line per file. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "policy/audit_chain.h"

int sealctl_audit_verify(int argc, char **argv);

/* NAME.jsonl → the tenant its lines must belong to, when NAME is a slug or "_global". */
static const char *tenant_of(const char *path, char *buf, size_t size) {
        const char *base = strrchr(path, '/');
        size_t n;
        base = base ? base + 1 : path;
        n = strlen(base);
        if (n < 7 || strcmp(base + n - 6, ".jsonl") != 0 || n - 6 >= size)
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
                if (l > 6 && strcmp(name + l - 6, ".jsonl") == 0 && name[0] != '.') {
                        _cleanup_free_ char *full = NULL;
                        _cleanup_close_ int ffd = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                        int r;
                        if (asprintf(&full, "%s/%s", path, name) < 0)
                                full = NULL;
                        if (ffd < 0) {
                                fprintf(stderr, "sealctl: %s: cannot open: %s\n", full ? full : name, strerror(errno));
                                r = -errno;
                        } else
                                r = verify_fd(ffd, full ? full : name, quiet);
                        (*n_files)++;
                        if (r < 0 || (worst == 0 && r > 0))
                                worst = r;
                }
                free(ents[i]);
        }
        free(ents);
        return worst;
}

int sealctl_audit_verify(int argc, char **argv) {
        static const struct option lo[] = { { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { 0 } };
        bool quiet = false, unreadable = false, broken = false;
        int c, n_files = 0;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
                switch (c) {
                case 'q': quiet = true; break;
                case 'h':
                        printf("usage: sealctl audit-verify [--quiet] FILE|DIR...\n"
                               "Checks each audit file's hash chain (DIR: every *.jsonl in it). Prints the\n"
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
