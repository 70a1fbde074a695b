/* Key files of sealed profiles: "sealrun-key/1 KIND ID BASE64", ids, generation, mode checks. */
#include "policy/profile.h"
#include "policy/trusted_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define KEY_MAGIC "sealrun-key/1"
#define KEY_LINE_MAX 256
#define KEY_B64_LEN 44 /* base64 of 32 bytes, with padding */

static const char *const kind_names[] = {
        [KEY_POOL_SECRET] = "pool-secret",
        [KEY_POOL_PUBLIC] = "pool-public",
        [KEY_ISSUER_SECRET] = "issuer-secret",
        [KEY_ISSUER_PUBLIC] = "issuer-public",
};

const char *key_kind_name(enum key_kind k) {
        return (unsigned)k < ELEMENTSOF(kind_names) ? kind_names[k] : "unknown";
}

static bool kind_is_secret(enum key_kind k) {
        return k == KEY_POOL_SECRET || k == KEY_ISSUER_SECRET;
}

void key_id_of(const uint8_t pub[KEY_BYTES], uint8_t id[KEY_ID_BYTES]) {
        uint8_t h[32];
        crypto_generichash(h, sizeof h, pub, KEY_BYTES, NULL, 0);
        memcpy(id, h, KEY_ID_BYTES);
}

void key_id_hex(const uint8_t id[KEY_ID_BYTES], char out[KEY_ID_HEX]) {
        sodium_bin2hex(out, KEY_ID_HEX, id, KEY_ID_BYTES);
}

int key_id_parse(const char *hex, uint8_t id[KEY_ID_BYTES]) {
        if (!hex || strlen(hex) != KEY_ID_HEX - 1)
                return -EINVAL;
        for (const char *c = hex; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                        return -EINVAL;
        size_t n = 0;
        if (sodium_hex2bin(id, KEY_ID_BYTES, hex, KEY_ID_HEX - 1, NULL, &n, NULL) < 0 || n != KEY_ID_BYTES)
                return -EINVAL;
        return 0;
}

/* Derive the public half of a secret; ed25519 needs a 64-byte scratch key. */
static int key_derive_public(struct sr_key *k, struct secmem *m) {
        if (k->kind == KEY_POOL_SECRET)
                return crypto_scalarmult_base(k->pub, k->secret) == 0 ? 0 : -EINVAL;
        uint8_t *sk = secmem_alloc(m, crypto_sign_SECRETKEYBYTES);
        if (!sk)
                return -ENOMEM;
        crypto_sign_seed_keypair(k->pub, sk, k->secret);
        secmem_release(m, sk);
        return 0;
}

int key_generate(bool issuer, struct secmem *m, struct sr_key *ret_secret, struct sr_key *ret_public) {
        struct sr_key s = { .kind = issuer ? KEY_ISSUER_SECRET : KEY_POOL_SECRET };
        int r;
        if (sodium_init() < 0)
                return -EIO;
        s.secret = secmem_alloc(m, KEY_BYTES);
        if (!s.secret)
                return -ENOMEM;
        randombytes_buf(s.secret, KEY_BYTES);
        if ((r = key_derive_public(&s, m)) < 0) {
                secmem_release(m, s.secret);
                return r;
        }
        key_id_of(s.pub, s.id);
        *ret_public = (struct sr_key){ .kind = issuer ? KEY_ISSUER_PUBLIC : KEY_POOL_PUBLIC };
        memcpy(ret_public->pub, s.pub, KEY_BYTES);
        memcpy(ret_public->id, s.id, KEY_ID_BYTES);
        *ret_secret = s;
        return 0;
}

int key_format(const struct sr_key *k, struct secmem *m, char **ret, size_t *ret_len) {
        char id[KEY_ID_HEX], *line;
        const uint8_t *bytes = kind_is_secret(k->kind) ? k->secret : k->pub;
        size_t n;
        if (!bytes)
                return -EINVAL;
        line = m ? secmem_alloc(m, KEY_LINE_MAX) : malloc(KEY_LINE_MAX);
        if (!line)
                return -ENOMEM;
        key_id_hex(k->id, id);
        n = (size_t)snprintf(line, KEY_LINE_MAX, "%s %s %s ", KEY_MAGIC, key_kind_name(k->kind), id);
        sodium_bin2base64(line + n, KEY_LINE_MAX - n, bytes, KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
        n = strlen(line);
        line[n++] = '\n';
        line[n] = 0;
        *ret = line;
        *ret_len = n;
        return 0;
}

int key_check_fd(int fd, const char *name, bool secret, struct sr_error *e) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "key", "%s: cannot stat key: %s", name, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: key is not a regular file", name);
        /* A public key is a trust anchor: whoever can write it picks the issuer. */
        return trusted_file_check(fd, name, secret ? "secret key" : "public key (a trust anchor)", "key-permissions",
                                  secret ? TRUSTED_FILE_SECRET : 0, e);
}

static int pread_all(int fd, void *buf, size_t size, size_t *ret_len) {
        size_t len = 0;
        while (len < size) {
                ssize_t n = pread(fd, (char *)buf + len, size - len, (off_t)len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        *ret_len = len;
        return 0;
}

static int key_parse_line(const char *name, char *line, size_t len, enum key_kind expect, struct secmem *m,
                          struct sr_key *k, struct sr_error *e) {
        char *f[4], *save = NULL, *tok;
        size_t n = 0, bin_len = 0;
        const char *end = NULL;
        uint8_t id[KEY_ID_BYTES], *dst;

        if (len == 0 || line[len - 1] != '\n' || strlen(line) != len || memchr(line, '\n', len) != line + len - 1)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key",
                               "%s: not a sealrun key file (expected one line \"%s KIND ID BASE64\")", name, KEY_MAGIC);
        line[len - 1] = 0;
        for (tok = strtok_r(line, " ", &save); tok && n < 4; tok = strtok_r(NULL, " ", &save))
                f[n++] = tok;
        if (n != 4 || tok || strcmp(f[0], KEY_MAGIC) != 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key",
                               "%s: not a sealrun key file (expected \"%s KIND ID BASE64\")", name, KEY_MAGIC);
        if (strcmp(f[1], key_kind_name(expect)) != 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: key kind is %.20s, expected %s", name, f[1],
                               key_kind_name(expect));
        if (key_id_parse(f[2], id) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: key id must be 16 lowercase hex digits", name);
        *k = (struct sr_key){ .kind = expect };
        if (kind_is_secret(expect)) {
                if (!(k->secret = secmem_alloc(m, KEY_BYTES)))
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem",
                                       "%s: cannot allocate locked memory for the key", name);
                dst = k->secret;
        } else
                dst = k->pub;
        if (strlen(f[3]) != KEY_B64_LEN ||
            sodium_base642bin(dst, KEY_BYTES, f[3], KEY_B64_LEN, NULL, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) <
                    0 ||
            bin_len != KEY_BYTES || *end) {
                secmem_release(m, k->secret);
                k->secret = NULL;
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: key material is not base64 of %d bytes", name,
                               KEY_BYTES);
        }
        if (kind_is_secret(expect) && key_derive_public(k, m) < 0) {
                secmem_release(m, k->secret);
                k->secret = NULL;
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: not a usable key", name);
        }
        key_id_of(k->pub, k->id);
        if (sodium_memcmp(k->id, id, KEY_ID_BYTES) != 0) {
                secmem_release(m, k->secret);
                k->secret = NULL;
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: the key id in the file does not match the key",
                               name);
        }
        return 0;
}

