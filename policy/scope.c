/* Scopes: exact syntax, coverage and subset rules (unit-tested in tests/test_scope.c). */
#include "policy/scope.h"

#include <string.h>

static bool part_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool ident_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("._/@+=-", c));
}

/* Split into three parts; lengths through out-params. */
static bool scope_split(const char *s, const char **ret_id, size_t *ret_alen, size_t *ret_rlen) {
        const char *c1, *c2, *id;
        if (!s || strlen(s) > SCOPE_MAX)
                return false;
        c1 = strchr(s, ':');
        if (!c1)
                return false;
        c2 = strchr(c1 + 1, ':');
        if (!c2)
                return false;
        id = c2 + 1;
        if (c1 == s || c2 == c1 + 1 || !*id)
                return false;
        if (!(s[0] >= 'a' && s[0] <= 'z') && !(s[0] >= '0' && s[0] <= '9'))
                return false;
        if (!(c1[1] >= 'a' && c1[1] <= 'z') && !(c1[1] >= '0' && c1[1] <= '9'))
                return false;
        for (const char *p = s; p < c1; p++)
                if (!part_char((unsigned char)*p))
                        return false;
        for (const char *p = c1 + 1; p < c2; p++)
                if (!part_char((unsigned char)*p))
                        return false;
        if (strcmp(id, "*") != 0)
                for (const char *p = id; *p; p++)
                        if (!ident_char((unsigned char)*p))
                                return false;
        *ret_id = id;
        *ret_alen = (size_t)(c1 - s);
        *ret_rlen = (size_t)(c2 - c1 - 1);
        return true;
}

bool scope_valid(const char *s) {
        const char *id;
        size_t a, r;
        return scope_split(s, &id, &a, &r);
}

bool scope_covers(const char *outer, const char *inner) {
        const char *oid, *iid;
        size_t oa, orr, ia, ir;
        if (!scope_split(outer, &oid, &oa, &orr) || !scope_split(inner, &iid, &ia, &ir))
                return false;
        /* action:resource: prefixes equal, colons included */
        if (oa != ia || orr != ir || memcmp(outer, inner, oa + 1 + orr + 1) != 0)
                return false;
        return strcmp(oid, "*") == 0 || strcmp(oid, iid) == 0;
}

bool scope_covered_by(const char *s, const char *const *set, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (scope_covers(set[i], s))
                        return true;
        return false;
}

bool scope_subset(const char *const *want, size_t n_want, const char *const *ceiling, size_t n_ceiling,
                  size_t *ret_bad) {
        for (size_t i = 0; i < n_want; i++)
                if (!scope_covered_by(want[i], ceiling, n_ceiling)) {
                        if (ret_bad)
                                *ret_bad = i;
                        return false;
                }
        return true;
}
