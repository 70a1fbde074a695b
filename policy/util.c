/* Shared utilities: error context, validators, fd helpers. */
#include "policy/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int sr_fail(struct sr_error *e, int exit_code, int err, const char *reason,
            const char *fmt, ...) {
        if (e) {
                va_list ap;
                e->exit_code = exit_code;
                e->err = err;
                snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "error");
                va_start(ap, fmt);
                vsnprintf(e->msg, sizeof e->msg, fmt, ap);
                va_end(ap);
        }
        return err > 0 ? -err : -EINVAL;
}

void sr_error_prefix(struct sr_error *e, const char *fmt, ...) {
        char pre[256], old[sizeof e->msg];
        va_list ap;
        if (!e)
                return;
        va_start(ap, fmt);
        vsnprintf(pre, sizeof pre, fmt, ap);
        va_end(ap);
        memcpy(old, e->msg, sizeof old);
        snprintf(e->msg, sizeof e->msg, "%s%s", pre, old);
}

bool slug_valid(const char *s) {
        size_t n;
        if (!s)
                return false;
        n = strlen(s);
        if (n < 2 || n > 63)
                return false;
        if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
                return false;
        for (size_t i = 1; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

bool task_id_valid(const char *s) {
        size_t n;
        if (!s)
                return false;
        n = strlen(s);
        if (n < 1 || n > 128 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':'))
                        return false;
        }
        return true;
}

bool cred_name_valid(const char *s) {
        size_t n;
        if (!s)
                return false;
        n = strlen(s);
        if (n < 1 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x21 || c > 0x7e || c == '/')
                        return false;
        }
        return true;
}

bool env_name_valid(const char *s) {
        size_t n;
        if (!s)
                return false;
        n = strlen(s);
        if (n < 1 || n > 255 || isdigit((unsigned char)s[0]))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!(isalnum(c) || c == '_'))
                        return false;
        }
        return true;
}

int parse_long(const char *s, long min, long max, long *ret) {
        char *end;
        long v;
        if (!s || !*s || isspace((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len) {
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;
                if (len == cap) {
                        char *nb;
                        if (cap > max) {
                                free(buf);
                                return -EFBIG;
                        }
                        cap *= 2;
                        nb = realloc(buf, cap + 1);
                        if (!nb) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = nb;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        free(buf);
                        return -EFBIG;
                }
        }
        buf[len] = 0;
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sr_host_root(void) {
        static int cached = -1;
        _cleanup_free_ char *map = NULL;
        _cleanup_close_ int fd = -1;
        unsigned long inside, outside;
        if (cached >= 0)
                return cached;
        if (geteuid() != 0)
                return (cached = 0);
        fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
        /* No /proc: assume the stricter case, host root. */
        if (fd < 0 || read_fd_all(fd, 4096, &map, NULL) < 0)
                return (cached = 1);
        /* "0 0 N" maps uid 0 to host uid 0: the initial namespace (or one
         * that root itself made, which holds root's rights just the same). */
        cached = sscanf(map, " %lu %lu", &inside, &outside) == 2 && inside == 0 && outside == 0;
        return cached;
}
