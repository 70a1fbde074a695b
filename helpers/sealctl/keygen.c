/* sealctl keygen: a pool (X25519) or issuer (Ed25519) key pair as PREFIX.key (0600) and PREFIX.pub. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers/sealctl/sealctl.h"
#include "policy/profile.h"

/* Create exclusively (never overwrite a key) and write the whole line. */
static int write_new(const char *path, const char *line, size_t len, mode_t mode, struct sr_error *e) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        int r;
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "io", "%s: cannot create: %s%s", path, strerror(errno),
                               errno == EEXIST ? " (keygen never overwrites a key)" : "");
        if ((r = fchmod(fd, mode) < 0 ? -errno : 0) < 0 || (r = write_all(fd, line, len)) < 0 ||
            (r = fsync(fd) < 0 ? -errno : 0) < 0) {
                close(fd);
                unlink(path);
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "io", "%s: cannot write: %s", path, strerror(-r));
        }
        close(fd);
        return 0;
}

int sealctl_keygen(int argc, char **argv) {
        static const struct option opts[] = {
                { "pool", no_argument, NULL, 'p' },
                { "issuer", no_argument, NULL, 'i' },
                { "out", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(secmem_destroyp) struct secmem *m = NULL;
        struct sr_error e = { 0 };
        struct sr_key sk, pk;
        const char *prefix = NULL;
        char keypath[4096], pubpath[4096], id[KEY_ID_HEX], *line;
        size_t len;
        int kind = -1, c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                case 'i':
                        if (kind >= 0)
                                return sealctl_usage_error("keygen", "give exactly one of --pool and --issuer");
                        kind = c == 'i';
                        break;
                case 'o': prefix = optarg; break;
                case 'h': printf("usage: sealctl keygen --pool|--issuer --out PREFIX\n"); return 0;
                default: return sealctl_usage_error("keygen", "unknown or incomplete option %s", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return sealctl_usage_error("keygen", "unexpected argument %s", argv[optind]);
        if (kind < 0 || !prefix || !*prefix)
                return sealctl_usage_error("keygen", "--pool or --issuer, and --out PREFIX, are required");
        if (snprintf(keypath, sizeof keypath, "%s.key", prefix) >= (int)sizeof keypath ||
            snprintf(pubpath, sizeof pubpath, "%s.pub", prefix) >= (int)sizeof pubpath)
                return sealctl_usage_error("keygen", "--out: path too long");
        if (access(keypath, F_OK) == 0 || access(pubpath, F_OK) == 0)
                return sealctl_usage_error("keygen", "%s.key or %s.pub exists: keygen never overwrites a key", prefix,
                                           prefix);
        if (secmem_new(64 * 1024, &m) < 0 || key_generate(kind == 1, m, &sk, &pk) < 0)
                return sealctl_usage_error("keygen", "cannot generate a key (locked memory unavailable?)");

        if (key_format(&sk, m, &line, &len) < 0)
                return sealctl_usage_error("keygen", "out of memory");
        if (write_new(keypath, line, len, 0600, &e) < 0)
                return sealctl_report("keygen", &e);
        secmem_release(m, line);
        if (key_format(&pk, m, &line, &len) < 0 || write_new(pubpath, line, len, 0644, &e) < 0) {
                unlink(keypath);
                return e.msg[0] ? sealctl_report("keygen", &e) : sealctl_usage_error("keygen", "out of memory");
        }
        key_id_hex(pk.id, id);
        printf("%s\n", id);
        fprintf(stderr, "sealctl keygen: %s key %s written to %s (secret, 0600) and %s\n", kind ? "issuer" : "pool", id,
                keypath, pubpath);
        return 0;
}
