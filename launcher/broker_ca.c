/* Egress broker, supervisor half: the per-task CA and the trust stores, made
 * before the clone so that nothing the broker uses is ever read from a path
 * inside the sandbox (where the payload could plant a file).
 *
 * OpenSSL is initialised without its configuration file (OPENSSL_CONF is
 * never read: OPENSSL_INIT_NO_LOAD_CONFIG), and the stores are PEM text in
 * memory, parsed by the proxy before the payload starts. */
#include "launcher/broker.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CA_VALIDITY (24 * 3600) /* a task outliving its CA gets handshake failures, not a wider window */

static int read_pem(const char *path, char **ret, size_t *ret_len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        char *b;
        size_t n = 0;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > BROKER_STORE_MAX) {
                close(fd);
                return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
        }
        b = malloc((size_t)st.st_size + 1);
        if (!b) {
                close(fd);
                return -ENOMEM;
        }
        while (n < (size_t)st.st_size) {
                ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
        }
        close(fd);
        b[n] = 0;
        *ret = b;
        *ret_len = n;
        return 0;
}

/* At least one certificate, and nothing that is not one. */
static int count_certs(const char *pem, size_t len) {
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        X509 *x;
        int n = 0;
        if (!bio)
                return -ENOMEM;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                X509_free(x);
                n++;
        }
        ERR_clear_error();
        BIO_free(bio);
        return n;
}

static int add_ext(X509 *cert, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *ex;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
        ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!ex)
                return -EINVAL;
        X509_add_ext(cert, ex, -1);
        X509_EXTENSION_free(ex);
        return 0;
}

static int make_ca(struct broker_ca *ca, const char *task) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        X509_NAME *name;
        ASN1_INTEGER *serial;
        unsigned char rnd[16];
        char cn[128];
        BIGNUM *bn;
        BIO *bio;
        BUF_MEM *mem;
        time_t now = time(NULL);
        if (!key || !x)
                goto fail;
        X509_set_version(x, 2);
        if (RAND_bytes(rnd, sizeof rnd) != 1 || !(bn = BN_bin2bn(rnd, sizeof rnd, NULL)))
                goto fail;
        BN_clear_bit(bn, 127); /* positive */
        serial = BN_to_ASN1_INTEGER(bn, NULL);
        BN_free(bn);
        X509_set_serialNumber(x, serial);
        ASN1_INTEGER_free(serial);
        X509_time_adj_ex(X509_getm_notBefore(x), 0, -300, &now);
        X509_time_adj_ex(X509_getm_notAfter(x), 0, CA_VALIDITY, &now);
        ca->not_after = (int64_t)now + CA_VALIDITY;
        X509_set_pubkey(x, key);
        name = X509_get_subject_name(x);
        snprintf(cn, sizeof cn, "sealrun task CA %.80s", task ? task : "");
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"sealrun", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, name);
        if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
            add_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
            add_ext(x, NID_subject_key_identifier, "hash") < 0 || !X509_sign(x, key, EVP_sha256()))
                goto fail;
        bio = BIO_new(BIO_s_mem());
        if (!bio || !PEM_write_bio_X509(bio, x)) {
                BIO_free(bio);
                goto fail;
        }
        BIO_get_mem_ptr(bio, &mem);
        ca->cert_pem = strndup(mem->data, mem->length);
        BIO_free(bio);
        if (!ca->cert_pem)
                goto fail;
        ca->key = key;
        ca->cert = x;
        return 0;
fail:
        EVP_PKEY_free(key);
        X509_free(x);
        return -EIO;
}

int broker_ca_prepare(struct task *t, struct broker_ca **ret, struct sr_error *e) {
        const struct policy_egress *pe = &t->cfg.egress;
        struct broker_ca *ca;
        int r;
        *ret = NULL;
        /* before any other OpenSSL call: never read openssl.cnf (OPENSSL_CONF) */
        OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
        ca = calloc(1, sizeof *ca);
        if (!ca)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "egress: out of memory");
        if (pe->trust_store) {
                r = read_pem(pe->trust_store, &ca->policy_store, &ca->policy_store_len);
                if (r == 0 && count_certs(ca->policy_store, ca->policy_store_len) <= 0)
                        r = -EBADMSG;
                if (r < 0) {
                        broker_ca_free(ca);
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "bad-input", "%s: $.network.egress.trust_store: %s: %s",
                                       t->pol->file, pe->trust_store,
                                       r == -EBADMSG ? "no PEM certificate in it" : strerror(-r));
                }
        }
        /* the host's store; a host without one has an empty store (every
         * unbound host then fails verification: closed, not open) */
        if (read_pem(X509_get_default_cert_file(), &ca->host_store, &ca->host_store_len) < 0) {
                ca->host_store = strdup("");
                ca->host_store_len = 0;
        }
        if (!ca->host_store || make_ca(ca, t->cfg.task) < 0) {
                broker_ca_free(ca);
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "egress", "egress: cannot make the task CA");
        }
        *ret = ca;
        return 0;
}

int broker_ca_files(const struct broker_ca *ca, char **ret_bundle, char **ret_ca) {
        *ret_bundle = NULL;
        *ret_ca = strdup(ca->cert_pem);
        if (!*ret_ca || asprintf(ret_bundle, "%s%s%s", ca->host_store,
                                 ca->host_store_len && ca->host_store[ca->host_store_len - 1] != '\n' ? "\n" : "",
                                 ca->cert_pem) < 0) {
                free(*ret_ca);
                *ret_ca = NULL;
                *ret_bundle = NULL;
                return -ENOMEM;
        }
        return 0;
}

void broker_ca_free(struct broker_ca *ca) {
        if (!ca)
                return;
        EVP_PKEY_free(ca->key); /* the private scalar is cleared on free */
        X509_free(ca->cert);
        free(ca->cert_pem);
        free(ca->host_store);
        free(ca->policy_store);
        free(ca);
}
