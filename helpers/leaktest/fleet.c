/* The fleet: tasks of two tenants at once through the real sealrun, each under a worker process, watched from the host.
 */
#include "helpers/leaktest/fleet.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define PHASE_MS 30000

struct task *fleet_add_task(struct fleet *f, const char *id, enum task_kind kind, struct profile *p, const char *tenant,
                            const char *pool_key, enum rid row, int expect) {
        struct task *t = &f->tasks[f->n_tasks++];
        memset(t, 0, sizeof *t);
        snprintf(t->id, sizeof t->id, "%s", id);
        t->kind = kind;
        t->prof = p;
        t->tenant = tenant;
        t->pool_key = pool_key;
        t->key_by_fd = true;
        t->row = row;
        t->expect_exit = expect;
        t->wctl = t->wout = t->sock = -1;
        snprintf(t->out, sizeof t->out, "%s/t/%s.out", f->lt->dir, id);
        snprintf(t->err, sizeof t->err, "%s/t/%s.err", f->lt->dir, id);
        snprintf(t->status, sizeof t->status, "%s/t/%s.status", f->lt->dir, id);
        return t;
}

static struct profile *prof(struct fleet *f, const char *name) {
        for (size_t i = 0; i < f->n_profiles; i++)
                if (strcmp(f->profiles[i].name, name) == 0)
                        return &f->profiles[i];
        return NULL;
}

