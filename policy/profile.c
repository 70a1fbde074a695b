/* Sealed profile envelope v1: strict parse, fixed binary header (AD), seal, verify, decrypt. */
#include "policy/profile.h"

#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/jsonx.h"

/* Domain separation for the key derivation (docs/profiles.md "Envelope"). */
#define PROFILE_KDF_CONTEXT "sealrun-profile/1 key"

bool profile_name_valid(const char *s) {
        size_t n;
        if (!s)
                return false;
        n = strlen(s);
        if (n < 1 || n > PROFILE_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (!alnum && (i == 0 || !(c == '.' || c == '_' || c == '-')))
                        return false;
        }
        return true;
}

static uint8_t *put_str(uint8_t *p, const char *s) {
        size_t n = strlen(s);
        *p++ = (uint8_t)n;
        memcpy(p, s, n);
        return p + n;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v) {
        for (int i = 7; i >= 0; i--)
                *p++ = (uint8_t)(v >> (8 * i));
        return p;
}

size_t profile_header_encode(const struct profile_header *h, uint8_t out[PROFILE_AD_MAX]) {
        uint8_t *p = out;
        p = put_str(p, PROFILE_FORMAT);
        p = put_str(p, h->tenant);
        p = put_str(p, h->profile);
        p = put_u64(p, h->version);
        p = put_u64(p, (uint64_t)h->issued_at);
        p = put_u64(p, (uint64_t)h->not_after);
        memcpy(p, h->recipient, KEY_ID_BYTES);
        p += KEY_ID_BYTES;
        memcpy(p, h->issuer, KEY_ID_BYTES);
        p += KEY_ID_BYTES;
        return (size_t)(p - out);
}

void profile_envelope_free(struct profile_envelope *env) {
        if (!env)
                return;
        free(env->ct);
        free(env);
}

static int b64_field(struct jx *x, json_t *o, const char *key, uint8_t *dst, size_t want, uint8_t **ret_alloc,
                     size_t *ret_len) {
        const char *s, *end = NULL;
        char p[64];
        size_t n, bin_len = 0, cap;
        int r = jx_string(x, o, "$", key, true, &s);
        if (r < 0)
                return r;
        n = strlen(s);
        cap = want ? want : n / 4 * 3 + 3;
        if (ret_alloc && !(dst = *ret_alloc = malloc(cap ? cap : 1)))
                return -ENOMEM;
        snprintf(p, sizeof p, "$.%s", key);
        if (n % 4 != 0 || sodium_base642bin(dst, cap, s, n, NULL, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) < 0 ||
            *end)
                return want ? jx_fail(x, p, "must be base64 of %zu bytes", want)
                            : jx_fail(x, p, "not canonical base64");
        if (want && bin_len != want)
                return jx_fail(x, p, "must decode to %zu bytes, got %zu", want, bin_len);
        if (ret_len)
                *ret_len = bin_len;
        return 0;
}

static int time_field(struct jx *x, json_t *o, const char *key, int64_t *ret) {
        const char *s;
        char p[64], canon[32];
        int r = jx_string(x, o, "$.header", key, true, &s);
        if (r < 0)
                return r;
        snprintf(p, sizeof p, "$.header.%s", key);
        if (profile_time_parse(s, 0, ret) < 0 || s[0] == '+')
                return jx_fail(x, p, "not an RFC 3339 time");
        /* one spelling per instant: the JSON header and the signed binary
         * header must not be able to disagree in what they show */
        profile_time_format(*ret, canon);
        if (strcmp(canon, s) != 0)
                return jx_fail(x, p, "not in canonical form YYYY-MM-DDTHH:MM:SSZ");
        return 0;
}

static int id_field(struct jx *x, json_t *o, const char *key, uint8_t id[KEY_ID_BYTES]) {
        const char *s;
        char p[64];
        int r = jx_string(x, o, "$.header", key, true, &s);
        if (r < 0)
                return r;
        snprintf(p, sizeof p, "$.header.%s", key);
        if (key_id_parse(s, id) < 0)
                return jx_fail(x, p, "must be a key id of 16 lowercase hex digits");
        return 0;
}

