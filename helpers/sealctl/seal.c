/* sealctl seal: validate a plaintext profile in locked memory, encrypt it to a pool and sign it. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "helpers/sealctl/sealctl.h"
#include "policy/profile.h"

int sealctl_seal(int argc, char **argv) {
        static const struct option opts[] = {
                { "tenant", required_argument, NULL, 't' },  { "profile", required_argument, NULL, 'p' },
                { "version", required_argument, NULL, 'v' }, { "not-after", required_argument, NULL, 'n' },
                { "to", required_argument, NULL, 'T' },      { "sign", required_argument, NULL, 's' },
                { "in", required_argument, NULL, 'i' },      { "out", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },          {},
        };
        _cleanup_(secmem_destroyp) struct secmem *m = NULL;
        _cleanup_free_ char *out = NULL;
        struct profile_envelope *env = NULL;
        struct profile_header h = { 0 };
        struct profile_plain plain;
        struct sr_error e = { 0 };
        struct sr_key pool, issuer;
        const char *tenant = NULL, *profile = NULL, *version = NULL, *not_after = NULL, *to = NULL, *sign = NULL,
                   *in = "-", *outpath = NULL;
        int64_t now = (int64_t)time(NULL);
        uint8_t *pt;
        size_t pt_len, out_len;
        long long ver;
        char *end, t[32], rid[KEY_ID_HEX], iid[KEY_ID_HEX];
        int c, fd, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 't': tenant = optarg; break;
                case 'p': profile = optarg; break;
                case 'v': version = optarg; break;
                case 'n': not_after = optarg; break;
                case 'T': to = optarg; break;
                case 's': sign = optarg; break;
                case 'i': in = optarg; break;
                case 'o': outpath = optarg; break;
                case 'h':
                        printf("usage: sealctl seal --tenant T --profile NAME --version N --not-after TIME "
                               "--to POOL.pub --sign ISSUER.key [--in FILE|-] --out FILE|-\n");
                        return 0;
                default: return sealctl_usage_error("seal", "unknown or incomplete option %s", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return sealctl_usage_error("seal", "unexpected argument %s", argv[optind]);
        if (!tenant || !profile || !version || !not_after || !to || !sign || !outpath)
                return sealctl_usage_error(
                        "seal", "--tenant, --profile, --version, --not-after, --to, --sign and --out are required");
        if (!slug_valid(tenant))
                return sealctl_usage_error("seal", "--tenant: \"%s\" is not a tenant slug (^[a-z0-9][a-z0-9_-]{1,62}$)",
                                           tenant);
        if (!profile_name_valid(profile))
                return sealctl_usage_error("seal", "--profile: not a profile name (^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$)");
        errno = 0;
        ver = strtoll(version, &end, 10);
        if (errno || !*version || *end || ver < 1 || ver > (1LL << 53) - 1 || version[0] == '+' || version[0] == ' ')
                return sealctl_usage_error("seal", "--version: expected an integer from 1 to 2^53-1");
        if (profile_time_parse(not_after, now, &h.not_after) < 0)
                return sealctl_usage_error(
                        "seal", "--not-after: expected RFC 3339 (2025-01-31T12:00:00Z) or +DURATION (+15m, +24h, +7d)");
        if (h.not_after <= now)
                return sealctl_usage_error("seal", "--not-after: that time is already past");
        snprintf(h.tenant, sizeof h.tenant, "%s", tenant);
        snprintf(h.profile, sizeof h.profile, "%s", profile);
        h.version = (uint64_t)ver;
        h.issued_at = now;

        if (secmem_new(64u << 20, &m) < 0)
                return sealctl_usage_error("seal", "cannot initialise libsodium");
        if (key_load_path(to, KEY_POOL_PUBLIC, m, &pool, &e) < 0 ||
            key_load_path(sign, KEY_ISSUER_SECRET, m, &issuer, &e) < 0)
                return sealctl_report("seal", &e);

        /* the plaintext goes straight into locked memory */
        fd = strcmp(in, "-") == 0 ? dup(STDIN_FILENO) : open(in, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return sealctl_usage_error("seal", "--in %s: cannot open: %s", in, strerror(errno));
        r = secmem_read_fd(m, fd, PROFILE_MAX_BYTES, &pt, &pt_len);
        close(fd);
        if (r == -EFBIG)
                return sealctl_usage_error("seal", "--in %s: plaintext larger than %u bytes", in, PROFILE_MAX_BYTES);
        if (r < 0)
                return sealctl_usage_error("seal", "--in %s: cannot read into locked memory: %s", in, strerror(-r));
        if (profile_plain_parse(strcmp(in, "-") == 0 ? "(stdin)" : in, m, pt, pt_len, SR_EXIT_LAUNCHER, &plain, &e) < 0)
                return sealctl_report("seal", &e);
        if ((r = sealctl_check_bindings(strcmp(in, "-") == 0 ? "(stdin)" : in, &plain)) != 0)
                return r;
        if (strcmp(plain.tenant, tenant) != 0)
                return sealctl_usage_error("seal", "%s: $.tenant is \"%s\", but --tenant is \"%s\"", in, plain.tenant,
                                           tenant);

        if (profile_seal(&h, &pool, &issuer, pt, pt_len, &env, &e) < 0)
                return sealctl_report("seal", &e);
        secmem_release(m, pt);
        r = profile_format(env, &out, &out_len);
        if (r < 0 || out_len > PROFILE_MAX_BYTES) {
                profile_envelope_free(env);
                return sealctl_usage_error("seal", "sealed profile would exceed %u bytes", PROFILE_MAX_BYTES);
        }
        if (sealctl_write_file(outpath, out, out_len, 0644, &e) < 0) {
                profile_envelope_free(env);
                return sealctl_report("seal", &e);
        }
        profile_time_format(env->h.not_after, t);
        key_id_hex(env->h.recipient, rid);
        key_id_hex(env->h.issuer, iid);
        fprintf(stderr,
                "sealctl seal: %s/%s version %llu (%zu credentials) sealed to pool %s, signed by %s, valid until %s\n",
                tenant, profile, (unsigned long long)h.version, plain.n_creds, rid, iid, t);
        profile_envelope_free(env);
        return 0;
}
