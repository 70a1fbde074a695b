/* The stock seccomp profile as BPF compiled at build time: no libseccomp work at run time for it.
 *
 * launcher/gen/seccomp-embed runs seccomp_compile() on the stock profile during the
 * build and writes the program as a C array (build/gen/seccomp_stock_bpf.c),
 * linked into sealrun as an object. It is what the run-time compile would
 * produce only with the same libseccomp (its syscall table and code
 * generator) on the same native architecture from the same JSON, so each
 * entry records those and is used only where all three match; otherwise the
 * stock profile is compiled as before. tests/test_seccomp_embed.c compares
 * the two. A build without the object (make SECCOMP_EMBED=0, a cross build)
 * leaves the weak symbols null and always compiles. This also takes the
 * stock profile out of the reach of any cache a payload could write. */
#include "launcher/seccomp.h"

#include <seccomp.h>
#include <string.h>

const struct seccomp_embedded *seccomp_embedded_find(void) {
        const struct scmp_version *v;
        const char *text;
        size_t len;
        uint32_t arch;
        if (!&seccomp_stock_embedded_n || !seccomp_stock_embedded_n)
                return NULL;
        v = seccomp_version();
        arch = seccomp_arch_native();
        pol_seccomp_builtin_text(&text, &len);
        for (size_t i = 0; i < seccomp_stock_embedded_n; i++) {
                const struct seccomp_embedded *m = &seccomp_stock_embedded[i];
                if (m->arch == arch && m->json_len == len && v && m->major == v->major && m->minor == v->minor &&
                    m->micro == v->micro)
                        return m;
        }
        return NULL;
}

bool seccomp_uses_embedded(const struct policy_seccomp *s) {
        return (!s->set || s->builtin) && seccomp_embedded_find();
}

int seccomp_embedded_get(const struct policy_seccomp *s, struct seccomp_bpf *ret) {
        const struct seccomp_embedded *m;
        struct sock_filter *prog;
        if (s->set && !s->builtin)
                return -ENOENT;
        m = seccomp_embedded_find();
        if (!m)
                return -ENOENT;
        /* A copy: the task's program is freed like a compiled one. */
        prog = malloc(m->len * sizeof *prog);
        if (!prog)
                return -ENOMEM;
        memcpy(prog, m->prog, m->len * sizeof *prog);
        ret->prog = prog;
        ret->len = m->len;
        ret->flags = m->flags;
        return 0;
}