static int parse_header(struct jx *x, json_t *hv, struct profile_header *h) {
        static const char *const keys[] = { "format",    "tenant",    "profile", "version", "issued_at",
                                            "not_after", "recipient", "issuer",  NULL };
        const char *format, *tenant, *profile;
        long long version;
        int r;
        if ((r = jx_object(x, hv, "$.header", keys)) < 0 ||
            (r = jx_string(x, hv, "$.header", "format", true, &format)) < 0)
                return r;
        if (strcmp(format, PROFILE_FORMAT) != 0)
                return jx_fail(x, "$.header.format", "unsupported format (this sealrun reads \"%s\")", PROFILE_FORMAT);
        if ((r = jx_string(x, hv, "$.header", "tenant", true, &tenant)) < 0 ||
            (r = jx_string(x, hv, "$.header", "profile", true, &profile)) < 0 ||
            (r = jx_int(x, hv, "$.header", "version", true, 1, (1LL << 53) - 1, &version)) < 0 ||
            (r = time_field(x, hv, "issued_at", &h->issued_at)) < 0 ||
            (r = time_field(x, hv, "not_after", &h->not_after)) < 0 ||
            (r = id_field(x, hv, "recipient", h->recipient)) < 0 || (r = id_field(x, hv, "issuer", h->issuer)) < 0)
                return r;
        if (!slug_valid(tenant))
                return jx_fail(x, "$.header.tenant", "not a valid tenant slug");
        if (!profile_name_valid(profile))
                return jx_fail(x, "$.header.profile", "not a valid profile name");
        snprintf(h->tenant, sizeof h->tenant, "%s", tenant);
        snprintf(h->profile, sizeof h->profile, "%s", profile);
        h->version = (uint64_t)version;
        return 0;
}

int profile_parse(const char *name, const char *buf, size_t len, struct profile_envelope **ret, struct sr_error *e) {
        static const char *const keys[] = { "header", "epk", "nonce", "ciphertext", "signature", NULL };
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_REFUSED };
        struct profile_envelope *env;
        json_t *root = NULL, *hv;
        int r;

        if (sodium_init() < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "crypto", "libsodium failed to initialise");
        if (len > PROFILE_MAX_BYTES)
                return sr_fail(e, SR_EXIT_REFUSED, EFBIG, "malformed", "%s: profile larger than %u bytes", name,
                               PROFILE_MAX_BYTES);
        env = calloc(1, sizeof *env);
        if (!env)
                return -ENOMEM;
        r = jx_load(&x, buf, len, &root);
        if (r == 0)
                r = jx_object(&x, root, "$", keys);
        if (r == 0) {
                hv = json_object_get(root, "header");
                r = hv ? parse_header(&x, hv, &env->h) : jx_fail(&x, "$.header", "missing required key");
        }
        if (r == 0)
                r = b64_field(&x, root, "epk", env->epk, KEY_BYTES, NULL, NULL);
        if (r == 0)
                r = b64_field(&x, root, "nonce", env->nonce, PROFILE_NONCE_BYTES, NULL, NULL);
        if (r == 0)
                r = b64_field(&x, root, "signature", env->sig, PROFILE_SIG_BYTES, NULL, NULL);
        if (r == 0)
                r = b64_field(&x, root, "ciphertext", NULL, 0, &env->ct, &env->ct_len);
        if (r == 0 && env->ct_len < PROFILE_TAG_BYTES)
                r = jx_fail(&x, "$.ciphertext", "shorter than the authentication tag");
        json_decref(root);
        if (r < 0) {
                if (r == -ENOMEM)
                        sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
                else if (e)
                        snprintf(e->reason, sizeof e->reason, "malformed");
                profile_envelope_free(env);
                return r;
        }
        *ret = env;
        return 0;
}

