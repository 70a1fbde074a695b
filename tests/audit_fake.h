/* Test helper (header only): a fake audit collector in a thread that acks, stays silent, refuses or garbles. */
#pragma once

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "policy/audit_proto.h"

enum fake_mode { FAKE_ACK, FAKE_SILENT, FAKE_REFUSE, FAKE_GARBLE, FAKE_STALE_THEN_ACK, FAKE_CLOSE };

#define FAKE_MAX_MSGS 256

struct fake {
        char dir[64];
        char path[108];
        int lfd;
        int stop[2];
        enum fake_mode mode;
        pthread_t th;
        pthread_mutex_t lock;
        char *msgs[FAKE_MAX_MSGS];
        size_t n_msgs;
        size_t connections;
};

static void fake_reply(int fd, uint64_t seq, bool ok, const char *err) {
        struct audit_reply rp = { .seq = seq, .ok = ok, .line = seq };
        char buf[512];
        size_t n;
        if (!ok) {
                snprintf(rp.error, sizeof rp.error, "%s", err);
                snprintf(rp.message, sizeof rp.message, "fake refusal");
        }
        if (audit_reply_encode(&rp, buf, sizeof buf, &n) == 0)
                (void)!send(fd, buf, n, MSG_NOSIGNAL);
}

static void *fake_main(void *arg) {
        struct fake *f = arg;
        int cfds[16], nc = 0;
        for (;;) {
                struct pollfd p[18];
                int np = 0;
                p[np++] = (struct pollfd){ .fd = f->stop[0], .events = POLLIN };
                p[np++] = (struct pollfd){ .fd = f->lfd, .events = POLLIN };
                for (int i = 0; i < nc; i++)
                        p[np++] = (struct pollfd){ .fd = cfds[i], .events = POLLIN };
                if (poll(p, (nfds_t)np, -1) < 0)
                        continue;
                if (p[0].revents)
                        break;
                int polled = nc; /* connections accepted below are polled next round */
                if ((p[1].revents & POLLIN) && nc < 16) {
                        int c = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
                        if (c >= 0) {
                                cfds[nc++] = c;
                                pthread_mutex_lock(&f->lock);
                                f->connections++;
                                pthread_mutex_unlock(&f->lock);
                        }
                }
                for (int i = 0; i < polled; i++) {
                        char buf[AUDIT_MSG_MAX + 1];
                        struct audit_event ev;
                        struct sr_error e;
                        ssize_t n;
                        if (!(p[2 + i].revents & (POLLIN | POLLHUP)))
                                continue;
                        n = recv(cfds[i], buf, sizeof buf - 1, MSG_DONTWAIT);
                        if (n < 0 && errno == EAGAIN)
                                continue;
                        if (n <= 0) {
                                close(cfds[i]);
                                cfds[i] = -1;
                                continue;
                        }
                        buf[n] = 0;
                        pthread_mutex_lock(&f->lock);
                        if (f->n_msgs < FAKE_MAX_MSGS)
                                f->msgs[f->n_msgs++] = strdup(buf);
                        pthread_mutex_unlock(&f->lock);
                        if (audit_event_decode(buf, (size_t)n, &ev, &e) < 0) {
                                fake_reply(cfds[i], ev.seq, false, "bad-message");
                                continue;
                        }
                        switch (f->mode) {
                        case FAKE_ACK: fake_reply(cfds[i], ev.seq, true, NULL); break;
                        case FAKE_SILENT: break;
                        case FAKE_REFUSE: fake_reply(cfds[i], ev.seq, false, "not-allowed"); break;
                        case FAKE_GARBLE: (void)!send(cfds[i], "}{", 2, MSG_NOSIGNAL); break;
                        case FAKE_STALE_THEN_ACK:
                                fake_reply(cfds[i], ev.seq + 1000, true, NULL);
                                fake_reply(cfds[i], ev.seq, true, NULL);
                                break;
                        case FAKE_CLOSE:
                                close(cfds[i]);
                                cfds[i] = -1;
                                break;
                        }
                        audit_event_free(&ev);
                }
                for (int i = 0; i < nc;)
                        if (cfds[i] < 0)
                                cfds[i] = cfds[--nc];
                        else
                                i++;
        }
        for (int i = 0; i < nc; i++)
                close(cfds[i]);
        return NULL;
}

static struct fake *fake_start(enum fake_mode mode) {
        struct fake *f = calloc(1, sizeof *f);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(f->dir, sizeof f->dir, "/tmp/audit_fake.XXXXXX");
        if (!mkdtemp(f->dir))
                abort();
        snprintf(f->path, sizeof f->path, "%s/s", f->dir);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
        f->mode = mode;
        f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(f->lfd, 16) < 0 ||
            pipe(f->stop) < 0)
                abort();
        pthread_mutex_init(&f->lock, NULL);
        pthread_create(&f->th, NULL, fake_main, f);
        return f;
}

static void fake_stop(struct fake *f) {
        (void)!write(f->stop[1], "x", 1);
        pthread_join(f->th, NULL);
        close(f->lfd);
        close(f->stop[0]);
        close(f->stop[1]);
        unlink(f->path);
        rmdir(f->dir);
        for (size_t i = 0; i < f->n_msgs; i++)
                free(f->msgs[i]);
        pthread_mutex_destroy(&f->lock);
        free(f);
}
