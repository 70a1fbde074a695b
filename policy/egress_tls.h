/* Egress, the transparent path: the server name (SNI) a TLS ClientHello
 * carries, read without terminating TLS. Pure: unit-tested and fuzzed. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* The first bytes a client sent: 0 with the SNI host name in ret ("" when
 * the hello has none); -ENOENT: not a TLS handshake (the first byte is not
 * 22), so the caller treats the bytes as another protocol; -EAGAIN: a TLS
 * handshake whose ClientHello is not complete yet; -EINVAL: malformed
 * (including a name that is empty, over 253 bytes, not printable ASCII, or
 * given twice). The ClientHello may span several records (at most len). */
int egress_tls_sni(const uint8_t *buf, size_t len, char *ret, size_t ret_size);
