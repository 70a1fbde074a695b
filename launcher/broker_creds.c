/* Brokered credentials: the broker (the egress proxy process) decrypts, keeps the bound values, hands the rest over.
 *
 * In network mode "proxy" with a profile, the payload side never reads the
 * pool key. The broker, forked from sandbox init before the payload exists,
 * decrypts the profile in its own locked arena (non-dumpable, no core),
 * keeps every bound credential the task is granted, gives each a random
 * placeholder, and writes the payload side a handoff over a pipe: each
 * credential's name, delivery and scope, with the value of an unbound one
 * (which the payload receives anyway) or the placeholder of a bound one. So
 * a bound value exists in no process the payload descends from, at no time;
 * only the broker, which the payload cannot ptrace or read (egress_init.c),
 * ever holds it, and wipes it at release.
 *
 * The handoff is written whole before the broker signals ready (the pipe is
 * sized for it), so the broker never blocks on a payload that died early. */
#include "launcher/broker_creds.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "launcher/creds.h"
#include "launcher/egress.h"

#define BROKER_ARENA_LIMIT (16u << 20)
#define HANDOFF_MAGIC 0x31485253u /* "SRH1" */
#define HANDOFF_MAX \
        (PROFILE_MAX_BYTES + \
         8192)            /* values and names come from a plaintext of at most that; placeholders add 43 bytes each */
#define HF_PLACEHOLDER 1u /* the value is the broker's placeholder */
#define HF_WITHHELD 2u    /* not delivered to this task: no value sent */

struct handoff_rec {
        uint8_t as, flags;
        uint16_t name_len, scope_len;
        uint32_t value_len;
};

static const char *dup_str(struct secmem *m, const char *s, int *r) {
        char *d;
        if (!s)
                return NULL;
        if (!(d = secmem_strndup(m, s, strlen(s))))
                *r = -ENOMEM;
        return d;
}

static int copy_binding(struct secmem *m, const struct cred_binding *in, struct cred_binding *out) {
        int r = 0;
        *out = *in;
        for (size_t i = 0; i < in->n_hosts; i++)
                out->hosts[i] = dup_str(m, in->hosts[i], &r);
        out->header = dup_str(m, in->header, &r);
        out->user = dup_str(m, in->user, &r);
        out->ca_pem = dup_str(m, in->ca_pem, &r);
        for (size_t i = 0; i < in->n_pins; i++) {
                out->pins[i].host = dup_str(m, in->pins[i].host, &r);
                for (size_t k = 0; k < in->pins[i].n_addrs; k++)
                        out->pins[i].addrs[k] = dup_str(m, in->pins[i].addrs[k], &r);
        }
        return r;
}

/* 128 random bits, hex: never derived from the secret; unique in the task. */
static void make_placeholder(const struct broker_creds *b, char out[PLACEHOLDER_LEN + 1]) {
        uint8_t rnd[PLACEHOLDER_HEX / 2];
        bool dup;
        do {
                randombytes_buf(rnd, sizeof rnd);
                memcpy(out, PLACEHOLDER_PREFIX, sizeof PLACEHOLDER_PREFIX - 1);
                sodium_bin2hex(out + sizeof PLACEHOLDER_PREFIX - 1, PLACEHOLDER_HEX + 1, rnd, sizeof rnd);
                dup = false;
                for (size_t i = 0; i < b->n; i++)
                        dup |= strcmp(b->v[i].placeholder, out) == 0;
        } while (dup);
        sodium_memzero(rnd, sizeof rnd);
}

