/* The tenant id registry: one host uid/gid block per tenant, allocated once, never reused. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "policy/pol_ids.h"
#include "policy/util.h"

#define IDREG_DEFAULT_PATH "/var/lib/sealrun/tenant-ids"
#define IDREG_ENV "SEALRUN_TENANT_IDS"
#define IDREG_MAX_BYTES (1u << 20)

struct idreg_entry {
        char tenant[64];
        uint32_t first; /* host ids first..first+count-1 */
        uint32_t count;
};

/* Parse the registry text ("TENANT FIRST COUNT" lines, '#' comments).
 * -EINVAL with *ret_line set on a bad line, a duplicate tenant or two
 * overlapping blocks. */
int idreg_parse(const char *buf, size_t len, struct idreg_entry **ret, size_t *ret_n, size_t *ret_line);
/* The lowest free block of `block` ids in [first, last], aligned to block
 * from first; -ENOSPC when the range is full. */
int idreg_pick(const struct idreg_entry *v, size_t n, uint32_t first, uint32_t last, uint32_t block, uint32_t *ret);
/* Registry path: $SEALRUN_TENANT_IDS, else IDREG_DEFAULT_PATH. */
const char *idreg_path(void);
/* Root only: the tenant's block base, allocating one from [first, last] and
 * recording it (flock on the directory, write a new file, rename) when the
 * tenant has none. The file and its directory must be root-owned and not
 * group/other-writable. Errors: 77 "tenant-ids" (untrusted or corrupt), 77
 * "tenant-ids-full", 125 "tenant-ids" (I/O). */
int idreg_lookup(const char *path, const char *tenant, uint32_t first, uint32_t last, uint32_t *ret_base,
                 struct sr_error *e);
