/* Credentials: header checks in the supervisor, decrypt + stage in the payload, scrub in init.
 *
 * The supervisor never decrypts: it checks the envelope's header and
 * signature, reads only the id prefix of the pool key file, and hands the
 * verified envelope (inherited through the clone, never re-read, so the file
 * cannot change between check and use) and the key's fd to the sandbox. The
 * payload decrypts after the fork, with PR_SET_DUMPABLE 0 and all plaintext
 * in a locked, never-dumped arena, and stages the files on a private mount
 * that init wipes in place once every process of the sandbox is gone. */
#include "launcher/creds.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "launcher/audit.h"
#include "launcher/broker_creds.h"
#include "launcher/creds_fs.h"
#include "launcher/sync.h"
#include "policy/admission.h"
#include "policy/profile.h"
#include "policy/scope.h"

#define CREDS_ARENA_LIMIT (64u << 20)

struct creds_ctx {
        int key_fd;
        int dir_parent;                         /* init: parent of the credentials dir (O_PATH), or -1 */
        int handoff_fd;                         /* proxy mode: read end of the broker's handoff, or -1 */
        int env_fd;                             /* pre-built sandbox: the envelope's bytes (sealed memfd), or -1 */
        struct profile_envelope *env;           /* verified by the supervisor */
        char *skipped_scopes[STATUS_MAX_NAMES]; /* into the status's copy of the names, for the note */
};

/* The policy's revocation list and --revoked, loaded for admission. */
static int load_revoked(struct task *t, struct revocation_list *lists, struct admission_input *in, struct sr_error *e) {
        const char *paths[2] = { t->pol->credentials.revocation_list, t->cfg.revoked };
        int r;
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                if (!paths[i])
                        continue;
                if ((r = revocation_load(paths[i], &lists[in->n_lists], e)) < 0)
                        return r;
                in->lists[in->n_lists] = &lists[in->n_lists];
                in->list_names[in->n_lists++] = paths[i];
        }
        return 0;
}

static int open_key(struct task *t, struct sr_error *e) {
        const struct task_config *c = &t->cfg;
        int fd;
        if (c->key_path) {
                fd = open(c->key_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fd < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "usage", "--key %s: cannot open: %s%s", c->key_path,
                                       strerror(errno), errno == ELOOP ? " (symlinks are not followed)" : "");
        } else {
                /* our own copy: the caller's number is closed before exec like any stray fd */
                fd = fcntl(c->key_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "usage", "--key-fd %d: %s", c->key_fd,
                                       strerror(errno));
        }
        t->creds->key_fd = fd;
        return 0;
}

/* Load what admission needs (the revocation lists; the trust set was
 * resolved with the command line, launcher/config.c), then decide
 * (policy/admission.c: no I/O there, table-tested). */
static int admit(struct task *t, const struct profile_envelope *env, const uint8_t *key_id, const char *key_name,
                 struct sr_error *e) {
        struct revocation_list lists[2] = { 0 };
        struct admission_input in = {
                .name = t->cfg.profile,
                .env = env,
                .task_tenant = t->cfg.tenant,
                .policy_tenant = t->pol->tenant,
                .policy_file = t->pol->file,
                .pool_key_id = key_id,
                .pool_key_name = key_name,
                .now = (int64_t)time(NULL),
                .trusted = t->cfg.trusted,
                .n_trusted = t->cfg.n_trusted,
        };
        int r = load_revoked(t, lists, &in, e);
        if (r >= 0)
                r = admission_check(&in, e);
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                revocation_free(&lists[i]);
        return r;
}

