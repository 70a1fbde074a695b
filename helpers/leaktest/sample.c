/* The host's looks at the task's processes: at "inject" (the decrypting process), while the payloads wait, at "exit",
 * after release. */
#include "helpers/leaktest/fleet.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* A uid no process and no sandbox uses: "another uid" on this host. */
#define OTHER_UID 3999999u

static const char *errtext(int r) {
        return r == -EACCES || r == -EPERM ? "not readable (not dumpable, or another uid)" : strerror(-r);
}

static bool alive(pid_t pid) {
        return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static void look_file(struct fleet *f, enum rid r, pid_t pid, const char *role, const char *name, int allowed) {
        struct sink k;
        char what[96];
        if (!alive(pid))
                return;
        snprintf(what, sizeof what, "%s %s", role, name);
        sink_init(&k, f->lt, f->rows[r], pid, what, NULL, allowed);
        int e = proc_scan_file(&k, pid, name);
        if (e < 0 && e != -ESRCH && e != -ENOENT) {
                note(f, r, "%s %s: %s", role, name, errtext(e));
                if (e != -EACCES && e != -EPERM)
                        return;
        }
        mark(f, r);
}

static int look_mem(struct fleet *f, enum rid r, pid_t pid, const char *role, int allowed, struct sink *extra) {
        struct sink k;
        struct mem_stats st;
        char what[96];
        if (!alive(pid))
                return -ESRCH;
        snprintf(what, sizeof what, "%s mem", role);
        sink_init(&k, f->lt, f->rows[r], pid, what, NULL, allowed);
        if (extra) {
                k.row_dd = extra->row_dd;
                k.row_lo = extra->row_lo;
                k.allow_nowhere = extra->allow_nowhere;
                k.allow_broker = extra->allow_broker;
        }
        int e = proc_scan_mem(&k, pid, &st);
        if (e < 0) {
                if (e == -ESRCH || e == -ENOENT)
                        return e;
                note(f, r, "%s memory: %s", role, errtext(e));
        }
        f->big_maps[r] += st.skipped_big;
        f->big_rss_kb[r] += st.skipped_big_rss_kb;
        f->bytes[r] += st.scanned;
        if (extra) {
                extra->allowed += k.allowed;
                extra->forbidden += k.forbidden;
        }
        mark(f, r);
        return e;
}

static void look_fds(struct fleet *f, pid_t pid, const char *role, int allowed) {
        struct sink k;
        if (!alive(pid))
                return;
        sink_init(&k, f->lt, f->rows[R_FD_HOST], pid, role, NULL, allowed);
        int e = proc_scan_fds(&k, pid, NULL);
        if (e < 0 && e != -ENOENT && e != -ESRCH)
                note(f, R_FD_HOST, "%s fds: %s", role, errtext(e));
        mark(f, R_FD_HOST);
}

/* Still sealrun's own code (forked, not yet exec'd): the decrypting
 * process between its "inject" and the execve of the payload. */
static bool runs_sealrun(struct fleet *f, pid_t pid) {
        struct stat a, b;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
        return stat(path, &a) == 0 && stat(f->lt->sealrun, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static pid_t task_init(struct task *t, const struct proc_info *pt, size_t np) {
        if (t->init > 0 && proc_is_descendant(pt, np, t->init, t->supervisor))
                return t->init;
        return proc_first_child(pt, np, t->supervisor);
}

void sample_cmdlines(struct fleet *f) {
        struct proc_info *pt;
        size_t np;
        if (proc_table(&pt, &np) < 0)
                return;
        for (size_t i = 0; i < np; i++) {
                struct sink k;
                char what[48];
                snprintf(what, sizeof what, "cmdline of %s", pt[i].comm);
                sink_init(&k, f->lt, f->rows[R_CMDLINE], pt[i].pid, what, NULL, -1);
                proc_scan_file(&k, pt[i].pid, "cmdline");
        }
        f->procs_seen += (unsigned)np;
        f->samples++;
        mark(f, R_CMDLINE);
        free(pt);
}

/* The decrypting process, caught with its plaintext: the plaintext only in
 * never-dumped (and locked, unless swap is limited to 0) pages, no core
 * limit, not dumpable. */
/* The egress broker: forked from sandbox init, never execs, named by prctl. */
static bool proc_is_broker(pid_t p) {
        char path[64], comm[32] = "";
        snprintf(path, sizeof path, "/proc/%d/comm", (int)p);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, comm, sizeof comm - 1);
        close(fd);
        comm[n > 0 ? n : 0] = '\0';
        return strcmp(comm, "sealrun-proxy\n") == 0;
}

void check_decrypter(struct fleet *f, struct task *t, pid_t p, bool honor_swap_limit) {
        int owner = t->prof->owner;
        int limited = honor_swap_limit && proc_swap_limited(p) == 1;
        struct sink x = { .allow_nowhere = true, .row_dd = f->rows[R_CORE_DD] };
        /* in proxy mode the egress broker is the one process that may hold
         * a brokered credential (the payload side before exec may not) */
        x.allow_broker = proc_is_broker(p);
        x.row_lo = limited ? NULL : f->rows[R_SWAP_PAGES];
        const char *role = x.allow_broker ? "egress broker (sealrun-proxy)" : "decrypting process";
        look_file(f, R_ENV_INIT, p, role, "environ", -1);
        int e = look_mem(f, R_MEM_PAYLOAD, p, role, owner, &x);
        look_fds(f, p, role, owner);
        if (e == -EACCES || e == -EPERM) {
                /* not dumpable, so this uid cannot read its pages or their flags */
                why_not(f, R_CORE_DD,
                        "not applicable: uid %u cannot read the decrypting process (it is not dumpable); "
                        "run as root to check its pages",
                        (unsigned)getuid());
                why_not(f, R_SWAP_PAGES,
                        "not applicable: uid %u cannot read the decrypting process (it is not dumpable); "
                        "run as root to check its pages",
                        (unsigned)getuid());
        } else if (e == 0) {
                if (x.allow_broker)
                        note(f, R_DELIV_BROKER, "task %s: the broker (pid %d) holds plaintext %zu time(s), in dd pages",
                             t->id, (int)p, x.allowed);
                note(f, R_CORE_DD, "task %s: plaintext seen %zu time(s) in the decrypting process", t->id, x.allowed);
                mark(f, R_CORE_DD);
                mark(f, R_SWAP_PAGES);
        }
        if (limited)
                note(f, R_SWAP_PAGES, "task %s: swap limited to 0 by its memory cgroup", t->id);
        if (!host_has_swap())
                note(f, R_SWAP_PAGES, "this host has no swap now (the check does not depend on it)");

        uint64_t soft, hard;
        if (proc_rlimit_core(p, &soft, &hard) == 0) {
                mark(f, R_CORE_RLIMIT);
                if (soft != 0) {
                        struct place pl = { .pid = p, .offset = -1 };
                        snprintf(pl.what, sizeof pl.what, "decrypting process of %s: RLIMIT_CORE soft %llu", t->id,
                                 (unsigned long long)soft);
                        row_fail_place(f->rows[R_CORE_RLIMIT], &pl);
                } else if (hard != 0) {
                        note(f, R_CORE_RLIMIT, "hard limit is not 0 (the payload may raise its own)");
                }
        }
        int d = proc_dumpable_probe(p);
        if (d >= 0) {
                mark(f, R_CORE_DUMPABLE);
                if (d == 1) {
                        struct place pl = { .pid = p, .offset = -1 };
                        snprintf(pl.what, sizeof pl.what,
                                 "decrypting process of %s: /proc/PID/environ readable by its own uid without "
                                 "privileges",
                                 t->id);
                        row_fail_place(f->rows[R_CORE_DUMPABLE], &pl);
                }
        } else {
                note(f, R_CORE_DUMPABLE, "pid %d: cannot tell (%s)", (int)p, strerror(-d));
        }
        f->decrypters++;
}

/* Held at "inject": the decrypting process waits for the ack with the
 * plaintext in memory. Where is it, who could read it, would it be dumped? */
void sample_inject(struct fleet *f, struct task *t, pid_t supervisor) {
        struct proc_info *pt;
        size_t np;
        if (proc_table(&pt, &np) < 0)
                return;
        if (t->supervisor <= 0)
                t->supervisor = supervisor;
        pid_t init = task_init(t, pt, np);
        for (size_t i = 0; i < np; i++) {
                pid_t p = pt[i].pid;
                if (!proc_is_descendant(pt, np, p, t->supervisor))
                        continue;
                if (p == init) {
                        look_file(f, R_ENV_INIT, p, "sandbox init", "environ", -1);
                        look_mem(f, R_MEM_INIT, p, "sandbox init", -1, NULL);
                        look_fds(f, p, "sandbox init", -1);
                        continue;
                }
                check_decrypter(f, t, p, true);
                f->decrypters++;
        }
        look_file(f, R_ENV_SUP, t->supervisor, "supervisor", "environ", -1);
        look_mem(f, R_MEM_SUP, t->supervisor, "supervisor", -1, NULL);
        look_fds(f, t->supervisor, "supervisor", -1);
        free(pt);
        sample_cmdlines(f);
}

/* Another uid tries environ, cmdline and memory of the task's processes.
 * The child reports places over a pipe: it scans with its own copy of the
 * scanner, then sends fixed-size records. */
void sample_other_uid(struct fleet *f, const pid_t *pids, size_t n) {
        int p[2];
        if (getuid() != 0) {
                why_not(f, R_ENV_OTHER, "not applicable: only root can become another uid to try");
                return;
        }
        if (pipe(p) < 0)
                return;
        pid_t c = fork();
        if (c == 0) {
                close(p[0]);
                if (setgroups(0, NULL) < 0 || setresgid(OTHER_UID, OTHER_UID, OTHER_UID) < 0 ||
                    setresuid(OTHER_UID, OTHER_UID, OTHER_UID) < 0)
                        _exit(3);
                struct row tmp = { 0 };
                for (size_t i = 0; i < n; i++) {
                        struct sink k;
                        struct mem_stats st;
                        static const char *const files[] = { "environ", "cmdline" };
                        for (size_t j = 0; j < 2; j++) {
                                sink_init(&k, f->lt, &tmp, pids[i], files[j], NULL, -1);
                                proc_scan_file(&k, pids[i], files[j]);
                        }
                        sink_init(&k, f->lt, &tmp, pids[i], "mem", NULL, -1);
                        proc_scan_mem(&k, pids[i], &st);
                }
                for (size_t i = 0; i < tmp.n_places; i++)
                        (void)write_all(p[1], &tmp.places[i], sizeof tmp.places[i]);
                _exit(0);
        }
        close(p[1]);
        struct place pl;
        while (c > 0 && read(p[0], &pl, sizeof pl) == sizeof pl) {
                snprintf(pl.what + strlen(pl.what), sizeof pl.what - strlen(pl.what), " read as uid %u", OTHER_UID);
                row_fail_place(f->rows[R_ENV_OTHER], &pl);
        }
        close(p[0]);
        int st;
        if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0)
                mark(f, R_ENV_OTHER);
}

/* The payloads have reported and wait: look at every process from outside. */
void sample_running(struct fleet *f) {
        struct proc_info *pt;
        size_t np;
        pid_t others[64];
        size_t n_others = 0;
        if (proc_table(&pt, &np) < 0)
                return;
        for (size_t i = 0; i < np; i++) {
                pid_t p = pt[i].pid;
                struct task *owner_task = NULL;
                const char *role = NULL;
                for (size_t k = 0; k < f->n_tasks && !role; k++) {
                        struct task *t = &f->tasks[k];
                        if (!t->started || t->worker_done)
                                continue;
                        pid_t init = task_init(t, pt, np);
                        owner_task = t;
                        if (p == t->worker)
                                role = "worker";
                        else if (p == t->supervisor)
                                role = "supervisor";
                        else if (p == init)
                                role = "sandbox init";
                        else if (init > 0 && proc_is_descendant(pt, np, p, init))
                                role = runs_sealrun(f, p) ? "decrypting process" : "payload";
                }
                if (!role) {
                        /* every other process: its environment only */
                        struct sink k;
                        char what[48];
                        snprintf(what, sizeof what, "environ of %s", pt[i].comm);
                        sink_init(&k, f->lt, f->rows[R_ENV_HOST], p, what, NULL, -1);
                        if (proc_scan_file(&k, p, "environ") == 0)
                                f->bytes[R_ENV_HOST]++;
                        continue;
                }
                if (n_others < ELEMENTSOF(others))
                        others[n_others++] = p;
                int own = owner_task->prof->owner;
                if (strcmp(role, "worker") == 0) {
                        look_file(f, R_ENV_WORKER, p, role, "environ", -1);
                        look_mem(f, R_MEM_WORKER, p, role, -1, NULL);
                        look_fds(f, p, role, -1);
                } else if (strcmp(role, "supervisor") == 0) {
                        look_file(f, R_ENV_SUP, p, role, "environ", -1);
                        look_mem(f, R_MEM_SUP, p, role, -1, NULL);
                        look_fds(f, p, role, -1);
                } else if (strcmp(role, "decrypting process") == 0) {
                        check_decrypter(f, owner_task, p, true);
                } else if (strcmp(role, "sandbox init") == 0) {
                        look_file(f, R_ENV_INIT, p, role, "environ", -1);
                        look_mem(f, R_MEM_INIT, p, role, -1, NULL);
                        look_fds(f, p, role, -1);
                } else {
                        char r2[64];
                        snprintf(r2, sizeof r2, "payload of %s", owner_task->id);
                        look_file(f, R_ENV_HOST, p, r2, "environ", own);
                        look_mem(f, R_MEM_PAYLOAD, p, r2, own, NULL);
                        look_fds(f, p, r2, own);
                }
        }
        mark(f, R_ENV_HOST);
        free(pt);
        sample_other_uid(f, others, n_others);
        sample_cmdlines(f);
}

/* Held at "exit": the release is done, the supervisor is still there. */
void sample_supervisor_after(struct fleet *f, struct task *t, pid_t supervisor) {
        pid_t sup = t->supervisor > 0 ? t->supervisor : supervisor;
        look_file(f, R_ENV_SUP, sup, "supervisor after release", "environ", -1);
        look_mem(f, R_MEM_SUP_AFTER, sup, "supervisor after release", -1, NULL);
        look_fds(f, sup, "supervisor after release", -1);
        if (t->init > 0 && alive(t->init)) {
                struct proc_info *pt;
                size_t np;
                if (proc_table(&pt, &np) == 0) {
                        if (proc_is_descendant(pt, np, t->init, sup))
                                look_mem(f, R_MEM_INIT_AFTER, t->init, "sandbox init after release", -1, NULL);
                        free(pt);
                }
        }
        if (!f->exercised[R_MEM_INIT_AFTER]) {
                note(f, R_MEM_INIT_AFTER, "sandbox init had exited at the release: its memory went with it");
                mark(f, R_MEM_INIT_AFTER);
        }
        sample_cmdlines(f);
}

/* sealrun ended; the worker is still alive. */
void sample_worker_after(struct fleet *f, struct task *t) {
        look_file(f, R_ENV_WORKER, t->worker, "worker after release", "environ", -1);
        look_mem(f, R_MEM_WORKER_AFTER, t->worker, "worker after release", -1, NULL);
        look_fds(f, t->worker, "worker after release", -1);
        mark(f, R_FD_WORKER);
        if (t->worker_fds[0]) {
                struct place p = { .pid = t->worker, .offset = -1 };
                snprintf(p.what, sizeof p.what, "worker of %s holds fds %s", t->id, t->worker_fds);
                row_fail_place(f->rows[R_FD_WORKER], &p);
        }
}