static int start_worker(struct fleet *f, struct task *t) {
        struct lt *lt = f->lt;
        char key[PATH_MAX], trust[PATH_MAX], other_sealed[PATH_MAX], other_key[PATH_MAX], port[16];
        int ctl[2], out[2], sp[2] = { -1, -1 };
        bool probe = t->kind != TK_REFUSE;
        const char *other = strcmp(t->tenant, "lt-a") == 0 ? "b" : "a";

        snprintf(key, sizeof key, "%s/pool-%s.key", f->keys, t->pool_key);
        snprintf(trust, sizeof trust, "%s/issuer.pub", f->keys);
        snprintf(other_sealed, sizeof other_sealed, "%s/p/%s.sealed", lt->dir, other);
        snprintf(other_key, sizeof other_key, "%s/pool-%s.key", f->keys, other);
        if (pipe2(ctl, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (probe && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        const char *argv[64];
        size_t n = 0;
        argv[n++] = f->payload_exe; /* the worker: a fresh exec of this binary, never a fork */
        argv[n++] = "--worker";
        argv[n++] = "--sealrun";
        argv[n++] = lt->sealrun;
        argv[n++] = "--out";
        argv[n++] = t->out;
        argv[n++] = "--err";
        argv[n++] = t->err;
        argv[n++] = "--status";
        argv[n++] = t->status;
        argv[n++] = "--pass-socket";
        argv[n++] = probe ? "1" : "0";
        if (t->key_by_fd) {
                argv[n++] = "--key-file";
                argv[n++] = key;
        }
        argv[n++] = "--";
        if (!t->key_by_fd) {
                argv[n++] = "--key";
                argv[n++] = key;
        }
        argv[n++] = "--policy";
        argv[n++] = t->proxy ? f->policy_proxy : f->policy;
        argv[n++] = "--tenant";
        argv[n++] = t->tenant;
        argv[n++] = "--task";
        argv[n++] = t->id;
        argv[n++] = "--profile";
        argv[n++] = t->prof->sealed;
        argv[n++] = "--trust";
        argv[n++] = trust;
        argv[n++] = "--revoked";
        argv[n++] = f->revoked;
        argv[n++] = "--scope";
        argv[n++] = "read:model:*";
        argv[n++] = "--audit-socket";
        argv[n++] = t->collector_down ? f->dead_socket : f->proxy_path;
        argv[n++] = "--audit";
        argv[n++] = "required";
        if (probe) {
                argv[n++] = "--pass-fd";
                argv[n++] = "5";
        }
        argv[n++] = "--";
        argv[n++] = f->payload_in;
        argv[n++] = "--payload";
        argv[n++] = t->kind == TK_PROBE ? "probe" : t->kind == TK_CRASH ? "crash" : "ran";
        if (probe) {
                argv[n++] = "--fd";
                argv[n++] = "5";
        }
        if (t->proxy) {
                /* the brokered payload's requests to the bound server */
                snprintf(port, sizeof port, "%u", (unsigned)f->srv.port);
                argv[n++] = "--egress";
                argv[n++] = port;
        }
        if (t->kind == TK_PROBE) {
                /* host paths of the other tenant: none may be reachable */
                argv[n++] = "--try";
                argv[n++] = other_sealed;
                argv[n++] = "--try";
                argv[n++] = other_key;
        }
        argv[n] = NULL;

        pid_t c = fork();
        if (c < 0)
                return -errno;
        if (c == 0) {
                int errfd = open(f->tools_log, O_WRONLY | O_APPEND | O_CLOEXEC);
                if (dup2(ctl[0], 0) < 0 || dup2(out[1], 1) < 0 || (errfd >= 0 && dup2(errfd, 2) < 0) ||
                    (probe && dup2(sp[1], 5) < 0))
                        _exit(125);
                close_range(probe ? 6 : 3, ~0u, 0);
                execv(f->payload_exe, (char **)argv);
                _exit(127);
        }
        close(ctl[0]);
        close(out[1]);
        t->worker = c;
        t->wctl = ctl[1];
        t->wout = out[0];
        fcntl(t->wout, F_SETFL, O_NONBLOCK);
        if (probe) {
                close(sp[1]);
                t->sock = sp[0];
                fcntl(t->sock, F_SETFL, O_NONBLOCK);
        }
        return 0;
}

static pid_t status_pid(const char *path) {
        char buf[512];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        char *p = strstr(buf, "\"pid\":");
        return p ? (pid_t)atoi(p + 6) : 0;
}

static void worker_line(struct fleet *f, struct task *t, char *line) {
        if (strncmp(line, "started ", 8) == 0) {
                t->supervisor = (pid_t)atoi(line + 8);
                t->started = true;
        } else if (strncmp(line, "exit ", 5) == 0) {
                t->exit_code = atoi(line + 5);
                t->exited = true;
        } else if (strncmp(line, "fd ", 3) == 0) {
                size_t l = strlen(t->worker_fds);
                snprintf(t->worker_fds + l, sizeof t->worker_fds - l, "%s%s", l ? ", " : "", line + 3);
        } else if (strcmp(line, "done") == 0) {
                t->worker_done = true;
        } else if (strncmp(line, "error ", 6) == 0) {
                snprintf(t->worker_error, sizeof t->worker_error, "%s", line + 6);
        }
}

static void read_worker(struct fleet *f, struct task *t) {
        for (;;) {
                ssize_t n = read(t->wout, t->wbuf + t->wlen, sizeof t->wbuf - 1 - t->wlen);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0) {
                                close(t->wout);
                                t->wout = -1;
                                t->worker_done = true;
                        }
                        return;
                }
                t->wlen += (size_t)n;
                t->wbuf[t->wlen] = '\0';
                char *nl;
                while ((nl = strchr(t->wbuf, '\n'))) {
                        *nl = '\0';
                        worker_line(f, t, t->wbuf);
                        size_t rest = t->wlen - (size_t)(nl + 1 - t->wbuf);
                        memmove(t->wbuf, nl + 1, rest);
                        t->wlen = rest;
                        t->wbuf[t->wlen] = '\0';
                }
                if (t->wlen == sizeof t->wbuf - 1)
                        t->wlen = 0; /* a line too long: drop it */
        }
}

/* The payload's stream: "R text\n" report lines, "F LEN LABEL\n" + bytes, "Z\n". */
static void payload_bytes(struct fleet *f, struct task *t, const uint8_t *buf, size_t n) {
        struct lt *lt = f->lt;
        enum rid cross = strcmp(t->tenant, "lt-a") == 0 ? R_CROSS_AB : R_CROSS_BA;
        while (n > 0) {
                if (t->fbody) {
                        size_t take = n < t->fremain ? n : (size_t)t->fremain;
                        scan_stream_feed(&t->fstream, buf, take);
                        t->dumped += take;
                        t->fremain -= take;
                        buf += take;
                        n -= take;
                        if (t->fremain == 0) {
                                scan_stream_finish(&t->fstream);
                                t->fbody = false;
                        }
                        continue;
                }
                uint8_t c = *buf++;
                n--;
                if (c != '\n') {
                        if (t->fhdr_len < sizeof t->fhdr - 1)
                                t->fhdr[t->fhdr_len++] = (char)c;
                        continue;
                }
                t->fhdr[t->fhdr_len] = '\0';
                char *h = t->fhdr;
                if (h[0] == 'R' && h[1] == ' ') {
                        size_t l = strlen(h + 2);
                        char *nr = realloc(t->rep, t->rep_len + l + 2);
                        if (nr) {
                                t->rep = nr;
                                memcpy(t->rep + t->rep_len, h + 2, l);
                                t->rep_len += l;
                                t->rep[t->rep_len++] = '\n';
                                t->rep[t->rep_len] = '\0';
                        }
                } else if (h[0] == 'F' && h[1] == ' ') {
                        char *label = strchr(h + 2, ' ');
                        t->fremain = strtoull(h + 2, NULL, 10);
                        label = label ? label + 1 : (char *)"?";
                        if (!t->fstream.carry)
                                scan_stream_init(&t->fstream, &lt->scanner, sink_hit, &t->fsink);
                        sink_init(&t->fsink, lt, f->rows[cross], 0, NULL, label, t->prof->owner);
                        snprintf(t->fsink.base.what, sizeof t->fsink.base.what, "inside %s's sandbox", t->tenant);
                        scan_stream_reset(&t->fstream, 0);
                        /* the label (a file name) too */
                        struct sink nk = t->fsink;
                        snprintf(nk.base.what, sizeof nk.base.what, "inside %s's sandbox: a name", t->tenant);
                        sink_scan(&nk, label, strlen(label));
                        t->frames++;
                        t->fbody = t->fremain > 0;
                        mark(f, cross);
                } else if (h[0] == 'Z') {
                        t->dump_done = true;
                }
                t->fhdr_len = 0;
        }
}

void fleet_read_payload(struct fleet *f, struct task *t) {
        static uint8_t buf[1 << 16];
        for (;;) {
                ssize_t n = read(t->sock, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        close(t->sock);
                        t->sock = -1;
                        t->dump_done = true;
                        return;
                }
                payload_bytes(f, t, buf, (size_t)n);
        }
}

static struct task *task_of_peer(struct fleet *f, pid_t peer) {
        struct proc_info *pt = NULL;
        size_t np = 0;
        for (size_t i = 0; i < f->n_tasks; i++) {
                if (f->tasks[i].wout >= 0)
                        read_worker(f, &f->tasks[i]); /* "started" may still be in the pipe */
                if (f->tasks[i].supervisor == peer && peer > 0)
                        return &f->tasks[i];
        }
        /* the audit client may be another process of sealrun's: find the worker above it */
        if (proc_table(&pt, &np) < 0)
                return NULL;
        for (size_t i = 0; i < f->n_tasks; i++)
                if (f->tasks[i].worker > 0 && proc_is_descendant(pt, np, peer, f->tasks[i].worker)) {
                        free(pt);
                        return &f->tasks[i];
                }
        free(pt);
        return NULL;
}

void fleet_on_event(void *ud, const char *event, pid_t peer, const char *msg, size_t len) {
        struct fleet *f = ud;
        struct sink k;
        struct task *t = task_of_peer(f, peer);
        char what[96];

        snprintf(what, sizeof what, "audit message \"%s\"%s%s", event, t ? " of task " : "", t ? t->id : "");
        sink_init(&k, f->lt, f->rows[R_LOG_WIRE], 0, what, NULL, -1);
        sink_scan(&k, msg, len);
        mark(f, R_LOG_WIRE);
        if (!t)
                return;
        if (strcmp(event, "inject") == 0) {
                t->inject_seen = true;
                if (t->kind == TK_REFUSE) {
                        struct place p = { .pid = peer, .offset = -1 };
                        snprintf(p.what, sizeof p.what,
                                 "an \"inject\" event for task %s, whose profile must be refused", t->id);
                        row_fail_place(f->rows[t->row], &p);
                        return;
                }
                sample_inject(f, t, peer);
        } else if (strcmp(event, "deny") == 0 && t->proxy && memmem(msg, len, "placeholder-misdirected", 23)) {
                t->trip_denies++;
        } else if (strcmp(event, "exit") == 0 && t->kind != TK_REFUSE) {
                t->exit_event_seen = true;
                sample_supervisor_after(f, t, peer);
        }
}

static bool all_dumped(struct fleet *f, size_t from, size_t to) {
        for (size_t i = from; i < to; i++) {
                struct task *t = &f->tasks[i];
                if (t->kind == TK_PROBE && !t->dump_done && !t->exited)
                        return false;
        }
        return true;
}

/* Run tasks [from, to) at the same time, until every worker reported "done". */
int fleet_phase(struct fleet *f, size_t from, size_t to) {
        int64_t deadline = now_ms() + PHASE_MS;
        bool sampled = false, timed_out = false;
        bool after[16] = { false };

        f->proxy.on_event = fleet_on_event;
        f->proxy.ud = f;
        for (size_t i = from; i < to; i++)
                if (start_worker(f, &f->tasks[i]) < 0)
                        why_not(f, f->tasks[i].row, "could not start the worker: %s", strerror(errno));
        for (;;) {
                struct pollfd fds[128];
                size_t n = proxy_pollfds(&f->proxy, fds, 64), done = 0;
                for (size_t i = from; i < to; i++) {
                        struct task *t = &f->tasks[i];
                        if (t->wout >= 0)
                                fds[n++] = (struct pollfd){ .fd = t->wout, .events = POLLIN };
                        if (t->sock >= 0)
                                fds[n++] = (struct pollfd){ .fd = t->sock, .events = POLLIN };
                }
                if (poll(fds, n, 50) < 0 && errno != EINTR)
                        return -errno;
                proxy_handle(&f->proxy, fds, n);
                for (size_t i = from; i < to; i++) {
                        struct task *t = &f->tasks[i];
                        if (t->wout >= 0)
                                read_worker(f, t);
                        if (t->sock >= 0)
                                fleet_read_payload(f, t);
                        if (t->started && t->init == 0)
                                t->init = status_pid(t->status);
                }
                if (!sampled && all_dumped(f, from, to)) {
                        sampled = true;
                        sample_running(f);
                        for (size_t i = from; i < to; i++)
                                if (f->tasks[i].sock >= 0)
                                        shutdown(f->tasks[i].sock, SHUT_WR); /* the payloads may end */
                }
                for (size_t i = from; i < to; i++) {
                        struct task *t = &f->tasks[i];
                        if (t->worker_done && !after[i - from]) {
                                after[i - from] = true;
                                if (t->kind != TK_REFUSE)
                                        sample_worker_after(f, t);
                        }
                        done += t->worker_done || t->worker <= 0;
                }
                if (done == to - from)
                        break;
                if (now_ms() > deadline) {
                        timed_out = true;
                        break;
                }
        }
        for (size_t i = from; i < to; i++) {
                struct task *t = &f->tasks[i];
                if (timed_out && !t->worker_done) {
                        why_not(f, t->row, "task %s did not end within %d s", t->id, PHASE_MS / 1000);
                        struct place p = { .pid = t->supervisor, .offset = -1 };
                        snprintf(p.what, sizeof p.what, "task %s still running at the deadline: killed", t->id);
                        row_fail_place(f->rows[t->row], &p);
                        if (t->supervisor > 0)
                                kill(t->supervisor, SIGKILL);
                }
                /* the sandbox is gone: what is left in the socket, then EOF */
                for (int64_t until = now_ms() + 2000; t->sock >= 0 && now_ms() < until;) {
                        struct pollfd pf = { .fd = t->sock, .events = POLLIN };
                        poll(&pf, 1, 100);
                        fleet_read_payload(f, t);
                }
                if (t->sock >= 0)
                        close(t->sock);
                t->sock = -1;
                if (t->wctl >= 0)
                        close(t->wctl); /* the worker may exit */
                t->wctl = -1;
                if (t->worker > 0) {
                        if (timed_out)
                                kill(t->worker, SIGKILL);
                        waitpid(t->worker, NULL, 0);
                }
                if (t->wout >= 0)
                        close(t->wout);
                t->wout = -1;
                if (t->fstream.carry)
                        scan_stream_free(&t->fstream);
        }
        return timed_out ? -ETIMEDOUT : 0;
}

int fleet_run(struct fleet *f) {
        struct task *t;
        size_t first;
        int64_t sealed_at = now_ms();

        fleet_add_task(f, "lt-a-probe", TK_PROBE, prof(f, "a"), "lt-a", "a", R_DELIV_A, 0);
        t = fleet_add_task(f, "lt-b-probe", TK_PROBE, prof(f, "b"), "lt-b", "b", R_DELIV_B, 0);
        t->key_by_fd = false; /* one tenant's worker gives --key FILE, the other --key-fd */
        fleet_add_task(f, "lt-a-crash", TK_CRASH, prof(f, "a"), "lt-a", "a", R_DELIV_CRASH, 0);
        t = fleet_add_task(f, "lt-a-brokered", TK_PROBE, prof(f, "brokered"), "lt-a", "a", R_DELIV_BROKER, 0);
        t->proxy = true;
        first = f->n_tasks;
        fleet_add_task(f, "lt-fc-tampered", TK_REFUSE, prof(f, "tampered"), "lt-a", "a", R_FC_TAMPERED, 77);
        fleet_add_task(f, "lt-fc-expired", TK_REFUSE, prof(f, "expired"), "lt-a", "a", R_FC_EXPIRED, 77);
        fleet_add_task(f, "lt-fc-revoked", TK_REFUSE, prof(f, "revoked"), "lt-a", "a", R_FC_REVOKED, 77);
        fleet_add_task(f, "lt-fc-foreign", TK_REFUSE, prof(f, "foreign"), "lt-a", "a", R_FC_FOREIGN, 77);
        fleet_add_task(f, "lt-fc-foreign-key", TK_REFUSE, prof(f, "foreign"), "lt-a", "b", R_FC_FOREIGN_KEY, 77);
        fleet_add_task(f, "lt-fc-wrong-pool", TK_REFUSE, prof(f, "wrongpool"), "lt-a", "a", R_FC_WRONG_POOL, 77);
        fleet_add_task(f, "lt-fc-untrusted", TK_REFUSE, prof(f, "untrusted"), "lt-a", "a", R_FC_UNTRUSTED, 77);
        t = fleet_add_task(f, "lt-fc-down", TK_REFUSE, prof(f, "down"), "lt-a", "a", R_FC_DOWN, 75);
        t->collector_down = true;

        /* the brokered task's bound server, holding the value it must receive */
        const struct profile *bp = prof(f, "brokered");
        if (bp && bp->canary[0] >= 0 && f->srv.listen_fd >= 0) {
                const struct canary *c = &f->lt->canaries[bp->canary[0]];
                f->srv_ready = tls_srv_start(&f->srv, &f->pki, c->val, c->len) == 0;
        }
        int r = fleet_phase(f, 0, first);
        tls_srv_stop(&f->srv);
        /* the expired profile was sealed with +1s: make sure it is past */
        int64_t wait = sealed_at + 1500 - now_ms();
        if (wait > 0)
                poll(NULL, 0, (int)wait);
        int r2 = fleet_phase(f, first, f->n_tasks);
        return r < 0 ? r : r2;
}
