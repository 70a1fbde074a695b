/* Egress, sandbox init's part: bind the proxy's listener and fork the proxy
 * before the payload exists, and fork the payload into its own pid namespace.
 *
 * What keeps the payload away from the proxy on every kernel (Landlock signal
 * scoping needs 6.12): the payload lives in a child pid namespace, so it can
 * name no process outside it (kill, ptrace, pidfd_open: ESRCH; a /proc/N
 * pidfd: EINVAL); the proxy is non-dumpable, so /proc/N/mem, environ and fd
 * need CAP_SYS_PTRACE, which the payload never holds; the proxy is forked
 * before the payload's Landlock domain exists; its port is bound before the
 * payload starts. */
#include "launcher/egress_impl.h"
#include "launcher/broker.h"
#include "launcher/broker_mem.h"

#include "launcher/broker_creds.h"
#include "launcher/creds.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "launcher/init.h"

static int status_pipe = -1;       /* init's read end: the payload's real wait status */
static struct broker_creds broker; /* the proxy process: its bound credentials (t->broker) */
static int proxy_pidfd = -1;       /* init's handle on the proxy (immune to pid reuse) */

static int listen_on(int type, uint32_t addr, uint16_t port, int *ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
        int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* no SO_REUSEADDR: nothing else may bind this address and port */
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || (type == SOCK_STREAM && listen(fd, 1024) < 0)) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

/* The proxy holds nothing the payload lacks: no capabilities (bounding and
 * ambient sets emptied too), no_new_privs, non-dumpable, only its own fds. */
static int cmp_int(const void *a, const void *b) {
        return *(const int *)a - *(const int *)b;
}

static int proxy_confine(int dial_fd, int ready_fd, const struct egress_listeners *l) {
        cap_t none;
        int keep[EGRESS_MAX_TRANSPARENT + 5];
        size_t n = 0;
        unsigned lo = 0;
        keep[n++] = dial_fd;
        keep[n++] = ready_fd;
        if (getenv("SEALRUN_TEST_PROXY_PROBE"))
                keep[n++] = 2; /* the probe's report (egress_confine.c) */
        keep[n++] = l->http;
        keep[n++] = l->dns;
        for (size_t i = 0; i < l->n_tp; i++)
                keep[n++] = l->tp[i];
        qsort(keep, n, sizeof *keep, cmp_int);
        for (size_t i = 0; i < n; i++) {
                if ((unsigned)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) < 0)
                        return -errno;
                lo = (unsigned)keep[i] + 1;
        }
        if (syscall(SYS_close_range, lo, ~0U, 0) < 0)
                return -errno;
        /* stdin/out/err on /dev/null when the sandbox has one; the proxy never prints */
        if (open("/dev/null", O_RDWR | O_CLOEXEC) == 0) {
                dup2(0, 1);
                if (!getenv("SEALRUN_TEST_PROXY_PROBE"))
                        dup2(0, 2);
        }
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return -errno;
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        none = cap_init();
        if (!none || cap_set_proc(none) < 0) {
                int r = -errno;
                cap_free(none);
                return r ? r : -EPERM;
        }
        cap_free(none);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

static void listeners_close(struct egress_listeners *l) {
        if (l->http >= 0)
                close(l->http);
        if (l->dns >= 0)
                close(l->dns);
        for (size_t i = 0; i < l->n_tp; i++)
                close(l->tp[i]);
}

/* Every port an allow rule names gets a transparent listener on 0.0.0.0
 * (inside: only lo), for clients that resolve names themselves. */
