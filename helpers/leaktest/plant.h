/* The self-test's shared state and bookkeeping (selftest.c), and the plants that need sockets, a payload or a namespace
 * (selftest_plants.c). */
#pragma once

#include <limits.h>

#include "helpers/leaktest/fleet.h"

enum { C_ENV, C_ARGV, C_HEAP, C_TMP, C_NAME, C_SHM, C_LOG, C_OUT, C_WIRE, C_CROSS, C_UNIT, C_CRED, C__MAX };

struct st {
        struct lt *lt;
        struct fleet *f;
        struct report scratch;
        int own, other;
        int c[C__MAX];
        pid_t holder;
        struct profile prof;
        struct cred_spec spec;
        char tmp_plant[PATH_MAX], name_plant[PATH_MAX], shm_plant[PATH_MAX];
};

size_t render(struct st *s, int which, enum lt_enc enc, uint8_t *out);
/* Did the detector behind scratch row r report the plant (at pid, or in a
 * place naming path)? The evidence goes into the report. */
void expect(struct st *s, enum rid r, pid_t pid, const char *path, const char *plant);
void not_applicable(struct st *s, const char *plant, const char *why);
void scratch_reset(struct st *s, enum rid r);
int write_file(const char *path, const void *data, size_t len);

void plant_wire(struct st *s);
void plant_payload(struct st *s);
void plant_unit(struct st *s);
void plant_fail_open(struct st *s);
void plant_mount(struct st *s);
/* selftest_egress.c */
void plant_egress(struct st *s);
