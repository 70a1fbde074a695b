/* The TLS broker and OpenSSL, loaded only by the tasks that use them.
 *
 * The broker's code (broker_ca.c, broker_tls.c, broker_mem.c and
 * policy/broker_http.c) is the only user of libssl and libcrypto in sealrun.
 * Linking them into every launch cost about 145 page faults and a quarter of
 * a launch's CPU (docs/performance.md), so the default build compiles the
 * broker into a shared object embedded in the sealrun binary
 * (launcher/tls/load.c) and loads it here, in the supervisor, only for a task
 * in proxy mode with a profile: the one task that makes a task CA. The
 * sandbox's processes inherit it through the clone and fork.
 *
 * The sanitizer and static builds link the broker directly (tls_direct.c);
 * tls_load() then only installs the wiping allocator. */
#pragma once

#include "policy/util.h"

/* Once per process, before the first OpenSSL call: load the broker (if it is
 * not linked in) and install OpenSSL's wiping allocator (broker_mem.h).
 * 0, or -errno with e filled (exit 125, reason "egress"). */
int tls_load(struct sr_error *e);
