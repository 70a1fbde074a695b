/* The in-sandbox DNS responder's wire format: parse one query, build one answer. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "policy/egress_rules.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_RCODE_OK 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP 4
#define DNS_RCODE_REFUSED 5

/* A standard query with one question of class IN: 0 with the lowercase name
 * (no trailing dot), its type and the end of the question; -EINVAL otherwise
 * (compression pointers in a question, bad labels, trailing garbage). */
int egress_dns_parse(const uint8_t *q, size_t n, char name[EGRESS_HOST_MAX + 1], uint16_t *ret_type, size_t *ret_qend);
/* The answer to q (question echoed): rcode, plus one A record when a4 is
 * given. out must hold qend + 16 bytes: 0 or -ENOBUFS. */
int egress_dns_answer(const uint8_t *q, size_t qend, int rcode, const uint8_t *a4, uint8_t *out, size_t size,
                      size_t *ret_len);
/* Name-level decision for the DNS path: allowed if some allow rule names the
 * host on some port that no deny rule takes. EGR_OK or the reason. */
enum egress_reason egress_name_allowed(const struct egress_rules *r, const struct egress_host *h);
