/* The supervisor's launch sequence as one table: prepare in order, release in reverse.
 *
 * Every refusal happens before the clone. The order is what the launch
 * depends on (tests/test_supervisor.c asserts it): the command line is
 * resolved against the policy before anything is created; the tenant's ids
 * come before anything is opened with them; the audit connection is open
 * before the credentials check can refuse (a refusal is a "deny" event);
 * the concurrency slot is taken before any host resource; the mount plan is
 * complete before the clone (network and credentials contribute to it) and
 * before the seccomp step (its cache is not used when a bind exposes it); the
 * "launch" event is acknowledged before the sandbox exists, and no audit
 * socket crosses into it.
 *
 * Release: steps of the SANDBOX phase (host resources) are released in
 * reverse before the report, so that the report has the cgroup's usage and
 * OOM verdict; those of the TASK phase (audit connection, slot, credentials,
 * policy) in reverse after it. Each release is idempotent and copes with a
 * prepare that failed half-way, so a refusal, a failure or an interruption
 * at any step releases exactly what was prepared. Adding a step is one
 * table entry. */
#include "launcher/setup.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher/audit.h"
#include "launcher/cgroup.h"
#include "launcher/creds.h"
#include "launcher/egress.h"
#include "launcher/interrupt.h"
#include "launcher/mounts.h"
#include "launcher/net.h"
#include "launcher/sandbox.h"
#include "launcher/seccomp.h"
#include "launcher/slots.h"
#include "launcher/sync.h"
#include "launcher/testhook.h"
#include "launcher/trace.h"

extern char **environ;

