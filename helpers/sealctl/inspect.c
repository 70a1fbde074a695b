/* sealctl inspect and verify: the header of a sealed profile, and its signature; with --key, its credentials' names and
 * bindings (never values). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "helpers/sealctl/sealctl.h"
#include "policy/profile.h"

/* inspect --key: decrypt in locked memory and describe the credentials,
 * never a value (the pool key's holder may read the plaintext anyway; the
 * point is that this output can go into a ticket or a log). */
static int plain_of(const char *file, const struct profile_envelope *env, const char *key_path, struct secmem *m,
                    struct profile_plain *ret) {
        struct sr_error e = { 0 };
        struct sr_key key;
        uint8_t *pt = NULL;
        size_t len = 0;
        int r;
        if (key_load_path(key_path, KEY_POOL_SECRET, m, &key, &e) < 0)
                return sealctl_report("inspect", &e);
        r = profile_decrypt(file, env, &key, m, &pt, &len, &e);
        secmem_release(m, key.secret);
        if (r < 0)
                return sealctl_report("inspect", &e);
        r = profile_plain_parse(file, m, pt, len, SR_EXIT_REFUSED, ret, &e);
        secmem_release(m, pt);
        if (r < 0)
                return sealctl_report("inspect", &e);
        return 0;
}

static int load(const char *cmd, const char *path, struct profile_envelope **ret) {
        struct sr_error e = { 0 };
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int r;
        if (fd < 0)
                return sealctl_usage_error(cmd, "%s: cannot open: %s", path, strerror(errno));
        r = profile_load_fd(fd, path, PROFILE_MAX_BYTES, ret, &e);
        close(fd);
        return r < 0 ? sealctl_report(cmd, &e) : 0;
}

int sealctl_inspect(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "key", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(secmem_destroyp) struct secmem *m = NULL;
        struct profile_envelope *env = NULL;
        struct profile_plain plain = { 0 };
        const char *key = NULL;
        bool json = false;
        char issued[32], until[32], rid[KEY_ID_HEX], iid[KEY_ID_HEX];
        int c, r;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'j')
                        json = true;
                else if (c == 'k')
                        key = optarg;
                else if (c == 'h') {
                        printf("usage: sealctl inspect FILE [--json] [--key POOL.key]\n");
                        return 0;
                } else
                        return sealctl_usage_error("inspect", "unknown option %s", argv[optind - 1]);
        }
        if (argc - optind != 1)
                return sealctl_usage_error("inspect", "expected exactly one FILE");
        if ((r = load("inspect", argv[optind], &env)) != 0)
                return r;
        if (key) {
                if (secmem_new(16u << 20, &m) < 0) {
                        profile_envelope_free(env);
                        return sealctl_usage_error("inspect", "cannot initialise libsodium");
                }
                if ((r = plain_of(argv[optind], env, key, m, &plain)) != 0) {
                        profile_envelope_free(env);
                        return r;
                }
        }
        if (json) {
                char *txt = profile_header_json(env);
                if (txt && key) {
                        /* the header's object plus "credentials" (names and bindings only) */
                        json_t *o = json_loads(txt, 0, NULL), *cj = sealctl_creds_json(&plain);
                        free(txt);
                        txt = NULL;
                        if (o && cj && json_object_set_new(o, "credentials", cj) == 0) {
                                cj = NULL;
                                txt = json_dumps(o, JSON_COMPACT);
                        }
                        json_decref(cj);
                        json_decref(o);
                }
                if (!txt) {
                        profile_envelope_free(env);
                        return sealctl_usage_error("inspect", "out of memory");
                }
                printf("%s\n", txt);
                free(txt);
        } else {
                profile_time_format(env->h.issued_at, issued);
                profile_time_format(env->h.not_after, until);
                key_id_hex(env->h.recipient, rid);
                key_id_hex(env->h.issuer, iid);
                printf("format:     %s\ntenant:     %s\nprofile:    %s\nversion:    %llu\nissued_at:  %s\n"
                       "not_after:  %s%s\nrecipient:  %s (pool key id)\nissuer:     %s (issuer key id)\n"
                       "ciphertext: %zu bytes\nsignature:  not checked (sealctl verify FILE --trust ISSUER.pub)\n",
                       PROFILE_FORMAT, env->h.tenant, env->h.profile, (unsigned long long)env->h.version, issued, until,
                       env->h.not_after <= (int64_t)time(NULL) ? " (expired)" : "", rid, iid, env->ct_len);
                if (key)
                        sealctl_creds_print(&plain);
        }
        profile_envelope_free(env);
        return 0;
}

