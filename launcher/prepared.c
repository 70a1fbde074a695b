/* Pre-built sandboxes: sealrun --prepare builds one ahead and runs the one task that claims it; sealrun --run claims.
 *
 * --prepare runs the setup table without the steps marked at_claim
 * (admission of a profile, the slot, the "launch" event), clones, and lets
 * sandbox init do its whole table (mounts, pivot, masks, network, hostname),
 * then init parks and the supervisor waits for one claim on its socket. The
 * sandbox holds the pool's policy only: no task, profile, key, argv or
 * environment of a tenant exists in it before a claim.
 *
 * A claim (policy/claim.h) is accepted only from our own uid (SO_PEERCRED).
 * It carries a sealrun command line: the task's options only, since options
 * that change the build (binds, --workdir, --network, --hostname,
 * --pass-fd, --policy, --audit*) are refused on it: such a task gets a fresh
 * sealrun. The supervisor resolves it against the same policy, runs the
 * claim steps (admission before anything of the task enters the sandbox,
 * then the slot, then "launch"), and only then hands init the argv, the
 * environment, the work dir, the claimer's stdio and, with a profile, the
 * key fd and a sealed copy of the checked envelope; the payload decrypts
 * after that, as in any launch. From there it is an ordinary launch:
 * status JSON to the claim's --status-fd, stderr to the claimer's, and the
 * exit code both to the claimer (EXIT) and as our own.
 *
 * Each pre-built sandbox serves exactly one claim, then exits; one that is
 * stopped, whose claimer goes away before claiming, or whose sandbox died,
 * is torn down and never used. */
#include "launcher/prepared.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "launcher/creds.h"
#include "launcher/interrupt.h"
#include "launcher/setup.h"
#include "launcher/sync.h"
#include "launcher/trace.h"
#include "policy/claim.h"

extern char **environ;

#define MAX_RECORDS 4096

/* ---- the endpoint -------------------------------------------------------- */

static int open_endpoint(struct task *t, struct sr_error *e) {
        const struct cli *c = t->prepare_cli;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int type = 0, fd;
        socklen_t len = sizeof type;
        mode_t old;
        if (c->claim_fd >= 0) {
                int acc = 0;
                if (getsockopt(c->claim_fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--claim-fd %d: not a unix SOCK_SEQPACKET socket", c->claim_fd);
                len = sizeof acc;
                if (getsockopt(c->claim_fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "usage", "--claim-fd %d: %s", c->claim_fd,
                                       strerror(errno));
                fd = fcntl(c->claim_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "usage", "--claim-fd %d: %s", c->claim_fd,
                                       strerror(errno));
                close(c->claim_fd);
                if (acc)
                        t->claim_listen = fd;
                else
                        t->claim_sock = fd;
                return 0;
        }
        if (strlen(c->claim_socket) >= sizeof sa.sun_path)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENAMETOOLONG, "usage", "--claim-socket %s: path too long",
                               c->claim_socket);
        strcpy(sa.sun_path, c->claim_socket);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "claim", "socket: %s", strerror(errno));
        /* our uid only, besides the SO_PEERCRED check */
        old = umask(0077);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int err = errno;
                umask(old);
                close(fd);
                return sr_fail(e, SR_EXIT_LAUNCHER, err, "usage", "--claim-socket %s: %s", c->claim_socket,
                               err == EADDRINUSE ? "exists (another pre-built sandbox, or a stale socket)"
                                                 : strerror(err));
        }
        umask(old);
        if (listen(fd, 4) < 0) {
                int err = errno;
                unlink(c->claim_socket);
                close(fd);
                return sr_fail(e, SR_EXIT_LAUNCHER, err, "claim", "listen: %s", strerror(err));
        }
        t->claim_listen = fd;
        return 0;
}

static void close_endpoint(struct task *t) {
        if (t->claim_listen >= 0) {
                close(t->claim_listen);
                t->claim_listen = -1;
                if (t->prepare_cli && t->prepare_cli->claim_socket)
                        unlink(t->prepare_cli->claim_socket);
        }
}

/* ---- waiting ------------------------------------------------------------- */

