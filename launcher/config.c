/* Resolve the command line against the policy once: every narrow-never-widen rule of a task lives here.
 *
 * The worker that calls sealrun may be steered by tenant input, so its
 * flags may narrow what the operator's policy allows and never widen it.
 * Keeping every such rule in this one function makes the rule reviewable in
 * one place and unit-testable flag by flag (tests/test_config.c); the launch
 * after it reads only struct task_config and the policy, never the CLI. */
#include "launcher/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/audit_proto.h"
#include "policy/scope.h"

static bool fd_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

static enum pol_audit_mode audit_from_cli(enum audit_mode_opt m) {
        switch (m) {
        case AUDIT_OFF: return POL_AUDIT_OFF;
        case AUDIT_BEST_EFFORT: return POL_AUDIT_BEST_EFFORT;
        case AUDIT_REQUIRED: return POL_AUDIT_REQUIRED;
        default: return POL_AUDIT_UNSET;
        }
}

static int resolve_tenant(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        if (p->tenant && c->tenant && strcmp(p->tenant, c->tenant) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "cross-tenant",
                               "--tenant %s: the policy %s is bound to tenant %s", c->tenant, p->file, p->tenant);
        /* the one fallback: a policy bound to a tenant names it for the task */
        ret->tenant = c->tenant ? c->tenant : p->tenant;
        return 0;
}

static const char *bind_flag(const struct cli_bind *b) {
        if (b->tmpfs)
                return "tmpfs";
        if (b->optional)
                return b->ro ? "ro-bind-try" : "bind-try";
        return b->ro ? "ro-bind" : "bind";
}

/* --bind, --ro-bind, their -try forms and --tmpfs add mounts: only where the
 * policy allows extra binds (a bind reaches host files; a tmpfs can hide a
 * path the policy mounts). */
static int resolve_binds(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        for (size_t i = 0; i < c->n_binds && i < ELEMENTSOF(ret->binds_store); i++) {
                const struct cli_bind *b = &c->binds[i];
                if (!p->allow_extra_binds)
                        return sr_fail(
                                e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                                "--%s %s: the policy %s does not allow extra binds (\"allow_extra_binds\": false)%s",
                                bind_flag(b), b->dst, p->file,
                                p->workdir.path ? "; --workdir binds a host dir at its \"workdir\"" : "");
                if ((!b->tmpfs && !policy_path_valid(b->src)) || !policy_path_valid(b->dst) || strcmp(b->dst, "/") == 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--%s: %s must be absolute normalised paths (DST not \"/\")", bind_flag(b),
                                       b->tmpfs ? "DST" : "SRC and DST");
                ret->binds_store[i] = (struct config_bind){ b->src, b->dst, b->ro, b->optional, b->tmpfs };
                ret->n_binds = i + 1;
        }
        ret->binds = ret->binds_store;
        return 0;
}

/* --workdir HOST_DIR: read-write at the policy's workdir.path, under one of
 * its workdir.sources when it lists any (compared after making HOST_DIR
 * absolute; symlinks are refused when the source is opened). */
static int resolve_workdir(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        const struct policy_workdir *w = &p->workdir;
        char *abs = ret->workdir_store;
        bool under = w->n_sources == 0;
        if (!c->workdir)
                return 0;
        if (!w->path)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--workdir %s: the policy %s sets no \"workdir\" (the path a work dir is bound at)",
                               c->workdir, p->file);
        if (c->workdir[0] == '/') {
                if (strlen(c->workdir) >= sizeof ret->workdir_store)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENAMETOOLONG, "usage", "--workdir: path too long");
                strcpy(abs, c->workdir);
        } else {
                size_t n;
                if (!getcwd(abs, sizeof ret->workdir_store))
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "usage",
                                       "--workdir %s: cannot get the current "
                                       "directory: %s",
                                       c->workdir, strerror(errno));
                n = strlen(abs);
                if (strcmp(c->workdir, ".") != 0 &&
                    snprintf(abs + n, sizeof ret->workdir_store - n, "%s%s", n > 1 ? "/" : "",
                             strncmp(c->workdir, "./", 2) == 0 ? c->workdir + 2 : c->workdir) >=
                            (int)(sizeof ret->workdir_store - n))
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENAMETOOLONG, "usage", "--workdir: path too long");
        }
        /* "dir/" is fine; "a/../b" and "//" are not (the sources check is lexical) */
        for (size_t n = strlen(abs); n > 1 && abs[n - 1] == '/'; n--)
                abs[n - 1] = 0;
        if (!policy_path_valid(abs) || strcmp(abs, "/") == 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "--workdir %s: must be a directory path without \"..\", \".\" or \"//\" components, "
                               "not \"/\"",
                               c->workdir);
        /* As root the work dir is idmapped: the task gets its owner's rights
         * over the whole tree. Which owners' directories may be lent is the
         * operator's decision, never the (steerable) worker's. */
        if (c->caller_root && !w->n_sources)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--workdir %s: as root a work dir is lent to the task with its owner's rights, so the "
                               "policy must list the host dirs it may come from ($.workdir.sources in %s)",
                               abs, p->file);
        for (size_t i = 0; i < w->n_sources && !under; i++)
                under = policy_path_under(abs, w->sources[i]);
        if (!under)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--workdir %s: not under the policy's workdir.sources (%s%s) in %s", abs, w->sources[0],
                               w->n_sources > 1 ? ", ..." : "", p->file);
        ret->workdir_src = abs;
        ret->workdir_dst = w->path;
        return 0;
}