/* Keep the bound credentials this task is granted; plain stays in `tmp`. */
static int load(struct task *t, struct broker_creds *b, struct secmem *tmp, struct profile_plain *plain,
                struct sr_error *e) {
        struct rlimit zero = { 0, 0 };
        size_t n = 0;
        int r;

        *b = (struct broker_creds){ 0 };
        if (!t->cfg.profile)
                return 0;
        /* before any plaintext: no ptrace, no /proc/PID/mem, no core */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &zero) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials", "broker: cannot make itself undumpable: %s",
                               strerror(errno));
        if ((r = creds_open_plain(t, tmp, plain, e)) < 0)
                return r;
        for (size_t i = 0; i < plain->n_creds; i++)
                n += plain->creds[i].bind && creds_selected(t, &plain->creds[i]);
        if (n == 0)
                return 0;
        if (secmem_new(BROKER_ARENA_LIMIT, &b->arena) < 0 || !(b->v = secmem_alloc(b->arena, n * sizeof *b->v)))
                goto nomem;
        memset(b->v, 0, n * sizeof *b->v);
        for (size_t i = 0; i < plain->n_creds; i++) {
                const struct profile_cred *pc = &plain->creds[i];
                struct broker_cred *bc = &b->v[b->n];
                uint8_t *val;
                if (!pc->bind || !creds_selected(t, pc))
                        continue;
                if (!(bc->name = secmem_strndup(b->arena, pc->name, strlen(pc->name))) ||
                    !(val = secmem_alloc(b->arena, pc->value_len + 1)) ||
                    copy_binding(b->arena, pc->bind, &bc->bind) < 0)
                        goto nomem;
                memcpy(val, pc->value, pc->value_len);
                val[pc->value_len] = 0;
                bc->value = val;
                bc->value_len = pc->value_len;
                make_placeholder(b, bc->placeholder);
                b->n++;
        }
        return 0;
nomem:
        broker_creds_free(b);
        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem",
                       "%s: broker: cannot allocate locked memory for the credentials (RLIMIT_MEMLOCK?)",
                       t->cfg.profile);
}

int broker_creds_load(struct task *t, struct broker_creds *ret, struct sr_error *e) {
        _cleanup_(secmem_destroyp) struct secmem *tmp = NULL;
        struct profile_plain plain;
        if (secmem_new(BROKER_ARENA_LIMIT, &tmp) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "crypto", "libsodium failed to initialise");
        return load(t, ret, tmp, &plain, e);
}

void broker_creds_free(struct broker_creds *b) {
        if (!b)
                return;
        /* the arena wipes every chunk (values, placeholders' copies, bindings) before unmapping */
        if (b->arena)
                secmem_destroy(b->arena);
        sodium_memzero(b, sizeof *b);
}

const struct broker_cred *broker_creds_find(const struct broker_creds *b, const char *name) {
        for (size_t i = 0; b && i < b->n; i++)
                if (strcmp(b->v[i].name, name) == 0)
                        return &b->v[i];
        return NULL;
}

void broker_creds_report(const struct broker_creds *b, int fd) {
        for (size_t i = 0; b && fd >= 0 && i < b->n; i++)
                for (size_t k = 0; k < b->v[i].bind.n_hosts; k++) {
                        struct egress_injected_msg m = { .type = EGM_INJECTED, .requests = b->v[i].requests[k] };
                        if (!m.requests)
                                continue;
                        snprintf(m.cred, sizeof m.cred, "%s", b->v[i].name);
                        snprintf(m.host, sizeof m.host, "%s", b->v[i].bind.hosts[k]);
                        (void)send(fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT);
                }
}

/* ---- the handoff: broker → payload side -------------------------------- */

static int put(uint8_t *buf, size_t cap, size_t *off, const void *p, size_t n) {
        if (n > cap - *off)
                return -E2BIG;
        if (n)
                memcpy(buf + *off, p, n);
        *off += n;
        return 0;
}