int sealctl_verify(int argc, char **argv) {
        _cleanup_(secmem_destroyp) struct secmem *m = NULL;
        struct profile_envelope *env = NULL;
        struct revocation_list rl = { 0 };
        struct sr_key trusted[64];
        struct sr_error e = { 0 };
        const char *file = NULL, *revoked = NULL, *trust_paths[64];
        size_t n_trust = 0;
        char what[320], until[32], rid[KEY_ID_HEX], iid[KEY_ID_HEX];
        bool after_trust = false;
        int r;

        /* "--trust A B C" and "--trust A --trust B" both work: bare arguments
         * after a --trust are more issuer keys; the first other one is FILE */
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        printf("usage: sealctl verify FILE --trust ISSUER.pub... [--revoked LIST]\n");
                        return 0;
                }
                if (strcmp(a, "--trust") == 0 || strcmp(a, "--revoked") == 0) {
                        if (i + 1 >= argc)
                                return sealctl_usage_error("verify", "%s needs an argument", a);
                        if (a[2] == 'r') {
                                revoked = argv[++i];
                                after_trust = false;
                                continue;
                        }
                        a = argv[++i];
                        after_trust = true;
                } else if (strncmp(a, "--trust=", 8) == 0) {
                        a += 8;
                        after_trust = true;
                } else if (a[0] == '-' && a[1]) {
                        return sealctl_usage_error("verify", "unknown option %s", a);
                } else if (!after_trust || !file) {
                        if (file)
                                return sealctl_usage_error("verify", "unexpected argument %s", a);
                        file = a;
                        continue;
                }
                if (n_trust == ELEMENTSOF(trust_paths))
                        return sealctl_usage_error("verify", "too many --trust keys (max %zu)",
                                                   ELEMENTSOF(trust_paths));
                trust_paths[n_trust++] = a;
        }
        if (!file || n_trust == 0)
                return sealctl_usage_error("verify", "expected FILE and at least one --trust ISSUER.pub");
        if (secmem_new(1u << 20, &m) < 0)
                return sealctl_usage_error("verify", "cannot initialise libsodium");
        for (size_t i = 0; i < n_trust; i++)
                if (key_load_path(trust_paths[i], KEY_ISSUER_PUBLIC, m, &trusted[i], &e) < 0)
                        return sealctl_report("verify", &e);
        if (revoked && revocation_load(revoked, &rl, &e) < 0)
                return sealctl_report("verify", &e);
        if ((r = load("verify", file, &env)) != 0) {
                revocation_free(&rl);
                return r;
        }
        r = profile_verify(file, env, trusted, n_trust, &e);
        if (r == 0)
                r = profile_check_time(file, env, (int64_t)time(NULL), &e);
        if (r == 0 && revocation_match(&rl, &env->h, what, sizeof what))
                r = sr_fail(&e, SR_EXIT_REFUSED, EPERM, "revoked", "%s: revoked by \"%s\" in %s", file, what, revoked);
        revocation_free(&rl);
        if (r < 0) {
                profile_envelope_free(env);
                return sealctl_report("verify", &e);
        }
        profile_time_format(env->h.not_after, until);
        key_id_hex(env->h.recipient, rid);
        key_id_hex(env->h.issuer, iid);
        printf("ok: %s/%s version %llu, signed by %s, sealed to pool %s, valid until %s\n", env->h.tenant,
               env->h.profile, (unsigned long long)env->h.version, iid, rid, until);
        profile_envelope_free(env);
        return 0;
}
