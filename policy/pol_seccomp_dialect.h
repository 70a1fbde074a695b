/* Docker's and Podman's additions to the OCI seccomp object (archMap, includes/excludes, errno names), for
 * pol_seccomp.c. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "policy/jsonx.h"

/* "SCMP_ARCH_X86_64" → libseccomp's token; -EINVAL when unknown. */
int pol_seccomp_arch_token(const char *name, uint32_t *ret);
/* An errno given as a number under `num_key` ("errnoRet", 0..4095) and/or
 * as a name under `name_key` ("errno": "EPERM", Podman's spelling); both
 * given must agree. *ret is untouched when neither is. */
int pol_seccomp_errno(struct jx *x, json_t *o, const char *path, const char *num_key, const char *name_key,
                      long long *ret, bool *ret_given);
/* "archMap": [{"architecture": A, "subArchitectures": [...]}]: A and its
 * sub-architectures are added when A is the native architecture. */
int pol_seccomp_archmap(struct jx *x, json_t *arr, const char *path, uint32_t *arches, size_t *n, size_t max);
/* A rule's "includes"/"excludes": does it apply on this host with these
 * kept capabilities (bit N = capability N)? Everything is validated even
 * when the answer is already known. */
int pol_seccomp_rule_applies(struct jx *x, json_t *rule, const char *path, uint64_t caps, bool *ret);
