/* Sealed tenant profiles, format v1: envelope, keys, plaintext, revocation list, times.
 * The format is specified in docs/profiles.md so another
 * implementation can read it; the constants below are part of it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/binding.h"
#include "policy/secmem.h"
#include "policy/util.h"

#define PROFILE_FORMAT "sealrun-profile/1"
#define PROFILE_MAX_BYTES (1u << 20) /* whole envelope file */
#define PROFILE_NAME_MAX 64
#define PROFILE_MAX_CREDS 64
#define PROFILE_SKEW_S 300 /* issued_at may be this far in the future */

#define KEY_ID_BYTES 8 /* first 8 bytes of BLAKE2b-256(pk) */
#define KEY_ID_HEX (2 * KEY_ID_BYTES + 1)
#define KEY_BYTES 32
#define PROFILE_NONCE_BYTES 24
#define PROFILE_SIG_BYTES 64
#define PROFILE_TAG_BYTES 16
/* Fixed binary encoding of the header (the AEAD's associated data). */
#define PROFILE_AD_MAX (3 + sizeof(PROFILE_FORMAT) + 63 + PROFILE_NAME_MAX + 8 + 8 + 8 + 2 * KEY_ID_BYTES)

/* ---- keys ---------------------------------------------------------------- */

enum key_kind {
        KEY_POOL_SECRET, /* X25519 secret scalar: decrypts */
        KEY_POOL_PUBLIC,
        KEY_ISSUER_SECRET, /* Ed25519 seed: signs */
        KEY_ISSUER_PUBLIC,
};

struct sr_key {
        enum key_kind kind;
        uint8_t id[KEY_ID_BYTES];
        uint8_t pub[KEY_BYTES];
        uint8_t *secret; /* KEY_BYTES in a secmem block, or NULL */
};

/* Key id of a public key (docs/profiles.md "Keys and key files"). */
void key_id_of(const uint8_t pub[KEY_BYTES], uint8_t id[KEY_ID_BYTES]);
void key_id_hex(const uint8_t id[KEY_ID_BYTES], char out[KEY_ID_HEX]);
int key_id_parse(const char *hex, uint8_t id[KEY_ID_BYTES]);
const char *key_kind_name(enum key_kind k);

/* Make a fresh key pair; the secret lands in `m`. */
int key_generate(bool issuer, struct secmem *m, struct sr_key *ret_secret, struct sr_key *ret_public);
/* The one-line text form "sealrun-key/1 KIND ID BASE64\n" (docs/profiles.md "Keys and key files").
 * For secret keys the line is built in `m`. */
int key_format(const struct sr_key *k, struct secmem *m, char **ret, size_t *ret_len);
/* Load a key file by fd. Secret keys must not be reachable by group or
 * others (mode & 077 == 0 while the file is linked) and must be owned by the
 * caller or root; public keys must not be group/world-writable. `name` is
 * used in messages. Errors exit 125 (bad usage) except `expect` mismatches. */
int key_load_fd(int fd, const char *name, enum key_kind expect, struct secmem *m, struct sr_key *ret,
                struct sr_error *e);
/* Parse without the mode/owner checks: for a descriptor already checked by
 * key_check_fd in another process (the sandbox sees other owners' ids as
 * the overflow id). */
int key_read_fd(int fd, const char *name, enum key_kind expect, struct secmem *m, struct sr_key *ret,
                struct sr_error *e);
int key_load_path(const char *path, enum key_kind expect, struct secmem *m, struct sr_key *ret, struct sr_error *e);
/* Read the id of a pool secret key file without reading the secret (pread
 * of the fixed-length prefix). Mode/owner checks as for key_load_fd. */
int key_peek_id(int fd, const char *name, uint8_t id[KEY_ID_BYTES], struct sr_error *e);
/* Check the mode and owner of an open key file. */
int key_check_fd(int fd, const char *name, bool secret, struct sr_error *e);

/* ---- envelope ------------------------------------------------------------ */

struct profile_header {
        char tenant[64];
        char profile[PROFILE_NAME_MAX + 1];
        uint64_t version;
        int64_t issued_at, not_after;    /* Unix seconds, UTC */
        uint8_t recipient[KEY_ID_BYTES]; /* pool key id */
        uint8_t issuer[KEY_ID_BYTES];    /* issuer key id */
};

struct profile_envelope {
        struct profile_header h;
        uint8_t epk[KEY_BYTES];
        uint8_t nonce[PROFILE_NONCE_BYTES];
        uint8_t sig[PROFILE_SIG_BYTES];
        uint8_t *ct; /* ciphertext incl. the 16-byte tag */
        size_t ct_len;
};

/* Profile names: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$. */
bool profile_name_valid(const char *s);
/* Fixed binary encoding of the header; returns its length. */
size_t profile_header_encode(const struct profile_header *h, uint8_t out[PROFILE_AD_MAX]);
/* Parse an envelope's structure (no crypto). Any problem: exit 77, reason
 * "malformed", message "NAME: $.path: problem". */
