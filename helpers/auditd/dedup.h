/* sealrun-auditd: a cache of recently written events, so an event sent twice is written once. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "policy/util.h"

/* The "seq" that stands for "this task's trail has ended" (exit or abandoned). */
#define AUDITD_END_SEQ UINT64_MAX

uint64_t auditd_dedup_key(const char *file, const char *task, long long pid, uint64_t seq);
/* true (and the line it was written at) when the key was written recently. */
bool auditd_dedup_find(uint64_t key, uint64_t *ret_line);
void auditd_dedup_add(uint64_t key, uint64_t line);
/* Learn the keys of the last lines of a tenant file (name: the tenant). */
void auditd_dedup_seed(int fd, const char *name);
