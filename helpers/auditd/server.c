/* sealrun-auditd event loop: accept, read one message per ready client, validate, append, ack.
 *
 * One thread, epoll, non-blocking sockets: a client that sends garbage, sends
 * half a message and vanishes, or never reads its replies costs only its own
 * connection. Group commit: every event read in one round of the loop (one
 * per ready client) is written, then each file written to is fdatasync'ed
 * once, and only then are the round's acks sent; events that arrive during
 * that sync wait for the next round's. "Acknowledged" still means "on disk",
 * and SIGTERM between two rounds never loses an acknowledged line. */
#include "helpers/auditd/server.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "helpers/auditd/dedup.h"
#include "policy/audit_proto.h"

struct auditd_file {
        struct auditd_file *next;
        char name[72];
        struct audit_chain chain;
};

struct auditd_client {
        struct auditd_client *prev, *next;
        int fd;
        struct audit_peer peer;
        uint64_t last_seq;
        unsigned logged;
        int64_t last_ms;  /* last message (or connect) */
        char *open_event; /* the "inject" written on this connection, until its "exit" */
        bool peer_closed; /* replies cannot be sent: read what it queued, then EOF */
};

static char tag_listen, tag_signal;

/* One written, not yet synced and acknowledged event of this round. */
struct pending {
        struct auditd_client *client;
        struct audit_chain *chain;
        uint64_t rollbacks; /* chain->rollbacks when written: changed = the line is gone */
        struct audit_reply rp;
        uint64_t key, end_key; /* dedup keys to learn once on disk (0 = none) */
        enum audit_event_type type;
        char *inject_json; /* for an inject: the connection's open task */
        char name[72];
};
#define MAX_PENDING 64
static struct pending batch[MAX_PENDING];
static size_t n_batch;

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
        char m[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        /* messages can carry a client's key names: keep the log one printable line */
        for (char *c = m; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                        *c = '?';
        fprintf(stderr, "sealrun-auditd: %s\n", m);
}

void auditd_log_stats(const struct auditd *d, const char *when) {
        log_line("%s: %llu events acknowledged, %llu rejected (%llu write errors), %llu connections, %llu dropped",
                 when, (unsigned long long)d->stats.accepted, (unsigned long long)d->stats.rejected,
                 (unsigned long long)d->stats.write_errors, (unsigned long long)d->stats.clients,
                 (unsigned long long)d->stats.dropped);
}

static int file_get(struct auditd *d, const char *name, struct audit_chain **ret, struct sr_error *e);
static void file_forget(struct auditd *d, const char *name);
static void batch_flush(struct auditd *d);

/* The connection that carried a task's "inject" closed before its "exit":
 * the sender vanished (killed, crashed). Record it, so no trail silently
 * ends at inject; a later "exit" (from the spool) is still written. */
static void write_abandoned(struct auditd *d, struct auditd_client *c) {
        struct sr_error e = { 0 };
        struct audit_event ev;
        struct audit_chain *chain;
        _cleanup_free_ char *json = NULL;
        const char *name;
        uint64_t line, key;
        if (audit_event_decode(c->open_event, strlen(c->open_event), &ev, &e) < 0)
                return;
        name = ev.tenant;
        key = auditd_dedup_key(name, ev.task, ev.pid, AUDITD_END_SEQ);
        if (!auditd_dedup_find(key, &line)) {
                ev.type = AUDIT_EV_ABANDONED;
                ev.creds = NULL;
                ev.n_creds = 0;
                ev.recipient = ev.issuer = NULL;
                ev.reason = "connection-closed";
                ev.seq = c->last_seq + 1;
                audit_time_now(ev.time);
                if (audit_event_canonical(&ev, &json) == 0 && file_get(d, name, &chain, &e) == 0 &&
                    audit_chain_append(chain, &c->peer, json, &line, &e) == 0) {
                        auditd_dedup_add(key, line);
                        d->stats.accepted++;
                        log_line("%s: task %s: sender (pid %d) vanished after inject: abandoned recorded", name,
                                 ev.task, (int)c->peer.pid);
                } else {
                        file_forget(d, name);
                        log_line("%s: task %s: cannot record abandoned: %s", name, ev.task, e.msg);
                }
        }
        audit_event_free(&ev);
}

static void client_drop(struct auditd *d, struct auditd_client *c) {
        free(c->open_event);
        if (c->prev)
                c->prev->next = c->next;
        else
                d->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        free(c);
        d->n_clients--;
}

/* Open files are cached (most recently used first); the oldest is closed
 * beyond AUDITD_MAX_OPEN_FILES. */
static int file_get(struct auditd *d, const char *name, struct audit_chain **ret, struct sr_error *e) {
        struct auditd_file **pp, *f;
        int r;
        for (pp = &d->files; (f = *pp); pp = &f->next)
                if (strcmp(f->name, name) == 0) {
                        *pp = f->next;
                        f->next = d->files;
                        d->files = f;
                        *ret = &f->chain;
                        return 0;
                }
        if (!(f = calloc(1, sizeof *f)))
                return sr_fail(e, SR_EXIT_TEMPFAIL, ENOMEM, "nomem", "out of memory");
        snprintf(f->name, sizeof f->name, "%s", name);
        if ((r = audit_chain_open(d->dir_fd, name, &f->chain, e)) < 0) {
                free(f);
                return r;
        }
        auditd_dedup_seed(f->chain.fd, name);
        f->next = d->files;
        d->files = f;
        if (++d->n_files > AUDITD_MAX_OPEN_FILES) {
                /* the file closed below may hold this round's unsynced lines */
                batch_flush(d);
                for (pp = &d->files; (*pp)->next; pp = &(*pp)->next)
                        ;
                audit_chain_close(&(*pp)->chain);
                free(*pp);
                *pp = NULL;
                d->n_files--;
        }
        *ret = &f->chain;
        return 0;
}

/* After a write error the file's state is uncertain: reopen (and re-read its
 * tail) on the next event. */
static void file_forget(struct auditd *d, const char *name) {
        struct auditd_file **pp, *f;
        for (pp = &d->files; (f = *pp); pp = &f->next)
                if (strcmp(f->name, name) == 0) {
                        if (f->chain.pending)
                                return; /* this round's lines are in it; its state stayed consistent */
                        *pp = f->next;
                        audit_chain_close(&f->chain);
                        free(f);
                        d->n_files--;
                        return;
                }
}

static void files_close_all(struct auditd *d) {
        while (d->files) {
                struct auditd_file *f = d->files;
                d->files = f->next;
                audit_chain_close(&f->chain);
                free(f);
        }
        d->n_files = 0;
}

/* false when the reply could not be sent: the client is dropped. */
static bool reply(struct auditd_client *c, const struct audit_reply *rp) {
        char buf[1024];
        size_t n;
        if (audit_reply_encode(rp, buf, sizeof buf, &n) < 0)
                return false;
        if (c->peer_closed)
                return true;
        /* never wait on a client that does not read its replies */
        if (send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n)
                return true;
        /* a sender that gave up waiting (we were stopped) and closed: its queued
         * events are still to be read and written, and its EOF still counts */
        if (errno == EPIPE || errno == ECONNRESET) {
                c->peer_closed = true;
                return true;
        }
        return false;
}

static bool reject(struct auditd *d, struct auditd_client *c, uint64_t seq, const struct sr_error *e) {
        struct audit_reply rp = { .seq = seq, .ok = false };
        d->stats.rejected++;
        snprintf(rp.error, sizeof rp.error, "%s", e->reason[0] ? e->reason : "rejected");
        snprintf(rp.message, sizeof rp.message, "%s", e->msg);
        if (c->logged < AUDITD_LOG_PER_CLIENT) {
                c->logged++;
                log_line("rejected event from uid %u pid %d: %s: %s%s", (unsigned)c->peer.uid, (int)c->peer.pid,
                         rp.error, e->msg,
                         c->logged == AUDITD_LOG_PER_CLIENT ? " (further rejections only counted)" : "");
        }
        return reply(c, &rp);
}

static bool handle_message(struct auditd *d, struct auditd_client *c, const char *buf, size_t len) {
        struct sr_error e = { 0 };
        struct audit_event ev;
        struct audit_chain *chain = NULL;
        struct audit_reply rp = { .ok = true };
        _cleanup_free_ char *json = NULL;
        const char *name;
        int r;

        uint64_t key = 0, line;

        if (audit_event_decode(buf, len, &ev, &e) < 0)
                return reject(d, c, ev.seq, &e);
        rp.seq = ev.seq;
        name = ev.tenant ? ev.tenant : AUDIT_GLOBAL_NAME;
        if (!audit_allow_check(d->allow, c->peer.uid, ev.tenant)) {
                sr_fail(&e, SR_EXIT_REFUSED, EPERM, "not-allowed", "uid %u may not write events for %s",
                        (unsigned)c->peer.uid, name);
                goto rejected;
        }
        /* open the tenant's file first: opening it teaches the dedup table its last lines
         * (a collector restarted between writing a line and acking it) */
        if ((r = file_get(d, name, &chain, &e)) < 0) {
                d->stats.write_errors++;
                log_line("%s: %s", name, e.msg);
                goto rejected;
        }
        /* sent again (lost ack, spool drained twice): acknowledge the line already written */
        if (ev.task && ev.pid > 0) {
                key = auditd_dedup_key(name, ev.task, ev.pid, ev.type == AUDIT_EV_ABANDONED ? AUDITD_END_SEQ : ev.seq);
                if (auditd_dedup_find(key, &line)) {
                        if (ev.seq > c->last_seq)
                                c->last_seq = ev.seq;
                        if (ev.type == AUDIT_EV_EXIT) {
                                free(c->open_event);
                                c->open_event = NULL;
                        }
                        audit_event_free(&ev);
                        rp.line = line;
                        return reply(c, &rp);
                }
        }
        /* a replayed or reordered seq on one connection is a duplicate */
        if (ev.seq <= c->last_seq) {
                sr_fail(&e, SR_EXIT_TEMPFAIL, EINVAL, "bad-seq", "message: $.seq: %llu not above the previous %llu",
                        (unsigned long long)ev.seq, (unsigned long long)c->last_seq);
                goto rejected;
        }
        if (audit_event_canonical(&ev, &json) < 0) {
                sr_fail(&e, SR_EXIT_TEMPFAIL, ENOMEM, "nomem", "out of memory");
                goto rejected;
        }
        /* again: an eviction in between may have closed it */
        if ((r = file_get(d, name, &chain, &e)) == 0 &&
            audit_chain_rotate_due(chain, d->rotate_bytes, d->rotate_age_ms) && audit_chain_rotate(chain, &e) < 0) {
                /* keep writing the current file: a failed rotation must not lose events */
                log_line("%s: %s", name, e.msg);
                memset(&e, 0, sizeof e);
        }
        if (r < 0 || (r = audit_chain_write(chain, &c->peer, json, &rp.line, &e)) < 0) {
                d->stats.write_errors++;
                file_forget(d, name);
                log_line("%s: %s", name, e.msg);
                goto rejected;
        }
        c->last_seq = ev.seq;
        /* acknowledged at the end of the round, after one sync per file */
        {
                struct pending *p = &batch[n_batch++];
                *p = (struct pending){ .client = c,
                                       .chain = chain,
                                       .rollbacks = chain->rollbacks,
                                       .rp = rp,
                                       .key = key,
                                       .type = ev.type };
                snprintf(p->name, sizeof p->name, "%s", name);
                if (key && ev.type == AUDIT_EV_EXIT)
                        p->end_key = auditd_dedup_key(name, ev.task, ev.pid, AUDITD_END_SEQ);
                if (ev.type == AUDIT_EV_INJECT && ev.task && ev.pid > 0 && ev.tenant)
                        p->inject_json = TAKE_PTR(json);
        }
        audit_event_free(&ev);
        if (n_batch == MAX_PENDING)
                batch_flush(d);
        return true;
rejected:
        audit_event_free(&ev);
        return reject(d, c, rp.seq, &e);
}

/* Sync every file written this round once, then acknowledge (or, when a
 * sync failed and the lines were cut back out, refuse) each event. */
static void batch_flush(struct auditd *d) {
        size_t n = n_batch;
        n_batch = 0;
        for (size_t i = 0; i < n; i++) {
                struct sr_error e = { 0 };
                if (batch[i].chain->pending && audit_chain_sync(batch[i].chain, &e) < 0) {
                        d->stats.write_errors++;
                        log_line("%s: %s", batch[i].name, e.msg);
                }
        }
        for (size_t i = 0; i < n; i++) {
                struct pending *p = &batch[i];
                struct auditd_client *c = p->client;
                bool ok;
                if (p->chain->rollbacks != p->rollbacks) {
                        struct sr_error e = { 0 };
                        sr_fail(&e, SR_EXIT_TEMPFAIL, EIO, "write-failed", "cannot sync the audit file");
                        ok = reject(d, c, p->rp.seq, &e);
                } else {
                        if (p->key)
                                auditd_dedup_add(p->key, p->rp.line);
                        if (p->end_key)
                                auditd_dedup_add(p->end_key, p->rp.line);
                        if (p->inject_json) {
                                free(c->open_event);
                                c->open_event = TAKE_PTR(p->inject_json);
                        } else if (p->type == AUDIT_EV_EXIT || p->type == AUDIT_EV_ABANDONED) {
                                free(c->open_event);
                                c->open_event = NULL;
                        }
                        d->stats.accepted++;
                        ok = reply(c, &p->rp);
                }
                free(p->inject_json);
                if (!ok) {
                        d->stats.dropped++;
                        client_drop(d, c);
                }
        }
}

static void client_readable(struct auditd *d, struct auditd_client *c) {
        static char buf[AUDIT_MSG_MAX + 1];
        ssize_t n;
        c->last_ms = now_ms();
        /* MSG_TRUNC: the real length of an oversized message, whose rest is discarded */
        n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                if (c->open_event)
                        write_abandoned(d, c);
                client_drop(d, c);
                return;
        }
        if ((size_t)n > AUDIT_MSG_MAX) {
                struct sr_error e;
                sr_fail(&e, SR_EXIT_TEMPFAIL, EMSGSIZE, "too-large", "message: %zd bytes, more than %d", n,
                        AUDIT_MSG_MAX);
                if (!reject(d, c, 0, &e))
                        goto drop;
                return;
        }
        if (!handle_message(d, c, buf, (size_t)n))
                goto drop;
        return;
drop:
        d->stats.dropped++;
        client_drop(d, c);
}