int profile_load_fd(int fd, const char *name, size_t max, struct profile_envelope **ret, struct sr_error *e) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;
        if (max == 0 || max > PROFILE_MAX_BYTES)
                max = PROFILE_MAX_BYTES;
        r = read_fd_all(fd, max, &buf, &len);
        if (r == -EFBIG)
                return sr_fail(e, SR_EXIT_REFUSED, EFBIG, "oversized", "%s: profile larger than %zu bytes", name, max);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "profile", "%s: cannot read profile: %s", name, strerror(-r));
        return profile_parse(name, buf, len, ret, e);
}

static char *b64(const uint8_t *bin, size_t n) {
        size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
        char *s = malloc(cap);
        if (s)
                sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
        return s;
}

int profile_format(const struct profile_envelope *env, char **ret, size_t *ret_len) {
        _cleanup_free_ char *epk = b64(env->epk, KEY_BYTES), *nonce = b64(env->nonce, PROFILE_NONCE_BYTES),
                            *sig = b64(env->sig, PROFILE_SIG_BYTES), *ct = b64(env->ct, env->ct_len);
        char issued[32], until[32], rid[KEY_ID_HEX], iid[KEY_ID_HEX], *out = NULL;
        int n;
        if (!epk || !nonce || !sig || !ct)
                return -ENOMEM;
        profile_time_format(env->h.issued_at, issued);
        profile_time_format(env->h.not_after, until);
        key_id_hex(env->h.recipient, rid);
        key_id_hex(env->h.issuer, iid);
        /* every string here is validated to need no JSON escaping */
        n = asprintf(&out,
                     "{\"header\":{\"format\":\"%s\",\"tenant\":\"%s\",\"profile\":\"%s\",\"version\":%llu,"
                     "\"issued_at\":\"%s\",\"not_after\":\"%s\",\"recipient\":\"%s\",\"issuer\":\"%s\"},"
                     "\"epk\":\"%s\",\"nonce\":\"%s\",\"ciphertext\":\"%s\",\"signature\":\"%s\"}\n",
                     PROFILE_FORMAT, env->h.tenant, env->h.profile, (unsigned long long)env->h.version, issued, until,
                     rid, iid, epk, nonce, ct, sig);
        if (n < 0)
                return -ENOMEM;
        *ret = out;
        *ret_len = (size_t)n;
        return 0;
}

char *profile_header_json(const struct profile_envelope *env) {
        char issued[32], until[32], rid[KEY_ID_HEX], iid[KEY_ID_HEX], *txt;
        json_t *o;
        profile_time_format(env->h.issued_at, issued);
        profile_time_format(env->h.not_after, until);
        key_id_hex(env->h.recipient, rid);
        key_id_hex(env->h.issuer, iid);
        o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "format", PROFILE_FORMAT, "tenant",
                      env->h.tenant, "profile", env->h.profile, "version", (json_int_t)env->h.version, "issued_at",
                      issued, "not_after", until, "recipient", rid, "issuer", iid, "ciphertext_bytes",
                      (json_int_t)env->ct_len);
        if (!o)
                return NULL;
        txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        return txt;
}

/* The signed message: binary header || epk || nonce || ciphertext. */
static uint8_t *signed_message(const struct profile_envelope *env, size_t *ret_len) {
        uint8_t ad[PROFILE_AD_MAX], *msg;
        size_t adl = profile_header_encode(&env->h, ad);
        size_t n = adl + KEY_BYTES + PROFILE_NONCE_BYTES + env->ct_len;
        msg = malloc(n);
        if (!msg)
                return NULL;
        memcpy(msg, ad, adl);
        memcpy(msg + adl, env->epk, KEY_BYTES);
        memcpy(msg + adl + KEY_BYTES, env->nonce, PROFILE_NONCE_BYTES);
        memcpy(msg + adl + KEY_BYTES + PROFILE_NONCE_BYTES, env->ct, env->ct_len);
        *ret_len = n;
        return msg;
}