/* --network MODE: the policy's own mode, "none" (it only takes away), or a
 * mode the policy lists in network.modes (whose settings it then carries). */
static int resolve_network(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        const struct policy_network *n = &p->network;
        int m = c->network ? pol_network_mode_from_name(c->network) : (int)n->mode;
        if (m < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "--network: \"%s\" is not a network mode",
                               c->network);
        if (!pol_network_mode_allowed(n, (enum net_mode)m)) {
                char allowed[64] = "";
                for (int k = NET_VETH; k <= NET_PROXY; k++)
                        if (k != NET_HOST && (n->modes & (1u << k)))
                                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), ", %s",
                                         pol_network_mode_name((enum net_mode)k));
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--network %s: the policy %s allows mode %s, none%s ($.network.modes)", c->network,
                               p->file, pol_network_mode_name(n->mode), allowed);
        }
        ret->network_mode = (enum net_mode)m;
        ret->ns_net = ret->network_mode != NET_HOST;
        return 0;
}

static int resolve_fds(const struct cli *c, struct sr_error *e) {
        if (c->status_fd >= 0 && !fd_open(c->status_fd))
                return sr_fail(e, SR_EXIT_LAUNCHER, EBADF, "usage", "--status-fd %d: not an open file descriptor",
                               c->status_fd);
        for (size_t i = 0; i < c->n_pass_fds; i++)
                if (!fd_open(c->pass_fds[i]))
                        return sr_fail(e, SR_EXIT_LAUNCHER, EBADF, "usage", "--pass-fd %d: not an open file descriptor",
                                       c->pass_fds[i]);
        return 0;
}

/* --audit may raise the mode, never lower it below the policy's; a policy
 * socket is pinned. */
static int resolve_audit(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        const struct policy_audit *pa = &p->audit;
        enum pol_audit_mode mode = audit_from_cli(c->audit_mode);

        if (pa->mode != POL_AUDIT_UNSET && mode != POL_AUDIT_UNSET && mode < pa->mode)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--audit %s: the policy %s requires audit mode \"%s\"", pol_audit_mode_name(mode),
                               p->file, pol_audit_mode_name(pa->mode));
        if (mode == POL_AUDIT_UNSET)
                mode = pa->mode != POL_AUDIT_UNSET ? pa->mode
                       : c->profile                ? POL_AUDIT_REQUIRED
                       : c->audit_socket           ? POL_AUDIT_BEST_EFFORT
                                                   : POL_AUDIT_OFF;
        ret->audit_mode = mode;
        if (pa->socket && c->audit_socket && strcmp(pa->socket, c->audit_socket) != 0)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--audit-socket %s: the policy %s pins the audit socket to %s", c->audit_socket, p->file,
                               pa->socket);
        ret->audit_socket = c->audit_socket ? c->audit_socket : pa->socket ? pa->socket : AUDIT_DEFAULT_SOCKET;
        if (mode != POL_AUDIT_OFF && !ret->tenant)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "--audit %s: audit events need --tenant SLUG",
                               pol_audit_mode_name(mode));
        if (mode != POL_AUDIT_OFF && !slug_valid(ret->tenant))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "--tenant: not a valid tenant slug (^[a-z0-9][a-z0-9_-]{1,62}$)");
        return 0;
}