int profile_parse(const char *name, const char *buf, size_t len, struct profile_envelope **ret, struct sr_error *e);
/* Read (size-limited, regular file or memfd) and parse. */
int profile_load_fd(int fd, const char *name, size_t max, struct profile_envelope **ret, struct sr_error *e);
void profile_envelope_free(struct profile_envelope *env);
/* Serialise to the canonical one-line JSON (with a trailing newline). */
int profile_format(const struct profile_envelope *env, char **ret, size_t *ret_len);
/* The header alone as JSON (sealctl inspect --json). */
char *profile_header_json(const struct profile_envelope *env);

/* The issuer must be among `trusted` (exit 77 "untrusted-issuer") and the
 * signature valid (77 "bad-signature"). */
int profile_verify(const char *name, const struct profile_envelope *env, const struct sr_key *trusted, size_t n_trusted,
                   struct sr_error *e);
/* Time window at `now`: not expired (77 "expired"), not issued in the future. */
int profile_check_time(const char *name, const struct profile_envelope *env, int64_t now, struct sr_error *e);

/* Encrypt and sign. `h` must be complete except for recipient and issuer,
 * which are filled from the keys. */
int profile_seal(const struct profile_header *h, const struct sr_key *pool_pub, const struct sr_key *issuer_secret,
                 const uint8_t *plaintext, size_t len, struct profile_envelope **ret, struct sr_error *e);
/* Decrypt into `m` with the pool's secret key (checks the recipient id and
 * the AEAD tag; does not check the signature: call profile_verify first). */
int profile_decrypt(const char *name, const struct profile_envelope *env, const struct sr_key *pool_secret,
                    struct secmem *m, uint8_t **ret, size_t *ret_len, struct sr_error *e);

/* ---- plaintext ----------------------------------------------------------- */

enum cred_as { CRED_FILE = 1, CRED_ENV = 2, CRED_BOTH = 3 };

struct profile_cred {
        const char *name;
        const uint8_t *value; /* value_len bytes + NUL, in the arena */
        size_t value_len;
        enum cred_as as;
        const char *scope;               /* NULL when the credential has none */
        const struct cred_binding *bind; /* "bind": brokered (policy/binding.h), or NULL */
        bool placeholder;                /* value is the broker's placeholder (proxy mode handoff) */
};

struct profile_plain {
        struct secmem *arena; /* owns everything below */
        const char *tenant;
        struct profile_cred *creds;
        size_t n_creds;
};

/* Parse and validate plaintext JSON. Parsing runs with jansson's allocator
 * pointed at `m`; errors never quote input (exit code `exit_code`). */
int profile_plain_parse(const char *name, struct secmem *m, const uint8_t *buf, size_t len, int exit_code,
                        struct profile_plain *ret, struct sr_error *e);

/* ---- revocation list ----------------------------------------------------- */

enum revoke_kind { REVOKE_TENANT, REVOKE_KEY };

struct revoke_entry {
        enum revoke_kind kind;
        char tenant[64];
        char profile[PROFILE_NAME_MAX + 1]; /* "" = every profile */
        bool has_version;
        bool version_below; /* "version<N": every version below N */
        uint64_t version;
        uint8_t key_id[KEY_ID_BYTES];
        char reason[65]; /* "" or a reason code ([A-Za-z0-9_.:-], as in audit) */
};

struct revocation_list {
        struct revoke_entry *v;
        size_t n;
};

int revocation_parse(const char *name, const char *buf, size_t len, struct revocation_list *ret, struct sr_error *e);
/* Load from a path: regular file, not group/world-writable, owned by root
 * or the caller. Errors exit 125. */
int revocation_load(const char *path, struct revocation_list *ret, struct sr_error *e);
void revocation_free(struct revocation_list *l);
/* Does an entry revoke this header? *ret_entry gets the matching line's text. */
bool revocation_match(const struct revocation_list *l, const struct profile_header *h, char *what, size_t what_size);
/* One entry as its line (without the newline). */
int revocation_entry_format(const struct revoke_entry *r, char *buf, size_t size);
/* Does entry a revoke everything entry b does (the reasons aside)? Then
 * adding b to a list holding a changes nothing. */
bool revocation_entry_covers(const struct revoke_entry *a, const struct revoke_entry *b);
/* A reason code: 1..64 of [A-Za-z0-9_.:-]. */
bool revocation_reason_valid(const char *s);

/* ---- times --------------------------------------------------------------- */

/* RFC 3339 ("2025-01-31T12:00:00Z", offsets and fractions accepted) or
 * "+DURATION" relative to now: "+90s", "+15m", "+24h", "+7d", "+1h30m". */
int profile_time_parse(const char *s, int64_t now, int64_t *ret);
/* Canonical UTC form "YYYY-MM-DDTHH:MM:SSZ". */
void profile_time_format(int64_t t, char out[32]);