static size_t uid_connections(const struct auditd *d, uid_t uid) {
        size_t n = 0;
        for (const struct auditd_client *c = d->clients; c; c = c->next)
                n += c->peer.uid == uid;
        return n;
}

/* Close connections silent for AUDITD_IDLE_MS (run between rounds only, so no
 * pending epoll entry can point at a freed client). */
static void sweep_idle(struct auditd *d) {
        int64_t now = now_ms();
        struct auditd_client *c = d->clients, *next;
        for (; c; c = next) {
                next = c->next;
                /* a connection holding a running task's trail stays: its close means something */
                if (now - c->last_ms > AUDITD_IDLE_MS && !c->open_event) {
                        d->stats.dropped++;
                        client_drop(d, c);
                }
        }
}

static void accept_clients(struct auditd *d) {
        for (;;) {
                struct ucred cred;
                socklen_t cl = sizeof cred;
                struct epoll_event ee = { .events = EPOLLIN };
                struct auditd_client *c;
                int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_line("accept: %s", strerror(errno));
                        return;
                }
                if (d->n_clients >= d->max_clients || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
                    uid_connections(d, cred.uid) >= AUDITD_MAX_PER_UID || !(c = calloc(1, sizeof *c))) {
                        d->stats.dropped++;
                        close(fd);
                        continue;
                }
                c->fd = fd;
                c->peer = (struct audit_peer){ cred.uid, cred.gid, cred.pid };
                ee.data.ptr = c;
                if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ee) < 0) {
                        close(fd);
                        free(c);
                        continue;
                }
                c->last_ms = now_ms();
                c->next = d->clients;
                if (d->clients)
                        d->clients->prev = c;
                d->clients = c;
                d->n_clients++;
                d->stats.clients++;
        }
}

