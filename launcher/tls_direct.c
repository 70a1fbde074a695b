/* tls_load() when the broker is linked into sealrun (the sanitizer and
 * static builds, the unit tests): only the wiping allocator. The default
 * build links launcher/tls/load.c ahead of this archive member instead. */
#include <errno.h>
#include <stdbool.h>

#include "launcher/broker_mem.h"
#include "launcher/tls.h"

int tls_load(struct sr_error *e) {
        static bool installed;
        if (installed)
                return 0;
        if (broker_mem_install() < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EBUSY, "egress",
                               "egress: OpenSSL allocated memory before its wiping allocator was installed");
        installed = true;
        return 0;
}