static int sealed_copy(struct task *t, int *fd, struct sr_error *e) {
        size_t max = pol_credentials_max_bytes(&t->pol->credentials) + 1;
        int m = memfd_create("sealrun-profile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        char buf[16384];
        size_t total = 0;
        ssize_t n;
        if (m < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials", "memfd_create: %s", strerror(errno));
        while (total <= max && (n = read(*fd, buf, sizeof buf)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || write(m, buf, (size_t)n) != n) {
                        close(m);
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "usage", "--profile %s: cannot read: %s",
                                       t->cfg.profile, strerror(errno));
                }
                total += (size_t)n;
        }
        if (fcntl(m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
            lseek(m, 0, SEEK_SET) < 0) {
                close(m);
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials", "cannot seal the profile copy: %s",
                               strerror(errno));
        }
        close(*fd);
        *fd = m;
        t->creds->env_fd = fcntl(m, F_DUPFD_CLOEXEC, 3);
        return t->creds->env_fd < 0 ? sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials", "dup: %s", strerror(errno))
                                    : 0;
}

static int prepare(struct task *t, struct sr_error *e) {
        _cleanup_close_ int pfd = -1;
        const struct task_config *c = &t->cfg;
        struct profile_envelope *env;
        char key_name[64], want[KEY_ID_HEX], have[KEY_ID_HEX];
        uint8_t key_id[KEY_ID_BYTES];
        int r;

        if (!c->profile)
                return 0;
        t->status.has_profile = true;
        if (!(t->creds = calloc(1, sizeof *t->creds)))
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        t->creds->key_fd = -1;
        t->creds->dir_parent = -1;
        t->creds->handoff_fd = -1;
        t->creds->env_fd = -1;

        /* the key: only the id prefix is read here, never the secret */
        if ((r = open_key(t, e)) < 0)
                return r;
        if (c->key_path)
                snprintf(key_name, sizeof key_name, "--key %.50s", c->key_path);
        else
                snprintf(key_name, sizeof key_name, "--key-fd %d", c->key_fd);
        if ((r = key_peek_id(t->creds->key_fd, key_name, key_id, e)) < 0)
                return r;

        pfd = open(c->profile, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (pfd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "usage", "--profile %s: cannot open: %s", c->profile,
                               strerror(errno));
        /* a pre-built sandbox gets the envelope after its clone: the very
         * bytes checked here, sealed, so that the file cannot change between
         * check and use */
        if (t->prepared && (r = sealed_copy(t, &pfd, e)) < 0)
                return r;
        if ((r = profile_load_fd(pfd, c->profile, pol_credentials_max_bytes(&t->pol->credentials), &env, e)) < 0)
                return r;
        t->creds->env = env;
        t->status.profile = status_own(&t->status, env->h.profile);
        t->status.profile_version = (long long)env->h.version;
        /* header facts for the audit events (ids only; deny events carry them too) */
        key_id_hex(env->h.recipient, want);
        key_id_hex(env->h.issuer, have);
        audit_note_profile(t, env->h.profile, (long long)env->h.version, want, have);

        if ((r = admit(t, env, key_id, key_name, e)) < 0)
                return r;
        return 0;
}

const char *creds_mountpoint(const struct task *t) {
        /* a pre-built sandbox has it whether or not its task brings a profile */
        return t->creds || t->prepared ? pol_credentials_dir(&t->pol->credentials) : NULL;
}

int creds_claim_fds(const struct task *t, int *ret_key_fd, int *ret_env_fd) {
        *ret_key_fd = t->creds ? t->creds->key_fd : -1;
        *ret_env_fd = t->creds ? t->creds->env_fd : -1;
        return t->cfg.profile && (*ret_key_fd < 0 || *ret_env_fd < 0) ? -EINVAL : 0;
}

int creds_claim_adopt(struct task *t, int key_fd, int env_fd, struct sr_error *e) {
        int r;
        if (!t->cfg.profile)
                return 0;
        if (!t->creds || key_fd < 0 || env_fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "claim", "the claim brought a profile without its fds");
        t->creds->key_fd = key_fd;
        if (lseek(env_fd, 0, SEEK_SET) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "claim", "profile copy: %s", strerror(errno));
        r = profile_load_fd(env_fd, t->cfg.profile, pol_credentials_max_bytes(&t->pol->credentials), &t->creds->env, e);
        close(env_fd);
        return r;
}

int creds_prepare(struct task *t, struct sr_error *e) {
        /* a refusal ends the run before creds_release would be reached */
        int r = prepare(t, e);
        if (r < 0)
                creds_release(t);
        return r;
}

/* Why a credential was left out, as the reason code of the status JSON and
 * the words of the stderr note. The supervisor tells it from what it knows
 * (the scope in the announcement, the task's scopes, the policy), so that
 * nothing but names and scopes crosses from the payload. */
static const char *skip_reason(const struct task *t, const char *scope, const char **ret_text) {
        if (scope && !scope_covered_by(scope, t->cfg.scopes, t->cfg.n_scopes)) {
                *ret_text = "its scope is not granted to the task (--scope)";
                return "scope-not-granted";
        }
        *ret_text = "env delivery not allowed by policy (credentials.allow_env)";
        return "env-not-allowed";
}

/* One stderr line naming every credential left out, so that a missing
 * variable in the payload is never a mystery. */
static void note_skipped(const struct task *t, char *const *scopes) {
        char line[1024];
        size_t n = t->status.n_skipped, o = 0;
        const char *text;
        if (!n)
                return;
        for (size_t i = 0; i < n && o < sizeof line; i++) {
                skip_reason(t, scopes[i], &text);
                o += (size_t)snprintf(line + o, sizeof line - o,
                                      n == 1 ? "credential %s not delivered: %s" : "%s%s (%s)",
                                      n == 1 ? t->status.skipped[i]
                                      : i    ? "; "
                                             : "",
                                      n == 1 ? text : t->status.skipped[i], text);
        }
        fprintf(stderr, "sealrun: note: %s%s\n", n > 1 ? "credentials not delivered: " : "", line);
}

int creds_on_inject(struct task *t, const char *names, struct sr_error *e) {
        const char *inject[STATUS_MAX_NAMES], *scopes[STATUS_MAX_NAMES];
        char *skipped_scopes[STATUS_MAX_NAMES];
        bool brokered[STATUS_MAX_NAMES];
        size_t n = 0;
        char *p, *sp;
        int r;
        if (!t->cfg.profile || !t->creds)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "protocol", "unexpected inject message");
        /* "+name[ scope]" lines are injected, "-name[ scope]" lines skipped (names and scopes only) */
        t->status.n_injected = t->status.n_skipped = t->status.n_brokered = 0;
        if (!(p = status_own(&t->status, names)))
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        for (; p && *p;) {
                char *nl = strchr(p, '\n');
                if (nl)
                        *nl = 0;
                if ((sp = strchr(p, ' ')))
                        *sp++ = 0;
                if ((p[0] == '+' || p[0] == '~') && t->status.n_injected < STATUS_MAX_NAMES) {
                        t->status.injected[t->status.n_injected++] = p + 1;
                        brokered[n] = p[0] == '~';
                        if (brokered[n] && t->status.n_brokered < STATUS_MAX_NAMES)
                                t->status.brokered[t->status.n_brokered++] = p + 1;
                        scopes[n] = sp;
                        inject[n++] = p + 1;
                } else if (p[0] == '-' && t->status.n_skipped < STATUS_MAX_NAMES) {
                        const char *text;
                        t->status.skipped_reason[t->status.n_skipped] = skip_reason(t, sp, &text);
                        skipped_scopes[t->status.n_skipped] = sp;
                        t->status.skipped[t->status.n_skipped++] = p + 1;
                }
                p = nl ? nl + 1 : NULL;
        }
        memcpy(t->creds->skipped_scopes, skipped_scopes, sizeof skipped_scopes);
        r = audit_inject_brokered(t, inject, scopes, brokered, n, e);
        /* refused: the child stages nothing, so nothing counts as injected */
        if (r < 0)
                t->status.n_injected = 0;
        return r;
}

void creds_on_running(const struct task *t) {
        /* said once the payload runs: a launch that fails or is refused
         * after the inject keeps its one stderr line */
        if (t->cfg.profile && t->creds)
                note_skipped(t, t->creds->skipped_scopes);
}

void creds_release(struct task *t) {
        if (!t->creds)
                return;
        if (t->creds->key_fd >= 0)
                close(t->creds->key_fd);
        if (t->creds->env_fd >= 0)
                close(t->creds->env_fd);
        profile_envelope_free(t->creds->env);
        free(t->creds);
        t->creds = NULL;
}

/* ---- payload side ------------------------------------------------------- */

static bool delivered_as_env(const struct task *t, const struct profile_cred *c) {
        return (c->as & CRED_ENV) && t->pol->credentials.allow_env;
}

/* A credential is staged when the task's scopes cover its scope and it has a
 * delivery the policy allows (env-only credentials need allow_env). */
static bool selected(const struct task *t, const struct profile_cred *c) {
        if (c->scope && !scope_covered_by(c->scope, t->cfg.scopes, t->cfg.n_scopes))
                return false;
        return (c->as & CRED_FILE) || delivered_as_env(t, c);
}

static int announce(struct task *t, const struct profile_plain *p, struct sr_error *e) {
        char text[SYNC_TEXT_MAX];
        struct sync_msg m;
        size_t len = 0;
        int r;
        for (size_t i = 0; i < p->n_creds; i++) {
                const char *scope = p->creds[i].scope;
                char mark = !selected(t, &p->creds[i]) ? '-' : p->creds[i].placeholder ? '~' : '+';
                int n = snprintf(text + len, sizeof text - len, "%c%s%s%s\n", mark, p->creds[i].name, scope ? " " : "",
                                 scope ? scope : "");
                if (n < 0 || (size_t)n >= sizeof text - len)
                        return sr_fail(e, SR_EXIT_REFUSED, E2BIG, "bad-plaintext",
                                       "%s: credential names too long to report (over %d bytes in all)", t->cfg.profile,
                                       SYNC_TEXT_MAX);
                len += (size_t)n;
        }
        text[len] = 0;
        if ((r = sync_send(t->sync_child, SYNC_INJECT, 0, 0, "credentials", text)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "credentials", "cannot reach the supervisor: %s", strerror(-r));
        if ((r = sync_recv(t->sync_child, &m, -1)) < 0 || m.type != SYNC_INJECT_ACK)
                return sr_fail(e, SR_EXIT_LAUNCHER, r < 0 ? -r : EPROTO, "credentials",
                               "no answer from the supervisor to the inject event");
        if (m.err)
                return sr_fail(e, m.value ? m.value : SR_EXIT_TEMPFAIL, m.err, "audit", "%s",
                               m.text[0] ? m.text : "the inject event was not acknowledged");
        return 0;
}

/* Append NAME=value (replacing a NAME from the policy or --setenv); the
 * string lives in the locked `envm` until execve replaces this image. */
static int env_put(struct task *t, struct secmem *envm, const struct profile_cred *c) {
        size_t nl = strlen(c->name), n = 0;
        char *kv = secmem_alloc(envm, nl + 1 + c->value_len + 1), **nv;
        if (!kv)
                return -ENOMEM;
        memcpy(kv, c->name, nl);
        kv[nl] = '=';
        memcpy(kv + nl + 1, c->value, c->value_len);
        kv[nl + 1 + c->value_len] = 0;
        for (; t->envp && t->envp[n]; n++)
                if (strncmp(t->envp[n], c->name, nl) == 0 && t->envp[n][nl] == '=') {
                        t->envp[n] = kv; /* the old string stays owned by the supervisor's copy */
                        return 0;
                }
        nv = realloc(t->envp, (n + 2) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        nv[n] = kv;
        nv[n + 1] = NULL;
        t->envp = nv;
        return 0;
}

static int env_set_plain(struct task *t, struct secmem *envm, const char *name, const char *value) {
        struct profile_cred c = { .name = name, .value = (const uint8_t *)value, .value_len = strlen(value) };
        return env_put(t, envm, &c);
}

/* Key → plaintext → parsed credentials, all in `m`; the tenant inside must
 * be the header's. Shared by the payload side (network modes other than
 * proxy) and the broker (launcher/broker_creds.c). */
int creds_open_plain(struct task *t, struct secmem *m, struct profile_plain *ret, struct sr_error *e) {
        struct creds_ctx *c = t->creds;
        struct sr_key key;
        uint8_t *pt = NULL;
        size_t pt_len = 0;
        int r;

        if (!c || !c->env || c->key_fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "credentials", "credentials were not prepared");
        /* the supervisor checked mode and owner on this very open file */
        r = key_read_fd(c->key_fd, "the pool key", KEY_POOL_SECRET, m, &key, e);
        close(c->key_fd);
        c->key_fd = -1;
        if (r < 0)
                return r;
        r = profile_decrypt(t->cfg.profile, c->env, &key, m, &pt, &pt_len, e);
        secmem_release(m, key.secret);
        if (r < 0)
                return r;
        r = profile_plain_parse(t->cfg.profile, m, pt, pt_len, SR_EXIT_REFUSED, ret, e);
        secmem_release(m, pt);
        if (r < 0)
                return r;
        if (strcmp(ret->tenant, c->env->h.tenant) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "tenant-mismatch",
                               "%s: the sealed plaintext names tenant %s, the header %s", t->cfg.profile, ret->tenant,
                               c->env->h.tenant);
        return 0;
}

bool creds_selected(const struct task *t, const struct profile_cred *c) {
        return selected(t, c);
}

/* Outside proxy mode a bound credential has no broker to hold it: refuse
 * the task rather than hand the value over (docs/profiles.md "Bindings"). */
static int refuse_bound(struct task *t, const struct profile_plain *p, struct sr_error *e) {
        for (size_t i = 0; i < p->n_creds; i++)
                if (p->creds[i].bind && selected(t, &p->creds[i]))
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "binding-needs-proxy",
                                       "%s: credential %s is bound to hosts (brokered) and is delivered only in "
                                       "network mode \"proxy\" (%s sets another mode)",
                                       t->cfg.profile, p->creds[i].name, t->pol->file);
        return 0;
}

int creds_stage(struct task *t, struct sr_error *e) {
        _cleanup_(secmem_destroyp) struct secmem *m = NULL;
        struct creds_ctx *c = t->creds;
        const char *dir = pol_credentials_dir(&t->pol->credentials);
        struct profile_plain plain;
        struct secmem *envm = NULL;
        int r;

        if (!t->cfg.profile)
                return 0;
        if (!c || !c->env)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "credentials", "credentials were not prepared");
        /* no ptrace, no /proc/PID/mem while plaintext exists (no core: the
         * rlimits step, before this one, set RLIMIT_CORE to 0) */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "credentials", "cannot make the process undumpable: %s",
                               strerror(errno));
        if (secmem_new(CREDS_ARENA_LIMIT, &m) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "credentials", "libsodium failed to initialise");

        if (c->handoff_fd >= 0) {
                /* proxy mode: the broker decrypted; this side never reads
                 * the key, so a bound value is never in its memory */
                if (c->key_fd >= 0)
                        close(c->key_fd);
                c->key_fd = -1;
                r = broker_handoff_read(t, c->handoff_fd, m, &plain, e);
                close(c->handoff_fd);
                c->handoff_fd = -1;
                if (r < 0)
                        return r;
        } else {
                if ((r = creds_open_plain(t, m, &plain, e)) < 0 || (r = refuse_bound(t, &plain, e)) < 0)
                        return r;
        }
        if ((r = announce(t, &plain, e)) < 0)
                return r;

        struct creds_file files[PROFILE_MAX_CREDS];
        size_t n_files = 0, n_env = 0;
        for (size_t i = 0; i < plain.n_creds; i++) {
                const struct profile_cred *pc = &plain.creds[i];
                if (!selected(t, pc))
                        continue;
                if (pc->as & CRED_FILE)
                        files[n_files++] =
                                (struct creds_file){ .name = pc->name, .value = pc->value, .len = pc->value_len };
                if (delivered_as_env(t, pc))
                        n_env++;
        }
        if ((r = creds_fs_stage(t, dir, files, n_files, e)) < 0)
                return r;

        /* env strings must outlive this frame (until execve): a second arena */
        if (secmem_new(CREDS_ARENA_LIMIT, &envm) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EIO, "credentials", "libsodium failed to initialise");
        r = 0;
        for (size_t i = 0; r == 0 && n_env && i < plain.n_creds; i++)
                if (selected(t, &plain.creds[i]) && delivered_as_env(t, &plain.creds[i]))
                        r = env_put(t, envm, &plain.creds[i]);
        /* last, so that no credential can point it elsewhere */
        if (r == 0)
                r = env_set_plain(t, envm, "CREDENTIALS_DIRECTORY", dir);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "credentials", "cannot build the environment in locked memory");
        /* m (plaintext, values, the key) is wiped and unmapped on return */
        return 0;
}

