/* Shared utilities: error context, validators, fd helpers. */
#include "policy/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Length of the UTF-8 sequence at s (1..4) and its code point, or 0 when the
 * bytes are not well-formed UTF-8 (overlong, surrogate, truncated, > U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret) {
        uint32_t cp;
        size_t n;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret = cp;
        return n;
}

size_t sr_escape(char *out, size_t size, const char *in) {
        const unsigned char *s = (const unsigned char *)(in ? in : "");
        size_t o = 0;
        if (size == 0)
                return 0;
        while (*s) {
                char esc[16];
                uint32_t cp;
                size_t n = 1, len;
                if (*s >= 0x20 && *s < 0x7f) {
                        esc[0] = (char)*s;
                        esc[1] = 0;
                } else if (*s >= 0x80 && (n = utf8_decode(s, &cp)) > 0) {
                        snprintf(esc, sizeof esc, cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);
                } else {
                        n = 1;
                        snprintf(esc, sizeof esc, "\\x%02x", *s);
                }
                len = strlen(esc);
                /* never cut an escape in half: a reader would misread the tail */
                if (o + len >= size)
                        break;
                memcpy(out + o, esc, len);
                o += len;
                s += n;
        }
        out[o] = 0;
        return o;
}

const char *sr_quote(const char *s, char *buf, size_t size) {
        char cut[65], full[300];
        size_t n;
        if (size < 4) {
                if (size)
                        buf[0] = 0;
                return buf;
        }
        snprintf(cut, sizeof cut, "%s", s ? s : "");
        n = sr_escape(full, sizeof full, cut);
        if (n < size && strlen(s ? s : "") <= 64) {
                memcpy(buf, full, n + 1);
                return buf;
        }
        n = sr_escape(buf, size - 3, cut);
        memcpy(buf + n, "...", 4);
        return buf;
}

void sr_warn(const char *fmt, ...) {
        char raw[512], esc[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        sr_escape(esc, sizeof esc, raw);
        fprintf(stderr, "sealrun: %s\n", esc);
}

bool sr_printable(const char *s) {
        for (; s && *s; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
                        return false;
        return true;
}

int sr_fail(struct sr_error *e, int exit_code, int err, const char *reason, const char *fmt, ...) {
        if (e) {
                char raw[sizeof e->msg];
                va_list ap;
                e->exit_code = exit_code;
                e->err = err;
                snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "error");
                va_start(ap, fmt);
                vsnprintf(raw, sizeof raw, fmt, ap);
                va_end(ap);
                /* Messages quote input (paths, keys, values, argv): escaped
                 * here, once, so that no caller can forget it. */
                sr_escape(e->msg, sizeof e->msg, raw);
        }
        return err > 0 ? -err : -EINVAL;
}

void sr_error_prefix(struct sr_error *e, const char *fmt, ...) {
        char pre[256], old[sizeof e->msg], raw[sizeof e->msg];
        va_list ap;
        if (!e)
                return;
        va_start(ap, fmt);
        vsnprintf(pre, sizeof pre, fmt, ap);
        va_end(ap);
        memcpy(old, e->msg, sizeof old);
        snprintf(raw, sizeof raw, "%s%s", pre, old);
        sr_escape(e->msg, sizeof e->msg, raw);
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

bool dns_name_valid(const char *s) {
        size_t n = strlen(s), label = 0;
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_'))
                        return false;
                if ((c == '-' && label == 0) || ++label > 63)
                        return false;
        }
        return label > 0 && s[n - 1] != '-';
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
