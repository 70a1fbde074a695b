/* The embedded TLS broker's one exported symbol (build/sealrun-tls.so; the
 * rest of the object is compiled with hidden visibility). */
#include "launcher/broker_mem.h"
#include "launcher/tls/ops.h"

static const struct tls_ops ops = {
        .size = sizeof(struct tls_ops),
        .task_size = sizeof(struct task),
        .mem_install = broker_mem_install,
        .mem_lock_on = broker_mem_lock_on,
        .ca_prepare = broker_ca_prepare,
        .ca_files = broker_ca_files,
        .ca_free = broker_ca_free,
        .tls_start = broker_tls_start,
        .terminates = broker_terminates,
        .bound = broker_bound,
        .stop = broker_stop,
        .holds = broker_holds,
        .take = broker_take,
};

__attribute__((visibility("default"))) const struct tls_ops *sealrun_tls_ops(void);
const struct tls_ops *sealrun_tls_ops(void) {
        return &ops;
}
