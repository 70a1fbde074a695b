/* The one check for a file sealrun trusts: who besides root and the caller could have written it. */
#pragma once
#include "policy/util.h"

/* Secret files: no access at all for group or others (an unlinked file, a
 * memfd or O_TMPFILE, is reachable only through its fd and passes). */
#define TRUSTED_FILE_SECRET 0x1u

/* fd must be open on a regular file (callers check the type, with their own
 * exit code). Refused (exit 77, `reason`, one line "NAME: WHAT is ...") when
 * it is owned by neither root nor the caller, or writable by group or others
 * (TRUSTED_FILE_SECRET: accessible by them): whoever else could write it
 * could change what it decides. Keys, trust anchors, revocation lists,
 * pool configs, and as root policies and the seccomp profiles they name. */
int trusted_file_check(int fd, const char *name, const char *what, const char *reason, unsigned flags,
                       struct sr_error *e);