/* Sandbox init's steps are done (SYNC_BUILT), or it failed (its error). */
static int wait_built(struct task *t, int sigfd, int *ret_sig, struct sr_error *e) {
        for (;;) {
                struct pollfd pf[2] = { { .fd = t->sync_parent, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
                struct sync_msg m;
                int sig, r;
                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "prepare", "poll: %s", strerror(errno));
                if ((pf[1].revents & POLLIN) && (sig = interrupt_take(sigfd)) > 0) {
                        *ret_sig = sig;
                        return 1;
                }
                if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                r = sync_recv(t->sync_parent, &m, 0);
                if (r == 0 && m.type == SYNC_BUILT)
                        return 0;
                if (r == 0 && m.type == SYNC_ERROR)
                        return sr_fail(e, m.value ? m.value : SR_EXIT_LAUNCHER, m.err, m.step, "%s: %s", m.step,
                                       m.text);
                if (r == 0 && m.type == SYNC_NOTE) {
                        if (t->status.n_not_enforced < ELEMENTSOF(t->status.not_enforced))
                                t->status.not_enforced[t->status.n_not_enforced++] = status_own(&t->status, m.text);
                        continue;
                }
                if (r == -ETIMEDOUT)
                        continue;
                return sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "prepare", "the sandbox died while it was built");
        }
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

/* Wait for the one claim: 0 with its fds, 1 when stopped before any (by a
 * signal, or the claimer left), or a failure (the sandbox died). */
static int wait_claim(struct task *t, int sigfd, int *ret_sig, int *fds, size_t *ret_n, struct sr_error *e) {
        for (;;) {
                int conn = t->claim_sock >= 0 ? t->claim_sock : t->claim_listen;
                struct pollfd pf[3] = { { .fd = conn, .events = POLLIN },
                                        { .fd = sigfd, .events = POLLIN },
                                        { .fd = t->sync_parent, .events = POLLIN } };
                struct claim_msg m;
                int sig, r;
                if (poll(pf, 3, -1) < 0 && errno != EINTR)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "prepare", "poll: %s", strerror(errno));
                if ((pf[1].revents & POLLIN) && (sig = interrupt_take(sigfd)) > 0) {
                        *ret_sig = sig;
                        return 1;
                }
                /* init says nothing while parked: anything is its end */
                if (pf[2].revents)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "prepare",
                                       "the pre-built sandbox died before a task claimed it");
                if (!pf[0].revents)
                        continue;
                if (t->claim_sock < 0) {
                        int s = accept4(t->claim_listen, NULL, NULL, SOCK_CLOEXEC);
                        pid_t peer;
                        if (s < 0)
                                continue;
                        r = claim_check_peer(s, &peer);
                        if (r < 0) {
                                /* refused, and the sandbox stays untouched for its own pool */
                                fprintf(stderr, "sealrun: claim refused: %s\n",
                                        r == -EPERM ? "the claimer is not this sandbox's uid" : strerror(-r));
                                close(s);
                                continue;
                        }
                        t->claim_sock = s;
                        if (claim_send(s, CLAIM_READY, (int)getpid(), NULL, 0) < 0) {
                                close(s);
                                t->claim_sock = -1;
                        }
                        continue;
                }
                r = claim_recv(t->claim_sock, &m, fds, CLAIM_MAX_FDS, ret_n, 0);
                if (r == -ETIMEDOUT)
                        continue;
                if (r == -EPIPE && t->claim_listen >= 0) {
                        close(t->claim_sock); /* left before claiming: wait for the next */
                        t->claim_sock = -1;
                        continue;
                }
                if (r == -EPIPE)
                        return 1;
                if (r < 0 || m.type != CLAIM_TASK || *ret_n < CLAIM_FIXED_FDS) {
                        close_fds(fds, *ret_n);
                        return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "claim", "malformed claim (%s)",
                                       r < 0 ? strerror(-r) : "not a task with its fds");
                }
                return 0;
        }
}

/* ---- the claim ----------------------------------------------------------- */

struct claim_in {
        char *argv[MAX_RECORDS + 2];
        int argc;
        char *env[MAX_RECORDS + 1];
        size_t n_env;
        int numbers[CLAIM_MAX_FDS];
        size_t n_numbers;
};

