/* Docker's and Podman's seccomp dialects: archMap, includes/excludes (caps, arches, minKernel) and errno names.
 *
 * Teams bring the profiles their container engines use; these keys are read
 * as those engines read them: a rule's "includes" must all hold and none of
 * its "excludes" may, capabilities are the policy's kept ones, architectures
 * the native one, minKernel the running kernel. */
#include "policy/pol_seccomp_dialect.h"

#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "policy/pol_caps.h"

static const char *printable(const char *s, char *buf, size_t size) {
        size_t i = 0;
        for (; s[i] && i < size - 1 && i < 64; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        buf[i] = 0;
        return buf;
}

int pol_seccomp_arch_token(const char *name, uint32_t *ret) {
        char low[32];
        size_t k;
        uint32_t tok;
        if (strncmp(name, "SCMP_ARCH_", 10) != 0 || !name[10] || strlen(name + 10) >= sizeof low)
                return -EINVAL;
        for (k = 0; name[10 + k]; k++)
                low[k] = (char)((name[10 + k] >= 'A' && name[10 + k] <= 'Z') ? name[10 + k] + 32 : name[10 + k]);
        low[k] = 0;
        tok = seccomp_arch_resolve_name(low);
        if (tok == 0)
                return -EINVAL;
        *ret = tok;
        return 0;
}

/* The names "includes"/"excludes" use for architectures: Go's GOARCH (what
 * Docker and Podman compare with), plus libseccomp's and the kernel's. */
static const struct {
        const char *name;
        uint32_t token;
} arch_names[] = {
        { "amd64", SCMP_ARCH_X86_64 },
        { "x86_64", SCMP_ARCH_X86_64 },
        { "386", SCMP_ARCH_X86 },
        { "x86", SCMP_ARCH_X86 },
        { "i386", SCMP_ARCH_X86 },
        { "x32", SCMP_ARCH_X32 },
        { "arm", SCMP_ARCH_ARM },
        { "arm64", SCMP_ARCH_AARCH64 },
        { "aarch64", SCMP_ARCH_AARCH64 },
        { "mips", SCMP_ARCH_MIPS },
        { "mipsle", SCMP_ARCH_MIPSEL },
        { "mips64", SCMP_ARCH_MIPS64 },
        { "mips64le", SCMP_ARCH_MIPSEL64 },
        { "mips64n32", SCMP_ARCH_MIPS64N32 },
        { "mips64len32", SCMP_ARCH_MIPSEL64N32 },
        { "ppc", SCMP_ARCH_PPC },
        { "ppc64", SCMP_ARCH_PPC64 },
        { "ppc64le", SCMP_ARCH_PPC64LE },
        { "s390", SCMP_ARCH_S390 },
        { "s390x", SCMP_ARCH_S390X },
        { "parisc", SCMP_ARCH_PARISC },
        { "parisc64", SCMP_ARCH_PARISC64 },
        { "riscv64", SCMP_ARCH_RISCV64 },
        { "loong64", 0 }, /* newer than this libseccomp: never the native one here */
};

static int filter_arch_token(const char *name, uint32_t *ret) {
        for (size_t i = 0; i < ELEMENTSOF(arch_names); i++)
                if (strcmp(arch_names[i].name, name) == 0) {
                        *ret = arch_names[i].token;
                        return 0;
                }
        return pol_seccomp_arch_token(name, ret);
}

int pol_seccomp_errno(struct jx *x, json_t *o, const char *path, const char *num_key, const char *name_key,
                      long long *ret, bool *ret_given) {
        json_t *nv = json_object_get(o, name_key);
        long long num = -1, named = -1;
        char p[512], q[80];
        int r;
        if ((r = jx_int(x, o, path, num_key, false, 0, 4095, &num)) < 0)
                return r;
        if (nv) {
                const char *s;
                if ((r = jx_string(x, o, path, name_key, true, &s)) < 0)
                        return r;
                for (int i = 1; i < 4096 && named < 0; i++) {
                        const char *n = strerrorname_np(i);
                        if (n && strcmp(n, s) == 0)
                                named = i;
                }
                if (named < 0)
                        return jx_fail(x, jx_path(p, sizeof p, path, name_key),
                                       "unknown errno name \"%s\" (expected a name like \"EPERM\")",
                                       printable(s, q, sizeof q));
                if (num >= 0 && num != named)
                        return jx_fail(x, jx_path(p, sizeof p, path, name_key), "%s is %lld, but %s says %lld", s,
                                       named, num_key, num);
                num = named;
        }
        *ret_given = num >= 0;
        if (num >= 0)
                *ret = num;
        return 0;
}

/* An architecture name that looks like one: SCMP_ARCH_ and upper case. A
 * profile written for every platform names some this libseccomp may not
 * know (SCMP_ARCH_LOONGARCH64 before 2.6); such an entry is never the
 * native one, so it is passed over, as Docker passes over the others. */
static bool arch_spelled(const char *name) {
        if (strncmp(name, "SCMP_ARCH_", 10) != 0 || !name[10] || strlen(name) > 40)
                return false;
        for (const char *p = name + 10; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

/* ret 0 and *ret 0: well spelled but unknown here (never native). */
static int arch_name_at(struct jx *x, json_t *v, const char *path, uint32_t *ret) {
        char q[80];
        if (!json_is_string(v))
                return jx_fail(x, path, "expected an architecture name like \"SCMP_ARCH_X86_64\"");
        if (pol_seccomp_arch_token(json_string_value(v), ret) == 0)
                return 0;
        if (!arch_spelled(json_string_value(v)))
                return jx_fail(x, path, "unknown architecture \"%s\"", printable(json_string_value(v), q, sizeof q));
        *ret = 0;
        return 0;
}

int pol_seccomp_archmap(struct jx *x, json_t *arr, const char *path, uint32_t *arches, size_t *n, size_t max) {
        static const char *const keys[] = { "architecture", "subArchitectures", NULL };
        char ip[512], kp[512], sp[512], q[80];
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *e = json_array_get(arr, i), *subs = NULL;
                uint32_t main, tok;
                int r;
                jx_index(ip, sizeof ip, path, i);
                if ((r = jx_object(x, e, ip, keys)) < 0 ||
                    (r = arch_name_at(x, json_object_get(e, "architecture"), jx_path(kp, sizeof kp, ip, "architecture"),
                                      &main)) < 0 ||
                    /* Docker writes null for "none" */
                    (!json_is_null(json_object_get(e, "subArchitectures")) &&
                     (r = jx_array(x, e, ip, "subArchitectures", false, &subs)) < 0))
                        return r;
                jx_path(kp, sizeof kp, ip, "subArchitectures");
                for (size_t k = 0; subs && k < json_array_size(subs); k++) {
                        if ((r = arch_name_at(x, json_array_get(subs, k), jx_index(sp, sizeof sp, kp, k), &tok)) < 0)
                                return r;
                        if (main == 0 || main != seccomp_arch_native())
                                continue;
                        /* the native entry's sub-architectures must be real */
                        if (tok == 0)
                                return jx_fail(
                                        x, sp, "unknown architecture \"%s\" (libseccomp %u.%u.%u does not know it)",
                                        printable(json_string_value(json_array_get(subs, k)), q, sizeof q),
                                        seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
                        bool dup = false;
                        for (size_t j = 0; j < *n; j++)
                                dup |= arches[j] == tok;
                        if (dup || tok == main)
                                continue;
                        if (*n >= max)
                                return jx_fail(x, sp, "too many architectures");
                        arches[(*n)++] = tok;
                }
        }
        return 0;
}

/* "5.10" or "5.10.3" (strict), or the kernel's release "6.18.44-fc" (the
 * first two or three numbers, whatever follows). */
static int parse_version(const char *s, bool strict, unsigned v[3]) {
        int i = 0;
        v[0] = v[1] = v[2] = 0;
        for (;;) {
                char *end;
                unsigned long n;
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                n = strtoul(s, &end, 10);
                if (n > 100000)
                        return -EINVAL;
                v[i++] = (unsigned)n;
                s = end;
                if (*s != '.' || i == 3)
                        break;
                s++;
        }
        if (i < 2)
                return -EINVAL;
        return strict && *s ? -EINVAL : 0;
}

static int kernel_at_least(const unsigned want[3], bool *ret) {
        struct utsname u;
        unsigned have[3];
        if (uname(&u) < 0 || parse_version(u.release, false, have) < 0)
                return -EIO;
        for (int i = 0; i < 3; i++)
                if (have[i] != want[i]) {
                        *ret = have[i] > want[i];
                        return 0;
                }
        *ret = true;
        return 0;
}

/* One "includes" or "excludes" object: does its condition hold here? An
 * empty or absent filter holds for includes and never for excludes. */
static int filter_holds(struct jx *x, json_t *f, const char *path, bool excl, uint64_t caps, bool *ret) {
        static const char *const keys[] = { "caps", "arches", "minKernel", NULL };
        json_t *cv = NULL, *av = NULL;
        const char *mk = NULL;
        char ip[512], kp[512], q[80];
        bool holds = !excl;
        int r;
        if ((r = jx_object(x, f, path, keys)) < 0 || (r = jx_array(x, f, path, "caps", false, &cv)) < 0 ||
            (r = jx_array(x, f, path, "arches", false, &av)) < 0 ||
            (r = jx_string(x, f, path, "minKernel", false, &mk)) < 0)
                return r;
        jx_path(kp, sizeof kp, path, "caps");
        for (size_t i = 0; cv && i < json_array_size(cv); i++) {
                json_t *n = json_array_get(cv, i);
                int cap;
                jx_index(ip, sizeof ip, kp, i);
                if (!json_is_string(n) || pol_caps_lookup(json_string_value(n), &cap) < 0)
                        return jx_fail(x, ip, "unknown capability \"%s\" (expected a name like CAP_SYS_ADMIN)",
                                       json_is_string(n) ? printable(json_string_value(n), q, sizeof q) : "?");
                bool kept = caps & (UINT64_C(1) << cap);
                /* includes: every listed capability kept; excludes: any of them */
                if (!excl && !kept)
                        holds = false;
                if (excl && kept)
                        holds = true;
        }
        jx_path(kp, sizeof kp, path, "arches");
        if (av && json_array_size(av)) {
                bool native = false;
                for (size_t i = 0; i < json_array_size(av); i++) {
                        json_t *n = json_array_get(av, i);
                        uint32_t tok;
                        jx_index(ip, sizeof ip, kp, i);
                        if (!json_is_string(n) || filter_arch_token(json_string_value(n), &tok) < 0)
                                return jx_fail(
                                        x, ip,
                                        "unknown architecture \"%s\" (expected a name like \"amd64\" or \"arm64\")",
                                        json_is_string(n) ? printable(json_string_value(n), q, sizeof q) : "?");
                        native |= tok == seccomp_arch_native();
                }
                if (!excl && !native)
                        holds = false;
                if (excl && native)
                        holds = true;
        }
        if (mk) {
                unsigned want[3];
                bool ge;
                jx_path(kp, sizeof kp, path, "minKernel");
                if (parse_version(mk, true, want) < 0)
                        return jx_fail(x, kp, "expected a kernel version like \"5.10\"");
                if (kernel_at_least(want, &ge) < 0)
                        return jx_fail(x, kp, "cannot read the running kernel's version");
                if (!excl && !ge)
                        holds = false;
                if (excl && ge)
                        holds = true;
        }
        *ret = holds;
        return 0;
}

int pol_seccomp_rule_applies(struct jx *x, json_t *rule, const char *path, uint64_t caps, bool *ret) {
        bool inc = true, exc = false;
        char kp[512];
        int r;
        json_t *f = json_object_get(rule, "includes");
        if (f && !json_is_null(f) &&
            (r = filter_holds(x, f, jx_path(kp, sizeof kp, path, "includes"), false, caps, &inc)) < 0)
                return r;
        f = json_object_get(rule, "excludes");
        if (f && !json_is_null(f) &&
            (r = filter_holds(x, f, jx_path(kp, sizeof kp, path, "excludes"), true, caps, &exc)) < 0)
                return r;
        *ret = inc && !exc;
        return 0;
}