/* --scope grants only what credentials.scope_ceiling allows. */
static int resolve_scopes(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        const struct policy_credentials *pc = &p->credentials;
        size_t bad;
        ret->scopes = c->scopes;
        ret->n_scopes = c->n_scopes;
        if (!c->profile)
                return 0;
        for (size_t i = 0; i < c->n_scopes; i++)
                if (!scope_valid(c->scopes[i]))
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--scope %s: not a scope \"action:resource:identifier\" ('*' only as the whole "
                                       "identifier)",
                                       c->scopes[i]);
        if (!scope_subset(c->scopes, c->n_scopes, (const char *const *)pc->scope_ceiling, pc->n_scope_ceiling, &bad))
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "scope-over-ceiling",
                               "--scope %s: above the ceiling of the policy %s%s", c->scopes[bad], p->file,
                               pc->n_scope_ceiling ? "" : " (it sets no credentials.scope_ceiling)");
        return 0;
}

/* --max-concurrent may lower limits.max_concurrent, never raise it. */
static int resolve_slots(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        long long cap = p->limits.max_concurrent;
        if (c->max_concurrent > 0 && cap > 0 && c->max_concurrent > cap)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "policy-violation",
                               "--max-concurrent %ld: above the policy's limits.max_concurrent %lld (%s); a task may "
                               "narrow it, never widen it",
                               c->max_concurrent, cap, p->file);
        ret->max_concurrent = c->max_concurrent > 0 ? c->max_concurrent : (long)cap;
        ret->wait_slot_s = c->wait_slot_s;
        return 0;
}

/* --trust narrows credentials.trusted_issuers, never widens it: each key
 * given must be one the policy trusts (same key id); without --trust the
 * policy's set stands, and a policy that names none leaves the set to
 * --trust. The keys are public; they are read once, here, and admission
 * checks the signature against exactly this set. */
static int resolve_trust(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        const struct policy_credentials *pc = &p->credentials;
        size_t np = pc->n_trusted_issuers;
        _cleanup_free_ struct sr_key *pol_keys = NULL;
        int r;

        if (!c->profile)
                return 0;
        if (np == 0 && c->n_trust == 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "--profile: no trusted issuer (give --trust ISSUER.pub or set "
                               "credentials.trusted_issuers in %s)",
                               p->file);
        pol_keys = calloc(np + 1, sizeof *pol_keys);
        ret->trusted = calloc(np + c->n_trust + 1, sizeof *ret->trusted);
        if (!pol_keys || !ret->trusted)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        for (size_t i = 0; i < np; i++)
                if ((r = key_load_path(pc->trusted_issuers[i], KEY_ISSUER_PUBLIC, NULL, &pol_keys[i], e)) < 0) {
                        sr_error_prefix(e, "%s: credentials.trusted_issuers: ", p->file);
                        return r;
                }
        if (c->n_trust == 0) {
                memcpy(ret->trusted, pol_keys, np * sizeof *pol_keys);
                ret->n_trusted = np;
                return 0;
        }
        for (size_t i = 0; i < c->n_trust; i++) {
                struct sr_key *k = &ret->trusted[ret->n_trusted];
                bool in_policy = np == 0;
                if ((r = key_load_path(c->trust[i], KEY_ISSUER_PUBLIC, NULL, k, e)) < 0)
                        return r;
                for (size_t j = 0; j < np; j++)
                        in_policy |= memcmp(pol_keys[j].id, k->id, KEY_ID_BYTES) == 0;
                if (!in_policy)
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "untrusted-issuer",
                                       "--trust %s: not among the issuers the policy %s trusts (task input may narrow "
                                       "trust, never widen it)",
                                       c->trust[i], p->file);
                ret->n_trusted++;
        }
        return 0;
}

static int landlock_port(struct policy_landlock *l, uint16_t port) {
        for (size_t i = 0; i < l->n_connect_ports; i++)
                if (l->connect_ports[i] == port)
                        return 0;
        if (l->n_connect_ports >= LANDLOCK_MAX_PORTS)
                return -E2BIG;
        l->connect_ports[l->n_connect_ports++] = port;
        return 0;
}