static int parse_records(const struct task *t, char *buf, size_t len, struct claim_in *in) {
        in->argv[in->argc++] = "sealrun";
        /* the sandbox's tenant, unless the claim names one (then it must match) */
        if (t->cfg.tenant) {
                in->argv[in->argc++] = "--tenant";
                in->argv[in->argc++] = (char *)t->cfg.tenant;
        }
        for (size_t off = 0; off < len;) {
                char tag = buf[off], *s = buf + off + 1;
                size_t n = strlen(s);
                off += n + 2;
                if (tag == 'a' && in->argc < MAX_RECORDS)
                        in->argv[in->argc++] = s;
                else if (tag == 'e' && in->n_env < MAX_RECORDS)
                        in->env[in->n_env++] = s;
                else if (tag == 'f' && in->n_numbers < CLAIM_MAX_FDS - CLAIM_FIXED_FDS) {
                        long v;
                        if (parse_long(s, 0, 1 << 20, &v) < 0)
                                return -EBADMSG;
                        in->numbers[in->n_numbers++] = (int)v;
                } else
                        return -EBADMSG;
        }
        in->argv[in->argc] = NULL;
        in->env[in->n_env] = NULL;
        return 0;
}

/* The claimer's fd number n, as received here. */
static int map_fd(const struct claim_in *in, const int *fds, int n, const char *opt, int *ret, struct sr_error *e) {
        if (n < 0)
                return 0;
        for (size_t i = 0; i < in->n_numbers; i++)
                if (in->numbers[i] == n) {
                        *ret = fds[CLAIM_FIXED_FDS + i];
                        return 0;
                }
        return sr_fail(e, SR_EXIT_LAUNCHER, EBADF, "usage", "%s %d: the claim did not pass that fd", opt, n);
}

/* The claim's command line over the --prepare one: the task's options
 * only, resolved against the same policy. */
static int resolve_claim(struct task *t, const struct claim_in *in, const int *fds, struct sr_error *e) {
        const struct cli *p = t->prepare_cli;
        struct task_config cfg = { .status_fd = -1, .key_fd = -1, .trace_fd = -1 };
        struct cli c, m;
        const char *o;
        int r;
        if ((r = cli_parse(in->argc, (char **)in->argv, &c, e)) < 0)
                return r;
        if (c.help || c.version || c.check_host || c.print_policy || c.run)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "a claim runs a COMMAND, nothing else");
        if ((o = cli_build_option(&c)))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "%s: changes the sandbox's build, not on a claim (run sealrun without --run for a "
                               "fresh build)",
                               o);
        if (c.tenant && t->cfg.tenant && strcmp(c.tenant, t->cfg.tenant) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "cross-tenant",
                               "--tenant %s: this pre-built sandbox belongs to tenant %s", c.tenant, t->cfg.tenant);
        if (c.tenant && !t->cfg.tenant)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "cross-tenant",
                               "--tenant %s: this pre-built sandbox was built for no tenant", c.tenant);
        if ((r = map_fd(in, fds, c.status_fd, "--status-fd", &c.status_fd, e)) < 0 ||
            (r = map_fd(in, fds, c.key_fd, "--key-fd", &c.key_fd, e)) < 0)
                return r;
        m = *p;
        m.prepare = false;
        m.claim_fd = -1;
        m.claim_socket = NULL;
        m.task = c.task;
        m.status_fd = c.status_fd;
        m.timeout_ms = c.timeout_ms;
        memcpy(m.setenv, c.setenv, sizeof c.setenv);
        m.n_setenv = c.n_setenv;
        m.chdir = c.chdir;
        m.profile = c.profile;
        m.key_path = c.key_path;
        m.key_fd = c.key_fd;
        memcpy(m.trust, c.trust, sizeof c.trust);
        m.n_trust = c.n_trust;
        m.revoked = c.revoked;
        memcpy(m.scopes, c.scopes, sizeof c.scopes);
        m.n_scopes = c.n_scopes;
        if (c.max_concurrent >= 0)
                m.max_concurrent = c.max_concurrent;
        if (c.wait_slot_s)
                m.wait_slot_s = c.wait_slot_s;
        m.argv = c.argv;
        m.argc = c.argc;
        m.arg_area = NULL;
        m.arg_area_len = 0;
        if (!(t->claim_cli = cli_dup(&m)))
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        /* the task's status and stderr from here on, whatever the outcome */
        t->cfg.status_fd = t->claim_cli->status_fd;
        t->status.task = t->claim_cli->task ? t->claim_cli->task : t->status.task;
        r = config_resolve(t->claim_cli, t->pol, &cfg, e);
        if (r < 0) {
                config_free(&cfg);
                return r;
        }
        if (cfg.network_mode != t->cfg.network_mode || cfg.ns_net != t->cfg.ns_net) {
                config_free(&cfg);
                return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "claim", "the claim resolved to another network");
        }
        cfg.trace_fd = t->cfg.trace_fd;
        cfg.arg_area = t->cfg.arg_area;
        cfg.arg_area_len = t->cfg.arg_area_len;
        t->cfg_built = t->cfg;
        t->cfg = cfg;
        return 0;
}