static int encode(struct task *t, const struct broker_creds *b, const struct profile_plain *p, struct secmem *m,
                  uint8_t **ret, size_t *ret_len) {
        size_t cap = 16, off = 0;
        uint32_t magic = HANDOFF_MAGIC, n = (uint32_t)p->n_creds;
        int32_t ok = 0;
        uint8_t *buf;
        int r = 0;
        for (size_t i = 0; i < p->n_creds; i++)
                cap += sizeof(struct handoff_rec) + strlen(p->creds[i].name) +
                       (p->creds[i].scope ? strlen(p->creds[i].scope) : 0) + p->creds[i].value_len + PLACEHOLDER_LEN;
        if (cap > HANDOFF_MAX)
                return -E2BIG;
        if (!(buf = secmem_alloc(m, cap)))
                return -ENOMEM;
        r |= put(buf, cap, &off, &magic, sizeof magic);
        r |= put(buf, cap, &off, &ok, sizeof ok);
        r |= put(buf, cap, &off, &n, sizeof n);
        for (size_t i = 0; i < p->n_creds; i++) {
                const struct profile_cred *pc = &p->creds[i];
                const struct broker_cred *bc = pc->bind ? broker_creds_find(b, pc->name) : NULL;
                bool give = creds_selected(t, pc);
                struct handoff_rec h = {
                        .as = (uint8_t)pc->as,
                        .flags = (uint8_t)(!give ? HF_WITHHELD
                                           : bc  ? HF_PLACEHOLDER
                                                 : 0),
                        .name_len = (uint16_t)strlen(pc->name),
                        .scope_len = (uint16_t)(pc->scope ? strlen(pc->scope) : 0),
                };
                const void *v = !give ? NULL : bc ? (const void *)bc->placeholder : (const void *)pc->value;
                /* a bound credential is never sent as a value: without its
                 * broker entry it is withheld (load keeps every granted one) */
                if (give && pc->bind && !bc)
                        return -EINVAL;
                h.value_len = !give ? 0 : bc ? (uint32_t)PLACEHOLDER_LEN : (uint32_t)pc->value_len;
                r |= put(buf, cap, &off, &h, sizeof h);
                r |= put(buf, cap, &off, pc->name, h.name_len);
                r |= put(buf, cap, &off, pc->scope, h.scope_len);
                r |= put(buf, cap, &off, v, h.value_len);
        }
        if (r)
                return -E2BIG;
        *ret = buf;
        *ret_len = off;
        return 0;
}

static void send_error(int fd, const struct sr_error *e) {
        uint32_t magic = HANDOFF_MAGIC;
        int32_t code = e->exit_code ? e->exit_code : SR_EXIT_LAUNCHER;
        uint8_t buf[sizeof magic + sizeof code + sizeof *e];
        memcpy(buf, &magic, sizeof magic);
        memcpy(buf + sizeof magic, &code, sizeof code);
        memcpy(buf + sizeof magic + sizeof code, e, sizeof *e);
        (void)write_all(fd, buf, sizeof buf);
}

int broker_start(struct task *t, int handoff_wr, struct broker_creds *ret) {
        _cleanup_(secmem_destroyp) struct secmem *tmp = NULL;
        struct profile_plain plain;
        struct sr_error e = { 0 };
        uint8_t *blob = NULL;
        size_t len = 0;
        int r;

        *ret = (struct broker_creds){ 0 };
        if (handoff_wr < 0)
                return 0;
        creds_handoff_taken(t);
        if (secmem_new(BROKER_ARENA_LIMIT, &tmp) < 0)
                r = sr_fail(&e, SR_EXIT_LAUNCHER, EIO, "crypto", "libsodium failed to initialise");
        else if ((r = load(t, ret, tmp, &plain, &e)) == 0 && (r = encode(t, ret, &plain, tmp, &blob, &len)) < 0)
                sr_fail(&e, SR_EXIT_LAUNCHER, -r, "credentials", "%s: broker: cannot hand the credentials over: %s",
                        t->cfg.profile, strerror(-r));
        /* the whole handoff fits the pipe: written now, it never blocks */
        if (r == 0 && len > 60 * 1024 && fcntl(handoff_wr, F_SETPIPE_SZ, (int)len + 4096) < 0)
                r = sr_fail(&e, SR_EXIT_LAUNCHER, errno, "credentials",
                            "%s: broker: cannot size the handoff pipe for %zu bytes: %s", t->cfg.profile, len,
                            strerror(errno));
        if (r == 0)
                r = write_all(handoff_wr, blob, len);
        else
                send_error(handoff_wr, &e);
        close(handoff_wr);
        if (r < 0)
                broker_creds_free(ret);
        /* tmp (every plaintext value, the blob) is wiped here */
        return r;
}

