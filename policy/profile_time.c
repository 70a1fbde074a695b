/* Times in sealed profiles: RFC 3339 and "+DURATION" in, canonical UTC out. */
#include "policy/profile.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Read exactly n digits. */
static int digits(const char **p, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)(*p)[i]))
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static int expect(const char **p, const char *set) {
        if (!**p || !strchr(set, **p))
                return -EINVAL;
        (*p)++;
        return 0;
}

static bool leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int parse_rfc3339(const char *s, int64_t *ret) {
        static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        const char *p = s;
        int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
        struct tm tm = { 0 };
        time_t t;

        if (digits(&p, 4, &Y) < 0 || expect(&p, "-") < 0 || digits(&p, 2, &M) < 0 || expect(&p, "-") < 0 ||
            digits(&p, 2, &D) < 0 || expect(&p, "Tt") < 0 || digits(&p, 2, &h) < 0 || expect(&p, ":") < 0 ||
            digits(&p, 2, &m) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') { /* fractions are accepted and dropped */
                p++;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                sign = *p == '+' ? 1 : -1;
                p++;
                if (digits(&p, 2, &oh) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
                        return -EINVAL;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        if (Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 60)
                return -EINVAL;
        if (D > mdays[M - 1] + (M == 2 && leap(Y)))
                return -EINVAL;
        if (sec == 60) /* leap second: the next second is close enough */
                sec = 59;
        tm.tm_year = Y - 1900;
        tm.tm_mon = M - 1;
        tm.tm_mday = D;
        tm.tm_hour = h;
        tm.tm_min = m;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
        return 0;
}

static int parse_duration(const char *s, int64_t *ret) {
        int64_t total = 0;
        if (!*s)
                return -EINVAL;
        while (*s) {
                int64_t v = 0, unit;
                if (!isdigit((unsigned char)*s))
                        return -EINVAL;
                while (isdigit((unsigned char)*s)) {
                        v = v * 10 + (*s++ - '0');
                        if (v > 100LL * 365 * 86400)
                                return -ERANGE;
                }
                switch (*s++) {
                case 's': unit = 1; break;
                case 'm': unit = 60; break;
                case 'h': unit = 3600; break;
                case 'd': unit = 86400; break;
                case 'w': unit = 7 * 86400; break;
                default: return -EINVAL;
                }
                total += v * unit;
                if (total > 100LL * 365 * 86400)
                        return -ERANGE;
        }
        *ret = total;
        return 0;
}

int profile_time_parse(const char *s, int64_t now, int64_t *ret) {
        int64_t d;
        int r;
        if (!s)
                return -EINVAL;
        if (s[0] == '+') {
                if ((r = parse_duration(s + 1, &d)) < 0)
                        return r;
                *ret = now + d;
                return 0;
        }
        return parse_rfc3339(s, ret);
}

void profile_time_format(int64_t t, char out[32]) {
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
                snprintf(out, 32, "invalid");
                return;
        }
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