/* --egress-allow keeps only allow rules the policy has (network mode
 * "proxy"); a name no rule allows is refused, never added. The narrowed
 * rules are the task's own copy: the policy stays as parsed. */
static int resolve_egress(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        const struct policy_egress *pe = &p->network.egress;
        const char *bad = NULL;
        int r;

        if (ret->network_mode != NET_PROXY) {
                if (c->n_egress_allow)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--egress-allow: the policy %s does not use network mode \"proxy\"", p->file);
                return 0;
        }
        ret->egress = *pe;
        ret->egress.rules.allow = calloc(pe->rules.n_allow + 1, sizeof *pe->rules.allow);
        if (!ret->egress.rules.allow) {
                ret->egress.rules.n_allow = 0;
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        }
        if (pe->rules.n_allow)
                memcpy(ret->egress.rules.allow, pe->rules.allow, pe->rules.n_allow * sizeof *pe->rules.allow);
        if (c->n_egress_allow) {
                r = pol_egress_narrow(&ret->egress, c->egress_allow, c->n_egress_allow, &bad);
                if (r == -ENOENT)
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "egress-widen",
                                       "--egress-allow %s: not an allow rule of the policy %s", bad, p->file);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                                       "--egress-allow %s: not a host name, *.suffix, address or CIDR", bad);
        }
        /* a policy that restricts TCP connect ports must still reach the proxy
         * and the transparent listeners (one per allowed port) */
        if (ret->landlock.net) {
                const struct egress_rules *rules = &ret->egress.rules;
                r = landlock_port(&ret->landlock, ret->egress.proxy_port);
                for (size_t i = 0; r == 0 && i < rules->n_allow; i++)
                        for (size_t k = 0; r == 0 && k < rules->allow[i].n_ports; k++)
                                r = landlock_port(&ret->landlock, rules->allow[i].ports[k]);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, E2BIG, "egress",
                                       "%s: $.landlock.net.connect: no room for the egress ports", p->file);
        }
        return 0;
}

int config_resolve(const struct cli *c, const struct policy *p, struct task_config *ret, struct sr_error *e) {
        int r;
        *ret = (struct task_config){
                .task = c->task,
                .tenant = c->tenant,
                .argv = c->argv,
                .status_fd = c->status_fd,
                .setenv = c->setenv,
                .n_setenv = c->n_setenv,
                .pass_fds = c->pass_fds,
                .n_pass_fds = c->n_pass_fds,
                .profile = c->profile,
                .key_path = c->key_path,
                .key_fd = c->key_fd,
                .revoked = c->revoked,
                .trace_fd = c->trace_fd,
                .audit_mode = POL_AUDIT_OFF,
                .landlock = p->landlock,
                .arg_area = c->arg_area,
                .arg_area_len = c->arg_area_len,
        };
        if ((r = resolve_tenant(c, p, ret, e)) < 0 || (r = resolve_binds(c, p, ret, e)) < 0 ||
            (r = resolve_workdir(c, p, ret, e)) < 0 || (r = resolve_network(c, p, ret, e)) < 0 ||
            (r = resolve_fds(c, e)) < 0)
                return r;
        /* a shorter timeout narrows; a longer one is ignored (the policy's stands) */
        ret->timeout_ms = p->limits.timeout_ms;
        if (c->timeout_ms > 0 && (ret->timeout_ms == 0 || c->timeout_ms < ret->timeout_ms))
                ret->timeout_ms = c->timeout_ms;
        ret->hostname = c->hostname ? c->hostname : p->hostname;
        /* the task starts in its work dir unless --chdir says otherwise */
        ret->chdir = c->chdir ? c->chdir : ret->workdir_dst ? ret->workdir_dst : p->chdir;
        ret->chdir_from_cli = c->chdir != NULL;
        if ((r = resolve_audit(c, p, ret, e)) < 0 || (r = resolve_scopes(c, p, ret, e)) < 0 ||
            (r = resolve_slots(c, p, ret, e)) < 0 || (r = resolve_trust(c, p, ret, e)) < 0 ||
            (r = resolve_egress(c, p, ret, e)) < 0)
                return r;
        return 0;
}

void config_free(struct task_config *c) {
        free(c->trusted);
        c->trusted = NULL;
        c->n_trusted = 0;
        free(c->egress.rules.allow);
        c->egress = (struct policy_egress){ 0 };
}
