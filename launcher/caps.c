/* Capabilities: the payload keeps only the policy's list, in every set, and cannot regain more.
 *
 * The ids were already switched by sandbox init (with KEEPCAPS), so this runs
 * with the namespace's full permitted set. Kept capabilities go into the
 * ambient set too: that is the only way they survive execve for a non-root
 * uid; SECBIT_NOROOT makes uid 0 inside the sandbox gain nothing at execve. */
#include "launcher/caps.h"

#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static void cap_freep(cap_t *c) {
        if (*c)
                cap_free(*c);
}

/* "CAP_CHOWN", as the policy spells it. */
static const char *cap_name(int c, char *buf, size_t size) {
        char *s = cap_to_name((cap_value_t)c);
        snprintf(buf, size, "%s", s ? s : "?");
        cap_free(s);
        for (char *p = buf; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 32);
        return buf;
}

static bool kept(uint64_t keep, unsigned c) {
        return c < 64 && (keep & (UINT64_C(1) << c));
}

static int last_cap(void) {
        /* The kernel's own number, not libcap's compile-time CAP_LAST_CAP. */
        int n = (int)cap_max_bits() - 1;
        return n > 0 ? n : CAP_LAST_CAP;
}

/* Read every set back: fail closed if the kernel left anything extra. */
static int caps_verify(uint64_t keep, int last, struct sr_error *e) {
        _cleanup_(cap_freep) cap_t cur = cap_get_proc();
        char nb[64];
        if (!cur)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "capabilities", "cap_get_proc: %s", strerror(errno));
        for (int c = 0; c <= last; c++) {
                static const cap_flag_t sets[] = { CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE };
                static const char *const set_names[] = { "permitted", "effective", "inheritable" };
                bool want = kept(keep, (unsigned)c);
                for (size_t s = 0; s < ELEMENTSOF(sets); s++) {
                        cap_flag_value_t v = CAP_CLEAR;
                        cap_get_flag(cur, (cap_value_t)c, sets[s], &v);
                        if ((v == CAP_SET) != want)
                                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "capabilities",
                                               "capability %s is %s in the %s set after the drop",
                                               cap_name(c, nb, sizeof nb), want ? "missing" : "still present",
                                               set_names[s]);
                }
                if ((prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) != want ||
                    (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) != want)
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "capabilities",
                                       "capability %s is %s in the bounding or ambient set after the drop",
                                       cap_name(c, nb, sizeof nb), want ? "missing" : "still present");
        }
        return 0;
}

int caps_drop(struct task *t, struct sr_error *e) {
        uint64_t keep = t->pol->caps.keep;
        int last = last_cap();
        _cleanup_(cap_freep) cap_t caps = NULL;
        unsigned long bits;
        char nb[64];

        for (int c = last + 1; c < 64; c++)
                if (kept(keep, (unsigned)c))
                        return sr_fail(e, SR_EXIT_REFUSED, EINVAL, "capabilities",
                                       "%s: capabilities: capability %d is not known to this kernel (last is %d)",
                                       t->pol->file, c, last);
        /* Lock the rules first (needs CAP_SETPCAP, which goes below): no root
         * magic at execve, no setuid fixups, no keep-caps, and no ambient
         * raising unless capabilities are kept. */
        bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
               SECBIT_KEEP_CAPS_LOCKED;
        if (!keep)
                bits |= SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
        if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "capabilities", "PR_SET_SECUREBITS: %s", strerror(errno));
        for (int c = 0; c <= last; c++)
                if (!kept(keep, (unsigned)c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "capabilities",
                                       "cannot drop %s from the bounding set: %s", cap_name(c, nb, sizeof nb),
                                       strerror(errno));
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "capabilities", "cannot clear the ambient set: %s",
                               strerror(errno));
        caps = cap_init();
        if (!caps)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "capabilities", "cap_init: %s", strerror(errno));
        for (int c = 0; c <= last; c++) {
                cap_value_t v = (cap_value_t)c;
                if (!kept(keep, (unsigned)c))
                        continue;
                cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
                cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
                cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
        }
        if (cap_set_proc(caps) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "capabilities", "cap_set_proc: %s", strerror(errno));
        for (int c = 0; c <= last; c++)
                if (kept(keep, (unsigned)c) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, errno, "capabilities",
                                       "cannot keep %s in the ambient set: %s", cap_name(c, nb, sizeof nb),
                                       strerror(errno));
        return caps_verify(keep, last, e);
}