int creds_hold_dir(struct task *t, struct sr_error *e) {
        const char *dir = pol_credentials_dir(&t->pol->credentials);
        int fd;
        if (t->prepared && !t->creds) {
                /* the claim fills it in (creds_claim_adopt) */
                if (!(t->creds = calloc(1, sizeof *t->creds)))
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
                *t->creds = (struct creds_ctx){ .key_fd = -1, .dir_parent = -1, .handoff_fd = -1, .env_fd = -1 };
        }
        if (!t->creds || (!t->cfg.profile && !t->prepared))
                return 0;
        fd = creds_fs_hold_parent(dir);
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -fd, "credentials", "parent of the credentials directory %s: %s",
                               dir, strerror(-fd));
        t->creds->dir_parent = fd;
        return 0;
}

int creds_handoff_pipe(struct task *t, int *ret_wr) {
        int p[2];
        *ret_wr = -1;
        if (!t->cfg.profile || !t->creds)
                return 0;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        t->creds->handoff_fd = p[0];
        *ret_wr = p[1];
        return 0;
}

void creds_handoff_taken(struct task *t) {
        /* the broker's side: the payload's end is not its business */
        if (t->creds && t->creds->handoff_fd >= 0) {
                close(t->creds->handoff_fd);
                t->creds->handoff_fd = -1;
        }
}

int creds_scrub(struct task *t, struct sr_error *e) {
        if (!t->cfg.profile)
                return 0;
        /* init inherited the key fd through the clone; it has no use for it */
        if (t->creds && t->creds->key_fd >= 0) {
                close(t->creds->key_fd);
                t->creds->key_fd = -1;
        }
        if (t->creds && t->creds->handoff_fd >= 0) {
                close(t->creds->handoff_fd);
                t->creds->handoff_fd = -1;
        }
        return creds_fs_scrub_at(t, t->creds ? t->creds->dir_parent : -1, pol_credentials_dir(&t->pol->credentials), e);
}