int profile_verify(const char *name, const struct profile_envelope *env, const struct sr_key *trusted, size_t n_trusted,
                   struct sr_error *e) {
        const struct sr_key *issuer = NULL;
        _cleanup_free_ uint8_t *msg = NULL;
        char iid[KEY_ID_HEX];
        size_t len;
        for (size_t i = 0; i < n_trusted; i++)
                if (trusted[i].kind == KEY_ISSUER_PUBLIC && memcmp(trusted[i].id, env->h.issuer, KEY_ID_BYTES) == 0)
                        issuer = &trusted[i];
        key_id_hex(env->h.issuer, iid);
        if (!issuer)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "untrusted-issuer",
                               "%s: signed by issuer %s, which is not trusted", name, iid);
        if (!(msg = signed_message(env, &len)))
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
        if (crypto_sign_verify_detached(env->sig, msg, len, issuer->pub) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EBADMSG, "bad-signature",
                               "%s: signature does not verify with issuer key %s", name, iid);
        return 0;
}

int profile_check_time(const char *name, const struct profile_envelope *env, int64_t now, struct sr_error *e) {
        char t[32];
        if (env->h.not_after <= now) {
                profile_time_format(env->h.not_after, t);
                return sr_fail(e, SR_EXIT_REFUSED, EKEYEXPIRED, "expired", "%s: profile expired at %s", name, t);
        }
        if (env->h.issued_at > now + PROFILE_SKEW_S) {
                profile_time_format(env->h.issued_at, t);
                return sr_fail(e, SR_EXIT_REFUSED, EINVAL, "not-yet-valid", "%s: profile is issued in the future (%s)",
                               name, t);
        }
        return 0;
}

/* key = BLAKE2b-256(context || X25519(esk, ppk) || epk || ppk). */
static void derive_key(const uint8_t *shared, const uint8_t epk[KEY_BYTES], const uint8_t ppk[KEY_BYTES],
                       uint8_t *key) {
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
        crypto_generichash_update(&st, (const uint8_t *)PROFILE_KDF_CONTEXT, sizeof(PROFILE_KDF_CONTEXT) - 1);
        crypto_generichash_update(&st, shared, crypto_scalarmult_BYTES);
        crypto_generichash_update(&st, epk, KEY_BYTES);
        crypto_generichash_update(&st, ppk, KEY_BYTES);
        crypto_generichash_final(&st, key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
        sodium_memzero(&st, sizeof st);
}

static int seal(const struct profile_header *h, const struct sr_key *pool_pub, const struct sr_key *issuer_secret,
                const uint8_t *plaintext, size_t len, struct profile_envelope **ret, struct sr_error *e) {
        _cleanup_(secmem_destroyp) struct secmem *m = NULL;
        struct profile_envelope *env;
        uint8_t ad[PROFILE_AD_MAX], *esk, *shared, *key, *sk, *msg;
        unsigned long long ct_len = 0;
        size_t adl, msg_len;

        if (sodium_init() < 0 || secmem_new(256 * 1024, &m) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "crypto", "cannot initialise libsodium");
        if (pool_pub->kind != KEY_POOL_PUBLIC || issuer_secret->kind != KEY_ISSUER_SECRET)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "seal needs a pool public key and an issuer secret key");
        if (len > PROFILE_MAX_BYTES / 4 * 3 - 4096)
                return sr_fail(e, SR_EXIT_LAUNCHER, EFBIG, "oversized", "plaintext too large for a %u-byte profile",
                               PROFILE_MAX_BYTES);
        esk = secmem_alloc(m, KEY_BYTES);
        shared = secmem_alloc(m, crypto_scalarmult_BYTES);
        key = secmem_alloc(m, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
        sk = secmem_alloc(m, crypto_sign_SECRETKEYBYTES);
        env = calloc(1, sizeof *env);
        if (!esk || !shared || !key || !sk || !env || !(env->ct = malloc(len + PROFILE_TAG_BYTES))) {
                profile_envelope_free(env);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "cannot allocate locked memory");
        }
        env->h = *h;
        memcpy(env->h.recipient, pool_pub->id, KEY_ID_BYTES);
        memcpy(env->h.issuer, issuer_secret->id, KEY_ID_BYTES);
        adl = profile_header_encode(&env->h, ad);

        randombytes_buf(esk, KEY_BYTES);
        crypto_scalarmult_base(env->epk, esk);
        if (crypto_scalarmult(shared, esk, pool_pub->pub) != 0) {
                profile_envelope_free(env);
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key",
                               "the pool public key is not usable (low order point)");
        }
        derive_key(shared, env->epk, pool_pub->pub, key);
        randombytes_buf(env->nonce, PROFILE_NONCE_BYTES);
        crypto_aead_xchacha20poly1305_ietf_encrypt(env->ct, &ct_len, plaintext, len, ad, adl, NULL, env->nonce, key);
        env->ct_len = (size_t)ct_len;

        if (!(msg = signed_message(env, &msg_len))) {
                profile_envelope_free(env);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        }
        uint8_t pk[KEY_BYTES];
        crypto_sign_seed_keypair(pk, sk, issuer_secret->secret);
        crypto_sign_detached(env->sig, NULL, msg, msg_len, sk);
        free(msg);
        *ret = env;
        return 0;
}

