/* The one check for a file sealrun trusts: who besides root and the caller could have written it. */
#pragma once
#include <sys/stat.h>

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

/* How trusted_file_read() opens, checks and reads one file. */
struct trusted_read {
        const char *what;        /* in messages: "revocation list", "the pool config" */
        const char *reason;      /* of an open/type/read failure (exit 125) */
        const char *perm_reason; /* of a trust failure (77, trusted_file_check); NULL: not a trusted
                                  * file (untrusted input, parsed strictly), only opened and read */
        int perm_exit_code;      /* exit code of a trust failure; 0: 77 (sealrun-auditd's allow map: 125) */
        int open_flags;          /* added to O_RDONLY|O_CLOEXEC|O_NOCTTY: O_NOFOLLOW, O_NONBLOCK */
        unsigned flags;          /* TRUSTED_FILE_SECRET */
        size_t max;              /* bytes; more is refused */
};

/* The idiom "open a trusted file, check it is a regular file, check owner
 * and mode on the open fd, read it" in one place: *ret_buf (NUL-terminated,
 * free()) and *ret_len, or -errno with e filled. */
int trusted_file_read(const char *path, const struct trusted_read *how, char **ret_buf, size_t *ret_len,
                      struct sr_error *e);

/* How private_dir_open() creates and checks one directory. */
struct private_dir {
        mode_t create_mode; /* mkdirat with this mode when missing; 0: must exist */
        uid_t owner;        /* required owner */
        mode_t forbidden;   /* mode bits that must be clear: 077 private, 022 or 002 not writable */
        bool root_too;      /* root may own it as well (an intermediate level) */
        bool sticky_ok;     /* forbidden write bits pass on a sticky directory (/tmp) */
};

/* The idiom "create or open a private directory" in one place: mkdirat
 * (when asked), open name below dirfd as a directory without following a
 * symlink, then check owner and mode on the open fd (no window between
 * check and use). *ret_fd, or -errno: -ELOOP/-ENOTDIR when it is a symlink
 * or not a directory, -EPERM when owner or mode are wrong; *ret_st (when
 * given) has what was found, for the caller's message. Callers keep their
 * own messages and exit codes. */
int private_dir_open(int dirfd, const char *name, const struct private_dir *how, int *ret_fd, struct stat *ret_st);