static int env_push(char ***envp, size_t *n, const char *name, const char *value) {
        char *kv, **nv;
        size_t nl = strlen(name);
        for (size_t i = 0; i < *n; i++)
                if (strncmp((*envp)[i], name, nl) == 0 && (*envp)[i][nl] == '=') {
                        if (asprintf(&kv, "%s=%s", name, value) < 0)
                                return -ENOMEM;
                        free((*envp)[i]);
                        (*envp)[i] = kv;
                        return 0;
                }
        nv = realloc(*envp, (*n + 2) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        *envp = nv;
        if (asprintf(&nv[*n], "%s=%s", name, value) < 0)
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

/* The payload's environment is built, never inherited: only names the
 * policy declares pass, then fixed values, then --setenv. */
int setup_build_env(struct task *t) {
        const struct policy *p = t->pol;
        size_t n = 0;
        for (char **ev = t->envp; ev && *ev; ev++)
                free(*ev);
        free(t->envp);
        t->envp = calloc(1, sizeof *t->envp);
        if (!t->envp)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_env_pass; i++) {
                const char *v = getenv(p->env_pass[i]);
                if (v && env_push(&t->envp, &n, p->env_pass[i], v) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < p->n_env_set; i++)
                if (env_push(&t->envp, &n, p->env_set[i].name, p->env_set[i].value) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < t->cfg.n_setenv; i++)
                if (env_push(&t->envp, &n, t->cfg.setenv[i].name, t->cfg.setenv[i].value) < 0)
                        return -ENOMEM;
        return 0;
}

/* Load the policy and resolve the command line against it: after this
 * step nothing reads the command line (see launcher/config.c). */
static int step_policy(struct task *t, struct sr_error *e) {
        const struct cli *c = t->cli;
        struct policy *p = NULL;
        int r = policy_load(c->policy ? c->policy : policy_default_path(), &p, e);
        t->pol = p; /* read-only from here on: released by release_policy */
        if (r < 0 || (r = config_resolve(c, t->pol, &t->cfg, e)) < 0)
                return r;
        t->cli = NULL;
        if (t->cfg.trace_fd >= 0 && (r = trace_enable(t->cfg.trace_fd)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "usage", "--trace-fd %d: %s", t->cfg.trace_fd,
                               r == -EBADF ? "not an open file descriptor" : strerror(-r));
        if (t->prepared && t->cfg.network_mode == NET_PROXY)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "--prepare: %s: network mode \"proxy\" binds the egress broker to one task's "
                               "credentials and cannot be built ahead; run its tasks with a fresh sealrun",
                               t->pol->file);
        if (setup_build_env(t) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "out of memory");
        trace_point(TRACE_POLICY_LOADED);
        return 0;
}

/* The launch was cancelled by sig before the payload ran. Exit 128+N like a
 * task killed by N (a worker's cancel reads the same either way), but the
 * stderr line, "interrupted" in the status and the audit reason say that the
 * task never ran. */
int setup_interrupted(struct task *t, int sig, const char *step, struct sr_error *e) {
        char name[16];
        t->status.interrupted_signal = sig;
        t->status.interrupted_step = step;
        sr_fail(e, 128 + sig, EINTR, "interrupted-setup",
                "interrupted by %s during setup (step \"%s\"): the task did not run, and everything prepared for it "
                "was removed",
                interrupt_name(sig, name), step);
        return e->exit_code;
}

static void release_policy(struct task *t) {
        for (char **ev = t->envp; ev && *ev; ev++)
                free(*ev);
        free(t->envp);
        t->envp = NULL;
        config_free(&t->cfg);
        config_free(&t->cfg_built);
        free(t->claim_cli);
        t->claim_cli = NULL;
        free(t->claim_args);
        t->claim_args = NULL;
        policy_free((struct policy *)t->pol);
        t->pol = NULL;
}

static void release_cgroup(struct task *t) {
        cgroup_kill(t);
        cgroup_release(t);
}

/* The egress broker is the "proxy" network mode's: finished (its dials
 * stopped) before the network it uses is released. */
static void release_network(struct task *t) {
        egress_finish(t);
        net_release(t);
}

static int step_clone(struct task *t, struct sr_error *e) {
        int r;
        trace_point(TRACE_CLONE);
        r = sandbox_spawn(t, e);
        egress_after_spawn(t); /* the sandbox's end of the dial socket stays inside */
        if (r >= 0)
                t->status.pid = t->pid;
        return r;
}

/* Normally init was reaped by supervise(); after a failed setup it is
 * killed here (its cgroup is killed by the cgroup step's release). */
static void release_clone(struct task *t) {
        if (t->pidfd < 0 || t->reaped)
                return;
        syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
        syscall(SYS_waitid, P_PIDFD, t->pidfd, &(siginfo_t){ 0 }, WEXITED, NULL);
        t->reaped = true;
}

static int step_go(struct task *t, struct sr_error *e) {
        if (sync_send(t->sync_parent, SYNC_GO, 0, 0, "go", NULL) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "clone", "the sandbox died during setup");
        trace_point(TRACE_GO);
        return 0;
}

const struct setup_step setup_steps[] = {
        { "policy", SETUP_TASK, step_policy, release_policy, false },
        /* network mode "proxy": the dial socket, the proxy env */
        { "egress", SETUP_TASK, egress_prepare, egress_release, false },
        { "ids", SETUP_TASK, sandbox_prepare_ids, NULL, false },
        { "audit", SETUP_TASK, audit_open, audit_close, false },
        /* a pre-built sandbox: admission and the slot when a task claims it */
        { "credentials", SETUP_TASK, creds_prepare, creds_release, true },
        { "slot", SETUP_TASK, slot_acquire, slot_release, true },
        { "network", SETUP_SANDBOX, net_prepare, release_network, false },
        { "mounts", SETUP_SANDBOX, mounts_plan, mounts_release, false },
        { "seccomp", SETUP_SANDBOX, seccomp_prepare, seccomp_task_release, false },
        { "cgroup", SETUP_SANDBOX, cgroup_prepare, release_cgroup, false },
        /* its counterpart, the "exit" event, is part of the report */
        { "launch", SETUP_SANDBOX, audit_launch, NULL, true },
        { "clone", SETUP_SANDBOX, step_clone, release_clone, false },
        { "cgroup_attach", SETUP_SANDBOX, cgroup_attach, NULL, false },
        { "network_parent", SETUP_SANDBOX, net_setup_parent, NULL, false },
        { "go", SETUP_SANDBOX, step_go, NULL, false },
};
const size_t setup_steps_n = ELEMENTSOF(setup_steps);

/* Before a step: the test hook's pause and a relayed signal already taken. */
static int step_gate(struct task *t, const struct setup_step *s, int sigfd, int *ret_sig, struct sr_error *e) {
        int sig;
        testhook_pause(s->name);
        if ((sig = interrupt_take(sigfd)) > 0) {
                *ret_sig = sig;
                return -setup_interrupted(t, sig, s->name, e);
        }
        return 0;
}

/* The step itself: an interrupted prepare ends as the signal's, any other
 * failure without a message of its own gets the generic line. */
static int step_prepare(struct task *t, const struct setup_step *s, int sigfd, int *ret_sig, struct sr_error *e) {
        int sig, r = s->prepare(t, e);
        if (r == -EINTR && (sig = interrupt_take(sigfd)) > 0) {
                *ret_sig = sig;
                return -setup_interrupted(t, sig, s->name, e);
        }
        if (r < 0 && !e->msg[0])
                sr_fail(e, SR_EXIT_LAUNCHER, -r, s->name, "%s: cannot prepare the sandbox: %s", s->name, strerror(-r));
        return r < 0 ? r : 0;
}

int setup_run(struct task *t, int sigfd, size_t *ret_done, int *ret_sig, struct sr_error *e) {
        *ret_done = 0;
        for (size_t i = 0; i < setup_steps_n; i++) {
                const struct setup_step *s = &setup_steps[i];
                int r = step_gate(t, s, sigfd, ret_sig, e);
                if (r < 0)
                        return r;
                *ret_done = i + 1;
                if (t->prepared && s->at_claim)
                        continue;
                if ((r = step_prepare(t, s, sigfd, ret_sig, e)) < 0)
                        return r;
        }
        return 0;
}

int setup_run_claim(struct task *t, int sigfd, int *ret_sig, const char **ret_step, struct sr_error *e) {
        for (size_t i = 0; i < setup_steps_n; i++) {
                const struct setup_step *s = &setup_steps[i];
                int r;
                if (!s->at_claim)
                        continue;
                *ret_step = s->name;
                if ((r = step_gate(t, s, sigfd, ret_sig, e)) < 0 || (r = step_prepare(t, s, sigfd, ret_sig, e)) < 0)
                        return r;
        }
        return 0;
}

void setup_release(struct task *t, size_t done, enum setup_phase phase) {
        for (size_t i = done; i-- > 0;)
                if (setup_steps[i].phase == phase && setup_steps[i].release)
                        setup_steps[i].release(t);
}

void setup_refused(struct task *t, size_t done, const struct sr_error *e) {
        setup_refused_step(t, done ? setup_steps[done - 1].name : "", e);
}

void setup_refused_step(struct task *t, const char *step, const struct sr_error *e) {
        bool refusal = e->exit_code == SR_EXIT_REFUSED || e->exit_code == SR_EXIT_TEMPFAIL;
        /* the audit trail's own trouble is not a decision about the task */
        if (strncmp(e->reason, "audit-", 6) == 0 || strcmp(e->reason, "interrupted-setup") == 0)
                return;
        if (!refusal && strcmp(step, "credentials") != 0)
                return;
        /* refused while resolving (a scope over the ceiling, a widening
         * flag) after the audit mode was decided: the trail still hears it
         * (supervisor_run closes the connection) */
        if (!t->audit && t->pol && t->cfg.audit_socket) {
                struct sr_error ae = { 0 };
                (void)audit_open(t, &ae);
        }
        audit_quiet(t); /* the refusal's line is the one line */
        audit_deny(t, e->reason);
}
