/* libFuzzer target: the audit message parser (events and replies) and the chain line checker.
 * Built and run by `make fuzz` (tests/fuzz/run.sh); seeds in tests/fuzz/seeds/audit_msg/.
 * Properties: never crash; an accepted event re-encodes to a canonical form that
 * is accepted again and is a fixed point; an accepted line verifies in a file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "policy/audit_chain.h"
#include "policy/audit_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct audit_event ev, again;
        struct audit_reply rp;
        struct sr_error e;
        char *canon = NULL, *canon2 = NULL;

        (void)audit_reply_decode((const char *)data, size, &rp, &e);
        if (audit_event_decode((const char *)data, size, &ev, &e) < 0)
                return 0;
        if (audit_event_canonical(&ev, &canon) < 0)
                abort();
        if (audit_event_decode(canon, strlen(canon), &again, &e) < 0)
                abort(); /* what the collector stores must parse again */
        if (audit_event_canonical(&again, &canon2) < 0 || strcmp(canon, canon2) != 0)
                abort();
        /* the stored line for it verifies */
        {
                struct audit_peer peer = { 1, 2, 3 };
                struct audit_verify_result res;
                char zero[AUDIT_HASH_HEX + 1], *line = NULL;
                size_t len;
                int fd;
                memset(zero, '0', AUDIT_HASH_HEX);
                zero[AUDIT_HASH_HEX] = 0;
                if (audit_chain_format(1, zero, "2025-01-01T00:00:00.000Z", &peer, canon, &line, &len) == 0) {
                        fd = memfd_create("line", MFD_CLOEXEC);
                        if (fd >= 0 && write(fd, line, len) == (ssize_t)len &&
                            audit_chain_verify(fd, ev.tenant ? ev.tenant : AUDIT_GLOBAL_NAME, &res) == 0 &&
                            res.bad_line != 0)
                                abort();
                        if (fd >= 0)
                                close(fd);
                        free(line);
                }
        }
        free(canon);
        free(canon2);
        audit_event_free(&again);
        audit_event_free(&ev);
        return 0;
}
