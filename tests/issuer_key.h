/* Unit tests: an issuer public key file, as `sealctl keygen --issuer` writes it (a profile needs a trust set). */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/profile.h"
#include "policy/secmem.h"

/* A fresh issuer key pair; its public half written to a new file named
 * from template (ending in XXXXXX, overwritten with the name; 0644).
 * *ret_pub (may be NULL) gets the public key. 0 or -1. */
static inline int issuer_key_file(char *template, struct sr_key *ret_pub) {
        struct secmem *m = NULL;
        struct sr_key sk, pk;
        char *line;
        size_t len;
        int fd, r = -1;
        if ((fd = mkstemp(template)) < 0)
                return -1;
        if (secmem_new(1u << 20, &m) == 0 && key_generate(true, m, &sk, &pk) == 0 &&
            key_format(&pk, m, &line, &len) == 0 && write(fd, line, len) == (ssize_t)len && fchmod(fd, 0644) == 0)
                r = 0;
        secmem_destroy(m);
        close(fd);
        if (r == 0 && ret_pub)
                *ret_pub = pk;
        return r;
}