int profile_seal(const struct profile_header *h, const struct sr_key *pool_pub, const struct sr_key *issuer_secret,
                 const uint8_t *plaintext, size_t len, struct profile_envelope **ret, struct sr_error *e) {
        int r = seal(h, pool_pub, issuer_secret, plaintext, len, ret, e);
        /* the ephemeral and issuer keys' temporaries in libsodium's frames */
        secmem_wipe_stack();
        return r;
}

int profile_decrypt(const char *name, const struct profile_envelope *env, const struct sr_key *pool_secret,
                    struct secmem *m, uint8_t **ret, size_t *ret_len, struct sr_error *e) {
        uint8_t ad[PROFILE_AD_MAX], *shared, *key, *pt;
        unsigned long long pt_len = 0;
        char want[KEY_ID_HEX], have[KEY_ID_HEX];
        size_t adl;
        int r = 0;

        if (pool_secret->kind != KEY_POOL_SECRET || !pool_secret->secret)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: decryption needs a pool secret key", name);
        if (sodium_memcmp(pool_secret->id, env->h.recipient, KEY_ID_BYTES) != 0) {
                key_id_hex(env->h.recipient, want);
                key_id_hex(pool_secret->id, have);
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "wrong-recipient",
                               "%s: sealed to pool key %s, not to this key (%s)", name, want, have);
        }
        shared = secmem_alloc(m, crypto_scalarmult_BYTES);
        key = secmem_alloc(m, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
        pt = secmem_alloc(m, env->ct_len - PROFILE_TAG_BYTES + 1);
        if (!shared || !key || !pt) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem",
                            "%s: cannot allocate locked memory for the plaintext (RLIMIT_MEMLOCK?)", name);
                goto out;
        }
        if (crypto_scalarmult(shared, pool_secret->secret, env->epk) != 0) {
                r = sr_fail(e, SR_EXIT_REFUSED, EBADMSG, "malformed", "%s: $.epk: not a usable public key", name);
                goto out;
        }
        derive_key(shared, env->epk, pool_secret->pub, key);
        adl = profile_header_encode(&env->h, ad);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &pt_len, NULL, env->ct, env->ct_len, ad, adl, env->nonce,
                                                       key) != 0) {
                r = sr_fail(e, SR_EXIT_REFUSED, EBADMSG, "decrypt-failed",
                            "%s: ciphertext does not decrypt with this key (tampered or not sealed to it)", name);
                goto out;
        }
        pt[pt_len] = 0;
        *ret = pt;
        *ret_len = (size_t)pt_len;
        pt = NULL;
out:
        secmem_release(m, pt);
        secmem_release(m, key);
        secmem_release(m, shared);
        /* libsodium's frames below this one may hold the last block of the
         * plaintext (portable ChaCha20) and X25519/BLAKE2b temporaries */
        secmem_wipe_stack();
        return r;
}