static int take(const uint8_t *buf, size_t len, size_t *off, void *p, size_t n) {
        if (n > len - *off)
                return -EBADMSG;
        memcpy(p, buf + *off, n);
        *off += n;
        return 0;
}

int broker_handoff_read(struct task *t, int fd, struct secmem *m, struct profile_plain *ret, struct sr_error *e) {
        uint8_t *buf = NULL;
        size_t len = 0, off = 0;
        uint32_t magic = 0, n = 0;
        int32_t code = 0;
        int r = secmem_read_fd(m, fd, HANDOFF_MAX, &buf, &len);

        if (r < 0 || take(buf, len, &off, &magic, sizeof magic) < 0 || magic != HANDOFF_MAGIC ||
            take(buf, len, &off, &code, sizeof code) < 0) {
                if (r == 0)
                        secmem_release(m, buf);
                /* the handoff's block is locked like every plaintext */
                if (r == -ENOMEM)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem",
                                       "%s: cannot lock memory for the broker's handoff (%u KiB; RLIMIT_MEMLOCK: "
                                       "raise it, ulimit -l)",
                                       t->cfg.profile, (unsigned)(HANDOFF_MAX / 1024));
                return sr_fail(e, SR_EXIT_LAUNCHER, r < 0 ? -r : EPROTO, "credentials",
                               "%s: the egress broker did not hand the credentials over", t->cfg.profile);
        }
        if (code != 0) {
                struct sr_error be;
                r = take(buf, len, &off, &be, sizeof be);
                secmem_release(m, buf);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "credentials", "broker: truncated error");
                be.msg[sizeof be.msg - 1] = be.reason[sizeof be.reason - 1] = 0;
                *e = be;
                e->exit_code = code;
                return -(be.err ? be.err : EINVAL);
        }
        if (take(buf, len, &off, &n, sizeof n) < 0 || n > PROFILE_MAX_CREDS)
                goto bad;
        *ret = (struct profile_plain){ .arena = m, .tenant = "", .n_creds = n };
        if (!(ret->creds = secmem_alloc(m, (n ? n : 1) * sizeof *ret->creds)))
                goto nomem;
        memset(ret->creds, 0, (n ? n : 1) * sizeof *ret->creds);
        for (uint32_t i = 0; i < n; i++) {
                struct profile_cred *c = &ret->creds[i];
                struct handoff_rec h;
                if (take(buf, len, &off, &h, sizeof h) < 0 || h.name_len == 0 ||
                    (size_t)h.name_len + h.scope_len + h.value_len > len - off)
                        goto bad;
                c->as = (enum cred_as)h.as;
                c->placeholder = h.flags & HF_PLACEHOLDER;
                if (!(c->name = secmem_strndup(m, (const char *)buf + off, h.name_len)))
                        goto nomem;
                off += h.name_len;
                if (h.scope_len && !(c->scope = secmem_strndup(m, (const char *)buf + off, h.scope_len)))
                        goto nomem;
                off += h.scope_len;
                if (!(c->value = (const uint8_t *)secmem_strndup(m, (const char *)buf + off, h.value_len)))
                        goto nomem;
                c->value_len = h.value_len;
                off += h.value_len;
                /* withheld: the same selection refuses it on this side */
                if (!!(h.flags & HF_WITHHELD) != !creds_selected(t, c))
                        goto bad;
        }
        secmem_release(m, buf);
        return 0;
bad:
        secmem_release(m, buf);
        return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "credentials", "%s: malformed handoff from the egress broker",
                       t->cfg.profile);
nomem:
        secmem_release(m, buf);
        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "cannot allocate locked memory for the credentials");
}