static void reload_allow(struct auditd *d) {
        struct sr_error e = { 0 };
        struct audit_allow *a = NULL;
        if (!d->allow_path)
                return;
        if (audit_allow_load(d->allow_path, &a, &e) < 0) {
                log_line("SIGHUP: keeping the old allow map: %s", e.msg);
                return;
        }
        audit_allow_free(d->allow);
        d->allow = a;
        log_line("SIGHUP: allow map reloaded from %s", d->allow_path);
}

static void signal_readable(struct auditd *d) {
        struct signalfd_siginfo si;
        while (read(d->signal_fd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        d->stop = true;
                else if (si.ssi_signo == SIGHUP)
                        reload_allow(d);
                else if (si.ssi_signo == SIGUSR1)
                        auditd_log_stats(d, "counters");
        }
}

int auditd_run(struct auditd *d, struct sr_error *e) {
        struct epoll_event ee = { .events = EPOLLIN }, evs[64];
        sigset_t mask;
        int r = 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        if ((d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
            (d->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "epoll/signalfd: %s", strerror(errno));
        ee.data.ptr = &tag_listen;
        if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->listen_fd, &ee) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "epoll: %s", strerror(errno));
        ee.data.ptr = &tag_signal;
        if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->signal_fd, &ee) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "setup", "epoll: %s", strerror(errno));

        int64_t last_sweep = now_ms();
        while (!d->stop) {
                int n = epoll_wait(d->epoll_fd, evs, ELEMENTSOF(evs), 1000);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = sr_fail(e, SR_EXIT_LAUNCHER, errno, "epoll", "epoll_wait: %s", strerror(errno));
                        break;
                }
                /* level-triggered, one message per ready client per round: a
                 * flooding client cannot starve the others */
                for (int i = 0; i < n && !d->stop; i++) {
                        if (evs[i].data.ptr == &tag_signal)
                                signal_readable(d);
                        else if (evs[i].data.ptr == &tag_listen)
                                accept_clients(d);
                        else {
                                /* a client dropped earlier in this round has no later entry:
                                 * epoll_wait reports each fd once per call */
                                client_readable(d, evs[i].data.ptr);
                        }
                }
                batch_flush(d);
                if (now_ms() - last_sweep >= 1000) {
                        sweep_idle(d);
                        last_sweep = now_ms();
                }
        }
        while (d->clients)
                client_drop(d, d->clients);
        files_close_all(d);
        return r;
}