/* Take the claimer's stderr, cwd and environment: the task's one stderr
 * line goes to it, its relative paths are its own, --policy's env_pass
 * reads its environment. */
static int adopt_claimer(struct task *t, const struct claim_in *in, const int *fds, struct sr_error *e) {
        if (dup2(fds[4], STDERR_FILENO) < 0 || fchdir(fds[1]) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "claim", "cannot take the claimer's stderr or cwd: %s",
                               strerror(errno));
        if (clearenv() != 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        for (size_t i = 0; i < in->n_env; i++)
                if (strchr(in->env[i], '=') && putenv(in->env[i]) != 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        (void)t;
        return 0;
}

/* The task for sandbox init: argv, environment, work dir, profile name,
 * scopes, task id as records; stdio and the credentials' fds beside. */
static int hand_over(struct task *t, const int *fds, struct sr_error *e) {
        char *recs[MAX_RECORDS * 2 + 8];
        size_t n = 0;
        int key_fd, env_fd, send[CLAIM_FIXED_FDS + 2], ns = 0, blob, r;
        char tags[MAX_RECORDS * 2 + 8];
#define REC(tag, s) \
        do { \
                if (n < ELEMENTSOF(recs)) { \
                        tags[n] = (tag); \
                        recs[n++] = (char *)(s); \
                } \
        } while (0)
        for (char **a = t->cfg.argv; a && *a; a++)
                REC('a', *a);
        for (char **v = t->envp; v && *v; v++)
                REC('e', *v);
        if (t->cfg.chdir)
                REC('c', t->cfg.chdir);
        if (t->cfg.profile)
                REC('p', t->cfg.profile);
        for (size_t i = 0; i < t->cfg.n_scopes; i++)
                REC('s', t->cfg.scopes[i]);
        if (t->status.task)
                REC('t', t->status.task);
#undef REC
        if (n >= ELEMENTSOF(recs))
                return sr_fail(e, SR_EXIT_LAUNCHER, E2BIG, "usage", "the claim has too many arguments");
        blob = claim_pack(tags, recs, n);
        if (blob < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -blob, "claim", "cannot pack the task: %s", strerror(-blob));
        if (creds_claim_fds(t, &key_fd, &env_fd) < 0) {
                close(blob);
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "credentials", "credentials were not prepared");
        }
        send[ns++] = blob;
        send[ns++] = fds[2];
        send[ns++] = fds[3];
        send[ns++] = fds[4];
        if (key_fd >= 0) {
                send[ns++] = key_fd;
                send[ns++] = env_fd;
        }
        r = claim_send(t->sync_parent, CLAIM_TASK, 0, send, (size_t)ns);
        close(blob);
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "claim", "the pre-built sandbox died before its claim");
        return 0;
}

int prepared_serve(struct task *t, int sigfd, int *ret_sig, const char **ret_step, struct sr_error *e) {
        int fds[CLAIM_MAX_FDS];
        size_t n_fds = 0;
        struct claim_in *in = NULL;
        size_t len = 0;
        int r;

        *ret_step = "prepare";
        if ((r = wait_built(t, sigfd, ret_sig, e)) != 0)
                return r;
        if ((r = open_endpoint(t, e)) < 0)
                return r;
        /* a connected --claim-fd learns it may claim now */
        if (t->claim_sock >= 0 && claim_send(t->claim_sock, CLAIM_READY, (int)getpid(), NULL, 0) < 0)
                return 1;
        r = wait_claim(t, sigfd, ret_sig, fds, &n_fds, e);
        close_endpoint(t); /* one claim: nobody else may connect */
        if (r != 0)
                return r;
        trace_point(TRACE_CLAIMED);
        t->claimed = true;
        t->start_ms = now_ms(); /* the task's clock (timeout, wall_ms) starts at its claim */
        *ret_step = "claim";
        if (!(in = calloc(1, sizeof *in)))
                r = sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        else if ((r = claim_args_read(fds[0], &t->claim_args, &len)) < 0 ||
                 (r = parse_records(t, t->claim_args, len, in)) < 0 || in->n_numbers != n_fds - CLAIM_FIXED_FDS)
                r = sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "claim", "malformed claim");
        else if ((r = adopt_claimer(t, in, fds, e)) >= 0 && (r = resolve_claim(t, in, fds, e)) >= 0 &&
                 (r = setup_build_env(t)) < 0)
                r = sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        if (r >= 0)
                r = setup_run_claim(t, sigfd, ret_sig, ret_step, e);
        if (r >= 0) {
                *ret_step = "claim";
                r = hand_over(t, fds, e);
        }
        /* the status fd and key fd were taken by the config (they are the
         * received numbers); the rest is closed */
        for (size_t i = 0; i < n_fds; i++)
                if (fds[i] != t->cfg.status_fd && fds[i] != t->cfg.key_fd)
                        close(fds[i]);
        free(in);
        return r < 0 ? r : 0;
}