static int bind_all(const struct policy_egress *pe, struct egress_listeners *l, struct sr_error *e) {
        int r;
        if ((r = listen_on(SOCK_STREAM, INADDR_LOOPBACK, pe->proxy_port, &l->http)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "egress", "egress: cannot listen on 127.0.0.1:%u inside: %s",
                               (unsigned)pe->proxy_port, strerror(-r));
        if ((r = listen_on(SOCK_DGRAM, INADDR_LOOPBACK, 53, &l->dns)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "egress",
                               "egress: cannot bind the DNS responder on 127.0.0.1:53 inside: %s", strerror(-r));
        for (size_t i = 0; i < pe->rules.n_allow; i++)
                for (size_t k = 0; k < pe->rules.allow[i].n_ports; k++) {
                        uint16_t port = pe->rules.allow[i].ports[k];
                        bool have = port == pe->proxy_port;
                        for (size_t j = 0; j < l->n_tp; j++)
                                have |= l->tp_port[j] == port;
                        if (have)
                                continue;
                        if (l->n_tp == EGRESS_MAX_TRANSPARENT)
                                return sr_fail(e, SR_EXIT_REFUSED, E2BIG, "egress",
                                               "%s: $.network.egress.allow: more than %d distinct ports", "policy",
                                               EGRESS_MAX_TRANSPARENT);
                        if ((r = listen_on(SOCK_STREAM, INADDR_ANY, port, &l->tp[l->n_tp])) < 0)
                                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "egress",
                                               "egress: cannot listen on port %u inside: %s", (unsigned)port,
                                               strerror(-r));
                        l->tp_port[l->n_tp++] = port;
                }
        return 0;
}

int egress_start_proxy(struct task *t, struct sr_error *e) {
        const struct policy_egress *pe = &t->cfg.egress;
        struct egress_listeners l = { .http = -1, .dns = -1 };
        int dial_fd, r, ready[2], handoff = -1;
        char b;
        pid_t pid;
        sigset_t none;

        if (!t->egress)
                return 0;
        if ((r = egress_proxy_lock_check(t, e)) < 0)
                return r;
        dial_fd = egress_child_fd(t);
        if ((r = bind_all(pe, &l, e)) < 0) {
                listeners_close(&l);
                return r;
        }
        /* the payload starts only once the proxy is confined: no window in
         * which a process of the task holds capabilities the payload lacks */
        if (pipe2(ready, O_CLOEXEC) < 0) {
                listeners_close(&l);
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "egress", "egress: pipe: %s", strerror(errno));
        }
        /* with a profile the broker decrypts, the payload side gets its
         * handoff (launcher/broker_creds.c) */
        if ((r = creds_handoff_pipe(t, &handoff)) < 0) {
                listeners_close(&l);
                close(ready[0]);
                close(ready[1]);
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "egress", "egress: pipe: %s", strerror(-r));
        }
        pid = fork();
        if (pid < 0) {
                listeners_close(&l);
                close(ready[0]);
                close(ready[1]);
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "egress", "egress: fork: %s", strerror(errno));
        }
        if (pid == 0) {
                struct broker *bk = NULL;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_IGN);
                prctl(PR_SET_NAME, "sealrun-proxy", 0, 0, 0);
                close(ready[0]);
                /* non-dumpable before any secret exists in this process */
                if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                        _exit(1);
                /* OpenSSL's large blocks (record buffers carry the injected
                 * header and responses quoting it) locked from here on */
                broker_mem_lock_on();
                /* before the confinement closes the key's fd; written
                 * whole before ready, so the payload's step finds it */
                if (broker_start(t, handoff, &broker) == 0)
                        t->broker = &broker;
                if (proxy_confine(dial_fd, ready[1], &l) < 0) {
                        broker_creds_free(&broker);
                        _exit(1);
                }
                /* every TLS context and trust store, before the payload starts */
                if (broker_tls_start(t, egress_take_ca(t), t->broker, dial_fd, &bk) < 0) {
                        broker_creds_free(&broker);
                        _exit(1);
                }
                egress_proxy_probe("before");
                /* from here on: no file, no exec, no new socket */
                if (egress_proxy_lockdown(t) < 0) {
                        broker_creds_free(&broker);
                        _exit(1);
                }
                egress_proxy_probe("after");
                if (write(ready[1], "r", 1) != 1)
                        _exit(1);
                close(ready[1]);
                egress_proxy_main(t, dial_fd, &l, bk);
        }
        close(ready[1]);
        if (handoff >= 0)
                close(handoff);
        listeners_close(&l);
        broker_ca_free(egress_take_ca(t)); /* the proxy has its copy */
        proxy_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        r = (int)read(ready[0], &b, 1);
        close(ready[0]);
        if (r != 1)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPIPE, "egress", "egress: the proxy failed to start");
        close(dial_fd);
        return 0;
}

int egress_stop_proxy(struct task *t) {
        struct pollfd p = { .fd = proxy_pidfd, .events = POLLIN };
        siginfo_t si = { 0 };
        int r = -ETIMEDOUT;
        if (!t->egress || proxy_pidfd < 0)
                return 0;
        /* the broker wipes its credentials on SIGTERM and exits 0: its own
         * exit is the scrub of its memory, a kill is not (longer wait when
         * it may hold credentials) */
        if (syscall(SYS_pidfd_send_signal, proxy_pidfd, SIGTERM, NULL, 0) == 0 &&
            poll(&p, 1, t->cfg.profile ? 2000 : 200) == 1 &&
            waitid((idtype_t)P_PIDFD, (id_t)proxy_pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid > 0)
                r = si.si_code == CLD_EXITED && si.si_status == 0 ? 0 : -ECHILD;
        close(proxy_pidfd);
        proxy_pidfd = -1;
        return r;
}

/* pid 1 of the payload's namespace: relay the supervisor's signals, reap
 * orphans, and hand the payload's wait status to init through the pipe
 * (a namespace's pid 1 cannot die of a signal it has no handler for). */
static _Noreturn void reaper(pid_t payload, int wfd) {
        int sfd = init_signalfd(NULL);
        if (sfd < 0)
                _exit(SR_EXIT_LAUNCHER);
        for (;;) {
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof si) != sizeof si)
                        continue;
                if (si.ssi_signo == SIGCHLD) {
                        int st;
                        pid_t p;
                        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                                if (p == payload) {
                                        (void)!write(wfd, &st, sizeof st);
                                        _exit(0);
                                }
                } else if (si.ssi_signo != SIGUSR1 && si.ssi_pid == 0)
                        kill(payload, (int)si.ssi_signo); /* from init (outside: pid 0 here) */
        }
}

pid_t egress_fork_payload(struct task *t, int exec_wr) {
        int p[2];
        pid_t pid, payload;
        if (!t->egress) {
                pid = fork();
                return pid < 0 ? -errno : pid;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        if (unshare(CLONE_NEWPID) < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid > 0) {
                close(p[1]);
                status_pipe = p[0];
                return pid;
        }
        close(p[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        payload = fork();
        if (payload < 0)
                _exit(SR_EXIT_LAUNCHER);
        if (payload == 0) {
                close(p[1]);
                return 0;
        }
        /* only the payload may hold the exec pipe: its close says execve ran */
        if (exec_wr >= 0)
                close(exec_wr);
        reaper(payload, p[1]);
}

int egress_payload_status(struct task *t, int reaper_status) {
        int st;
        if (!t->egress || status_pipe < 0)
                return reaper_status;
        if (read(status_pipe, &st, sizeof st) == sizeof st)
                return st;
        return reaper_status;
}
