/* The sandbox side: the ordered launch sequence, as two tables.
 *
 * Sandbox init (pid 1) builds the world; the payload (its child) handles
 * secrets and then gives up every privilege. Order matters: credentials are
 * decrypted before the privilege drop (they need the mount), no_new_privs
 * comes before seccomp, and seccomp is the last step before execve so the
 * filter never has to allow our own setup calls. */
#include "launcher/child.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "launcher/caps.h"
#include "launcher/creds.h"
#include "launcher/exec.h"
#include "launcher/init.h"
#include "launcher/landlock.h"
#include "launcher/mounts.h"
#include "launcher/net.h"
#include "launcher/prepared.h"
#include "launcher/procmask.h"
#include "launcher/sandbox.h"
#include "launcher/seccomp.h"
#include "launcher/sync.h"
#include "launcher/testhook.h"
#include "launcher/trace.h"

static int step_hostname(struct task *t, struct sr_error *e) {
        if (!t->pol->ns_uts)
                return 0;
        if (sethostname(t->cfg.hostname, strlen(t->cfg.hostname)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "hostname", "sethostname: %s", strerror(errno));
        return 0;
}

static int step_cgroupns(struct task *t, struct sr_error *e) {
        /* After SYNC_GO the supervisor has put us in the task cgroup (v2 at
         * clone, v1 by attach), so the namespace's root is the task cgroup. */
        if (t->pol->ns_cgroup && unshare(CLONE_NEWCGROUP) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "cgroupns", "unshare(CLONE_NEWCGROUP): %s", strerror(errno));
        return 0;
}

static int step_rlimits(struct task *t, struct sr_error *e) {
        /* No core dumps ever: a core of a process that held plaintext would
         * put it on disk. The policy's other limits follow. */
        struct rlimit zero = { 0, 0 };
        if (setrlimit(RLIMIT_CORE, &zero) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "rlimits", "RLIMIT_CORE: %s", strerror(errno));
        for (int i = 0; i < RL_COUNT; i++) {
                struct rlimit rl;
                if (!t->pol->limits.rlimit_set[i])
                        continue;
                rl.rlim_cur = rl.rlim_max = t->pol->limits.rlimit[i];
                if (setrlimit(pol_limits_resource(i), &rl) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "rlimits", "%s: cannot set rlimit %s to %llu: %s",
                                       t->pol->file, pol_limits_name(i), t->pol->limits.rlimit[i], strerror(errno));
        }
        return 0;
}

static int step_session(struct task *t, struct sr_error *e) {
        /* A new session detaches the payload from the caller's terminal, so
         * TIOCSTI-style input injection into it is impossible. */
        if (!t->pol->allow_tty && setsid() < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "session", "setsid: %s", strerror(errno));
        return 0;
}

static int step_no_new_privs(struct task *t, struct sr_error *e) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "no_new_privs", "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return 0;
}

const struct child_step child_init_steps[] = {
        { "cgroupns", step_cgroupns },
        /* a sysctl write needs the host root uid: before the switch */
        { "memfd_noexec", seccomp_memfd_noexec },
        /* ids next: bind sources are opened with the sandbox's host ids,
         * so a root caller's rights never reach a path (issue 13) */
        { "ids", sandbox_become_ids },
        { "mount_sources", mounts_open_sources },
        { "mounts", mounts_apply },
        { "pivot_root", mounts_pivot },
        { "procmask", procmask_apply },
        { "root_readonly", mounts_seal_root },
        { "credentials_dir", creds_hold_dir },
        { "network", net_setup_child },
        { "hostname", step_hostname },
};
const size_t child_init_steps_n = ELEMENTSOF(child_init_steps);

const struct child_step child_payload_steps[] = {
        { "session", step_session },
        { "rlimits", step_rlimits },
        { "credentials", creds_stage },
        { "close_fds", exec_close_fds },
        { "capabilities", caps_drop },
        { "no_new_privs", step_no_new_privs },
        { "landlock", landlock_apply },
        /* last: the filter never has to allow our own setup calls */
        { "seccomp", seccomp_apply },
};
const size_t child_payload_steps_n = ELEMENTSOF(child_payload_steps);

static int run_steps(struct task *t, const char *who, const struct child_step *steps, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct sr_error e = { 0 };
                char hook[64];
                int r;
                snprintf(hook, sizeof hook, "%s:%s", who, steps[i].name);
                testhook_pause(hook);
                r = steps[i].fn(t, &e);
                if (r < 0) {
                        if (!e.msg[0])
                                sr_fail(&e, SR_EXIT_LAUNCHER, -r, steps[i].name, "%s: %s", steps[i].name, strerror(-r));
                        /* a refusal carries its reason code, a failure its step */
                        sync_send_error(t->sync_child,
                                        e.exit_code == SR_EXIT_REFUSED && e.reason[0] ? e.reason : steps[i].name, &e);
                        return e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
                }
        }
        return 0;
}

/* The supervisor may die at any time; PDEATHSIG is cleared by id changes,
 * so it is set again after them and the socket is checked for the case
 * where the supervisor died before the signal was armed. */
static int arm_parent_death(struct task *t) {
        struct pollfd p = { .fd = t->sync_child, .events = POLLIN };
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return -errno;
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
                return -EPIPE;
        return 0;
}

int child_main(struct task *t) {
        struct sync_msg m;
        sigset_t none;
        int r;

        /* The supervisor blocks the signals it relays; the sandbox starts clean. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);

        if (arm_parent_death(t) < 0)
                return SR_EXIT_LAUNCHER;
        /* Wait until the supervisor has written our id maps and done the host
         * side (cgroup, network); EOF means it died. */
        r = sync_recv(t->sync_child, &m, -1);
        if (r < 0 || m.type != SYNC_GO)
                return SR_EXIT_LAUNCHER;
        r = run_steps(t, "init", child_init_steps, child_init_steps_n);
        if (r != 0)
                return r;
        trace_point(TRACE_MOUNTS_DONE);
        if (t->prepared) {
                /* built: park until the supervisor hands over an admitted task */
                struct sr_error e = { 0 };
                if (sync_send(t->sync_child, SYNC_BUILT, 0, 0, "prepare", NULL) < 0)
                        return SR_EXIT_LAUNCHER;
                r = prepared_child_claim(t, &e);
                if (r == -EPIPE)
                        return SR_EXIT_LAUNCHER;
                if (r < 0) {
                        sync_send_error(t->sync_child, "claim", &e);
                        return e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
                }
        }
        if (arm_parent_death(t) < 0)
                return SR_EXIT_LAUNCHER;
        return init_run(t);
}

/* Called by init in the forked payload process; never returns. */
void child_payload(struct task *t) {
        int r = run_steps(t, "payload", child_payload_steps, child_payload_steps_n);
        if (r != 0) {
                exec_report_failure(t);
                _exit(r);
        }
        testhook_pause("payload:exec");
        exec_payload(t);
}
