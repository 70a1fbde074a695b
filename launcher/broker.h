/* The egress broker: TLS termination with a per-task CA, injection of
 * brokered credentials toward their bound hosts, the placeholder tripwire
 * (docs/network.md "Brokered credentials"). Two halves:
 *   broker_ca.c   supervisor, before the clone: the task CA, the trust
 *                 stores read into memory, the CA files the payload trusts;
 *   broker_tls.c  the proxy process: contexts, leaf certificates, one thread
 *                 per terminated connection running policy/broker_http.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "launcher/broker_creds.h"
#include "launcher/task.h"

/* Fixed paths inside the sandbox (generated files of the mount plan). */
#define BROKER_BUNDLE_PATH "/etc/sealrun/ca-bundle.pem" /* the host's store + the task CA */
#define BROKER_CA_PATH "/etc/sealrun/task-ca.pem"       /* the task CA alone (NODE_EXTRA_CA_CERTS) */
#define BROKER_STORE_MAX (4 << 20)

/* Made by the supervisor, inherited (clone, fork) by init and the proxy;
 * everything the broker reads is in here before the payload exists. */
struct broker_ca {
        void *key;  /* EVP_PKEY: P-256, never written anywhere */
        void *cert; /* X509 */
        char *cert_pem;
        char *host_store; /* the host's default trust store (PEM), read before the clone */
        size_t host_store_len;
        char *policy_store; /* network.egress.trust_store (PEM), or NULL */
        size_t policy_store_len;
        int64_t not_after; /* unix seconds: CA and leaves */
};

/* Supervisor: when the task runs in proxy mode with a profile (only the
 * proxy knows after decrypting whether a credential is bound, so the CA and
 * the variables exist for every such task). 0 or -errno with e filled. */
int broker_ca_prepare(struct task *t, struct broker_ca **ret, struct sr_error *e);
/* The generated files' contents (malloc'd) for the mount plan. */
int broker_ca_files(const struct broker_ca *ca, char **ret_bundle, char **ret_ca);
/* Free the key (cleared by OpenSSL) and the rest: the supervisor after the
 * clone, init after forking the proxy. */
void broker_ca_free(struct broker_ca *ca);

struct broker;
/* Proxy process, before the payload starts: contexts, stores, leaf key.
 * creds->n == 0: no broker (NULL, 0). */
int broker_tls_start(struct task *t, struct broker_ca *ca, struct broker_creds *creds, int report_fd,
                     struct broker **ret);
/* Does a connection to host:port get terminated (credentials present, host
 * not passthrough)? */
bool broker_terminates(const struct broker *b, const char *host);
/* Is host:port bound to a credential? Fills the binding's pins (IP literals). */
bool broker_bound(const struct broker *b, const char *host, uint16_t port, const char *const **ret_pins,
                  size_t *ret_n_pins);
/* Take over a dialed connection: cfd (the payload's), ufd (the supervisor's
 * socket); pre: bytes already read from the client (a forward request's head,
 * forward = true). Runs on a thread of its own; closes both fds. 0 or -errno
 * (then the caller still owns the fds). */
/* Stop taking connections, shut every live one down and wait (2 s at most)
 * for their threads, so the credentials are wiped only when no thread can
 * still read them. NULL: nothing to stop. */
bool broker_stop(struct broker *b);
/* Test hook "broker:inject" armed? The proxy then lingers after the wipe, so
 * a thread that outlived broker_stop would read wiped memory (the test fails). */
bool broker_holds(const struct broker *b);
int broker_take(struct broker *b, int cfd, int ufd, const char *host, uint16_t port, const char *pre, size_t pre_len,
                bool forward);
