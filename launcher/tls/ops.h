/* The table the embedded TLS broker (build/sealrun-tls.so) hands to sealrun:
 * the broker's entry points (launcher/broker.h, broker_mem.h). One build
 * makes both sides, so the check is only a guard against a stale object. */
#pragma once

#include <stddef.h>

#include "launcher/broker.h"

#define TLS_OPS_SYMBOL "sealrun_tls_ops"

struct tls_ops {
        size_t size;      /* sizeof(struct tls_ops) */
        size_t task_size; /* sizeof(struct task): the structures both sides read */
        int (*mem_install)(void);
        void (*mem_lock_on)(void);
        int (*ca_prepare)(struct task *t, struct broker_ca **ret, struct sr_error *e);
        int (*ca_files)(const struct broker_ca *ca, char **ret_bundle, char **ret_ca);
        void (*ca_free)(struct broker_ca *ca);
        int (*tls_start)(struct task *t, struct broker_ca *ca, struct broker_creds *creds, int report_fd,
                         struct broker **ret);
        bool (*terminates)(const struct broker *b, const char *host);
        bool (*bound)(const struct broker *b, const char *host, uint16_t port, const char *const **ret_pins,
                      size_t *ret_n_pins);
        bool (*stop)(struct broker *b);
        bool (*holds)(const struct broker *b);
        int (*take)(struct broker *b, int cfd, int ufd, const char *host, uint16_t port, const char *pre,
                    size_t pre_len, bool forward);
};

typedef const struct tls_ops *(*tls_ops_fn)(void);
