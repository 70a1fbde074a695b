/* Sync socket messages between supervisor and sandbox. */
#include "launcher/sync.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int sync_send(int fd, enum sync_type type, int err, int value, const char *step, const char *text) {
        struct sync_msg m;
        size_t tl = text ? strnlen(text, SYNC_TEXT_MAX - 1) : 0;
        memset(&m, 0, offsetof(struct sync_msg, text));
        m.type = type;
        m.err = err;
        m.value = value;
        if (step)
                snprintf(m.step, sizeof m.step, "%s", step);
        if (tl)
                memcpy(m.text, text, tl);
        m.text[tl] = 0;
        for (;;) {
                ssize_t n = send(fd, &m, offsetof(struct sync_msg, text) + tl + 1, MSG_NOSIGNAL);
                if (n >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int sync_send_error(int fd, const char *step, const struct sr_error *e) {
        return sync_send(fd, SYNC_ERROR, e->err, e->exit_code ? e->exit_code : SR_EXIT_LAUNCHER, step, e->msg);
}

int sync_recv(int fd, struct sync_msg *m, int timeout_ms) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r = poll(&p, 1, timeout_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                ssize_t n = recv(fd, m, sizeof *m, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EPIPE;
                if ((size_t)n < offsetof(struct sync_msg, text) + 1)
                        return -EBADMSG;
                ((char *)m)[n < (ssize_t)sizeof *m ? n : (ssize_t)sizeof *m - 1] = 0;
                m->step[sizeof m->step - 1] = 0;
                return 0;
        }
}
