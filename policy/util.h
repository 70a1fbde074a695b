/* Shared utilities: error context, cleanup attributes, fd and string helpers. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes (README.md "Exit codes"). */
enum {
        SR_EXIT_TIMEOUT = 124,
        SR_EXIT_LAUNCHER = 125,
        SR_EXIT_NOEXEC = 126,
        SR_EXIT_NOTFOUND = 127,
        SR_EXIT_TEMPFAIL = 75,
        SR_EXIT_REFUSED = 77,
};

/* Error context filled where the error happens (crun's libcrun_error_t idea):
 * main() prints `msg` as the one stderr line and exits with `exit_code`.
 * `reason` is a short machine code for the status JSON / audit ("expired").
 * Never put secret bytes into msg. */
struct sr_error {
        int exit_code;
        int err; /* errno, or 0 */
        char reason[48];
        char msg[512];
};

/* Fill *e (when e is non-NULL) and return -err (or -EINVAL when err is 0),
 * so callers can write `return sr_fail(e, 125, EINVAL, "bad", "...")`. */
int sr_fail(struct sr_error *e, int exit_code, int err, const char *reason, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
/* Prefix an existing message with context ("policy.json: "). */
void sr_error_prefix(struct sr_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy `in` to `out` (NUL-terminated, truncated at a whole escape) with every
 * byte outside printable ASCII escaped: a well-formed UTF-8 character as
 * \uXXXX (\UXXXXXXXX above U+FFFF), any other byte (controls, DEL, invalid
 * UTF-8) as \xNN; printable ASCII, the backslash included, is copied as is,
 * so escaping twice changes nothing. Returns the length written. */
size_t sr_escape(char *out, size_t size, const char *in);
/* Input quoted in a message: the first 64 bytes of s escaped as by
 * sr_escape, "..." when cut (by that limit or by size). Returns buf. */
const char *sr_quote(const char *s, char *buf, size_t size);
/* One line on stderr, "sealrun: " + the formatted text escaped (sr_escape):
 * for warnings that quote host paths outside an sr_error. */
void sr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when every byte of s is printable ASCII (0x20..0x7e). */
bool sr_printable(const char *s);

/* Cleanup attributes (systemd style). */
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void freep(void *p) {
        free(*(void **)p);
}
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int s = errno;
                close(*fd);
                errno = s;
        }
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define TAKE_PTR(p) \
        ({ \
                __typeof__(p) _t = (p); \
                (p) = NULL; \
                _t; \
        })
#define TAKE_FD(fd) \
        ({ \
                int _t = (fd); \
                (fd) = -1; \
                _t; \
        })
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Tenant slug: ^[a-z0-9][a-z0-9_-]{1,62}$ (README.md "Command line"). */
bool slug_valid(const char *s);
/* Task id: printable ASCII without '/', 1..128 bytes (used in cgroup names). */
bool task_id_valid(const char *s);
/* Credential name: printable ASCII, no '/', not "." or "..", 1..255 bytes. */
bool cred_name_valid(const char *s);
/* Environment variable name: [A-Za-z_][A-Za-z0-9_]*, <= 255 bytes. */
bool env_name_valid(const char *s);
/* DNS host name: dot-separated labels of [A-Za-z0-9_-], 1..63 bytes, not
 * starting or ending with '-', 1..253 bytes in all, no leading, trailing or
 * empty label. Used for /etc/hosts and resolver names (pol_network.c) and
 * for egress host names after canonicalisation (egress_rules.c). */
bool dns_name_valid(const char *s);

/* Parse a decimal integer in [min,max]; 0 or -EINVAL/-ERANGE. */
int parse_long(const char *s, long min, long max, long *ret);

/* Read a whole regular file (by fd) up to max bytes; ret buffer is
 * NUL-terminated, *ret_len excludes the NUL. -EFBIG when larger. */
int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len);
/* write() all of buf, retrying on EINTR/short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Monotonic milliseconds. */
int64_t now_ms(void);

/* Root of the initial user namespace (euid 0 and uid 0 mapped to host uid 0).
 * Root inside a user namespace of an unprivileged user holds no more than
 * that user: checks that exist because root trusts a file do not apply. */
bool sr_host_root(void);