int key_read_fd(int fd, const char *name, enum key_kind expect, struct secmem *m, struct sr_key *ret,
                struct sr_error *e) {
        bool secret = kind_is_secret(expect);
        char pub_buf[KEY_LINE_MAX + 1], *buf = pub_buf;
        size_t len = 0;
        int r;

        if (sodium_init() < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "crypto", "libsodium failed to initialise");
        if (secret && !(buf = secmem_alloc(m, KEY_LINE_MAX + 1)))
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: cannot allocate locked memory for the key",
                               name);
        r = pread_all(fd, buf, KEY_LINE_MAX + 1, &len);
        if (r < 0)
                r = sr_fail(e, SR_EXIT_LAUNCHER, -r, "key", "%s: cannot read key: %s", name, strerror(-r));
        else if (len > KEY_LINE_MAX)
                r = sr_fail(e, SR_EXIT_LAUNCHER, EFBIG, "key", "%s: not a sealrun key file (too long)", name);
        else {
                buf[len] = 0;
                r = key_parse_line(name, buf, len, expect, m, ret, e);
        }
        if (secret) {
                secmem_release(m, buf);
                /* the base64 decoder's and X25519/Ed25519 key derivation's
                 * temporaries in libsodium's frames */
                secmem_wipe_stack();
        }
        return r;
}

int key_load_fd(int fd, const char *name, enum key_kind expect, struct secmem *m, struct sr_key *ret,
                struct sr_error *e) {
        int r = key_check_fd(fd, name, kind_is_secret(expect), e);
        return r < 0 ? r : key_read_fd(fd, name, expect, m, ret, e);
}

int key_load_path(const char *path, enum key_kind expect, struct secmem *m, struct sr_key *ret, struct sr_error *e) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "key", "%s: cannot open key: %s%s", path, strerror(errno),
                               errno == ELOOP ? " (symlinks are not followed)" : "");
        return key_load_fd(fd, path, expect, m, ret, e);
}

int key_peek_id(int fd, const char *name, uint8_t id[KEY_ID_BYTES], struct sr_error *e) {
        /* "sealrun-key/1 pool-secret " + 16 hex + " ": never a byte of the secret */
        char prefix[sizeof(KEY_MAGIC " pool-secret ") - 1 + KEY_ID_HEX], hex[KEY_ID_HEX];
        const size_t plen = sizeof prefix;
        const size_t mlen = sizeof(KEY_MAGIC " pool-secret ") - 1;
        size_t len = 0;
        int r;

        struct stat st;
        /* pread below: the child reads the same open file from offset 0 */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key",
                               "%s: key is not a regular file (pass a file or a memfd, not a pipe)", name);
        /* the kind first, so a public key given as --key is named as such */
        if ((r = pread_all(fd, prefix, plen, &len)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "key", "%s: cannot read key: %s", name, strerror(-r));
        if (len != plen || memcmp(prefix, KEY_MAGIC " ", sizeof(KEY_MAGIC)) != 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: not a sealrun key file", name);
        if (memcmp(prefix, KEY_MAGIC " pool-secret ", mlen) != 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: not a pool-secret key", name);
        if (prefix[plen - 1] != ' ')
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: not a sealrun key file", name);
        memcpy(hex, prefix + mlen, KEY_ID_HEX - 1);
        hex[KEY_ID_HEX - 1] = 0;
        if (key_id_parse(hex, id) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "key", "%s: key id must be 16 lowercase hex digits", name);
        return key_check_fd(fd, name, true, e);
}