void prepared_done(struct task *t, int code) {
        close_endpoint(t);
        if (t->claim_sock >= 0) {
                (void)claim_send(t->claim_sock, CLAIM_EXIT, code, NULL, 0);
                close(t->claim_sock);
                t->claim_sock = -1;
        }
}

/* ---- sandbox init's side ------------------------------------------------- */

static int vec_push(char ***v, size_t *n, char *s) {
        char **nv = realloc(*v, (*n + 2) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

int prepared_child_claim(struct task *t, struct sr_error *e) {
        int fds[CLAIM_MAX_FDS], key_fd = -1, env_fd = -1;
        size_t n_fds = 0, len = 0, na = 0, ne = 0, nsc = 0;
        char **argv = NULL, **envp = NULL, **scopes = NULL, *buf = NULL;
        struct claim_msg m;
        int r;
        /* parked: nothing of a task is here until this message */
        r = claim_recv(t->sync_child, &m, fds, CLAIM_MAX_FDS, &n_fds, -1);
        if (r < 0)
                return r == -EPIPE ? -EPIPE : sr_fail(e, SR_EXIT_LAUNCHER, -r, "claim", "claim: %s", strerror(-r));
        if (m.type != CLAIM_TASK || (n_fds != 4 && n_fds != 6)) {
                for (size_t i = 0; i < n_fds; i++)
                        close(fds[i]);
                return sr_fail(e, SR_EXIT_LAUNCHER, EPROTO, "claim", "malformed claim from the supervisor");
        }
        r = claim_args_read(fds[0], &buf, &len);
        close(fds[0]);
        for (size_t off = 0; r == 0 && off < len;) {
                char tag = buf[off], *s = buf + off + 1;
                off += strlen(s) + 2;
                switch (tag) {
                case 'a': r = vec_push(&argv, &na, s); break;
                case 'e': r = vec_push(&envp, &ne, s); break;
                case 's': r = vec_push(&scopes, &nsc, s); break;
                case 'c': t->cfg.chdir = s; break;
                case 'p': t->cfg.profile = s; break;
                case 't': t->cfg.task = s; break;
                default: r = -EBADMSG; break;
                }
        }
        /* stdio of the claimer, for init and so the payload */
        for (int i = 0; r == 0 && i < 3; i++)
                if (dup2(fds[1 + i], i) < 0)
                        r = -errno;
        for (int i = 1; i < 4; i++)
                close(fds[i]);
        if (n_fds == 6) {
                key_fd = fds[4];
                env_fd = fds[5];
        }
        if (r == 0 && !envp)
                r = vec_push(&envp, &ne, NULL) < 0 ? -ENOMEM : 0, ne = 0;
        if (r < 0 || !argv) {
                if (key_fd >= 0)
                        close(key_fd);
                if (env_fd >= 0)
                        close(env_fd);
                return sr_fail(e, SR_EXIT_LAUNCHER, r < 0 ? -r : EPROTO, "claim",
                               "malformed claim from the supervisor");
        }
        t->cfg.argv = argv;
        t->envp = envp;
        t->cfg.scopes = (const char *const *)scopes;
        t->cfg.n_scopes = nsc;
        t->cfg.n_pass_fds = 0;
        if (t->cfg.profile)
                return creds_claim_adopt(t, key_fd, env_fd, e);
        if (key_fd >= 0)
                close(key_fd);
        if (env_fd >= 0)
                close(env_fd);
        return 0;
}
