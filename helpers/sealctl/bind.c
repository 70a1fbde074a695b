/* sealctl: a plaintext's bindings, checked (seal: every ca_pem certificate parsed with OpenSSL 3) and shown (inspect
 * --key: names and hosts, never values). */
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "helpers/sealctl/sealctl.h"

/* Number of certificates, or -1 when any PEM block is not a certificate
 * OpenSSL can parse, or when there is anything but whitespace around them. */
static int count_certs(const char *pem) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        X509 *x;
        int n = 0;
        if (!bio)
                return -1;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                X509_free(x);
                n++;
        }
        /* the loop ends at the end of input (PEM_R_NO_START_LINE) or at a bad block */
        unsigned long err = ERR_peek_last_error();
        if (n == 0 || !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE))
                n = -1;
        ERR_clear_error();
        BIO_free(bio);
        /* text between or after the blocks that is not a block: refused */
        if (n > 0) {
                int begins = 0;
                for (const char *p = pem; (p = strstr(p, "-----BEGIN ")); p++)
                        begins++;
                if (begins != n)
                        n = -1;
        }
        return n;
}

int sealctl_check_bindings(const char *file, const struct profile_plain *p) {
        for (size_t i = 0; i < p->n_creds; i++) {
                const struct cred_binding *b = p->creds[i].bind;
                struct sr_error e;
                if (b && b->ca_pem && count_certs(b->ca_pem) < 0) {
                        sr_fail(&e, SR_EXIT_LAUNCHER, EINVAL, "bad-plaintext",
                                "%s: $.credentials[%zu].bind.ca_pem: not PEM certificates that OpenSSL can parse "
                                "(only CERTIFICATE blocks)",
                                file, i);
                        return sealctl_report("seal", &e);
                }
        }
        return 0;
}

static const char *inject_name(enum binding_inject k) {
        return k == BIND_BEARER ? "bearer" : k == BIND_BASIC ? "basic" : "header";
}

static const char *as_name(enum cred_as a) {
        return a == CRED_ENV ? "env" : a == CRED_BOTH ? "both" : "file";
}

/* Names, deliveries, scopes and bindings; never a value, a length of one,
 * or the basic user name. */
json_t *sealctl_creds_json(const struct profile_plain *p) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < p->n_creds; i++) {
                const struct profile_cred *c = &p->creds[i];
                const struct cred_binding *b = c->bind;
                json_t *o = json_pack("{s:s, s:s}", "name", c->name, "as", as_name(c->as));
                if (!o)
                        goto fail;
                if (c->scope)
                        json_object_set_new(o, "scope", json_string(c->scope));
                if (b) {
                        json_t *hosts = json_array(), *res = json_object(),
                               *bo = json_pack("{s:i, s:s}", "port", (int)b->port, "inject", inject_name(b->inject));
                        if (!hosts || !res || !bo) {
                                json_decref(hosts);
                                json_decref(res);
                                json_decref(bo);
                                json_decref(o);
                                goto fail;
                        }
                        for (size_t k = 0; k < b->n_hosts; k++)
                                json_array_append_new(hosts, json_string(b->hosts[k]));
                        json_object_set_new(bo, "hosts", hosts);
                        if (b->header)
                                json_object_set_new(bo, "header", json_string(b->header));
                        for (size_t k = 0; k < b->n_pins; k++) {
                                json_t *a = json_array();
                                for (size_t j = 0; a && j < b->pins[k].n_addrs; j++)
                                        json_array_append_new(a, json_string(b->pins[k].addrs[j]));
                                json_object_set_new(res, b->pins[k].host, a);
                        }
                        json_object_set_new(bo, "resolve", res);
                        json_object_set_new(bo, "ca_certificates",
                                            json_integer(b->ca_pem ? count_certs(b->ca_pem) : 0));
                        json_object_set_new(o, "bind", bo);
                }
                json_array_append_new(arr, o);
        }
        return arr;
fail:
        json_decref(arr);
        return NULL;
}

void sealctl_creds_print(const struct profile_plain *p) {
        printf("credentials: %zu (names only; values are never shown)\n", p->n_creds);
        for (size_t i = 0; i < p->n_creds; i++) {
                const struct profile_cred *c = &p->creds[i];
                const struct cred_binding *b = c->bind;
                printf("  %s  as=%s%s%s\n", c->name, as_name(c->as), c->scope ? " scope=" : "",
                       c->scope ? c->scope : "");
                if (!b)
                        continue;
                printf("    bound: inject=%s%s%s port=%u hosts=", inject_name(b->inject), b->header ? " header=" : "",
                       b->header ? b->header : "", (unsigned)b->port);
                for (size_t k = 0; k < b->n_hosts; k++)
                        printf("%s%s", k ? "," : "", b->hosts[k]);
                printf("\n");
                for (size_t k = 0; k < b->n_pins; k++) {
                        printf("    resolve: %s ->", b->pins[k].host);
                        for (size_t j = 0; j < b->pins[k].n_addrs; j++)
                                printf(" %s", b->pins[k].addrs[j]);
                        printf("\n");
                }
                if (b->ca_pem)
                        printf("    ca_pem: %d certificate(s) (trust anchors for these hosts only)\n",
                               count_certs(b->ca_pem));
        }
}
