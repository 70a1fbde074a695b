/* The claim protocol of a pre-built sandbox: messages with fds over SOCK_SEQPACKET, and the sealed args memfd. */
#include "policy/claim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy/util.h"

struct wire {
        uint32_t magic;
        uint32_t type;
        int32_t value;
};

int claim_send(int sock, enum claim_type type, int value, const int *fds, size_t n_fds) {
        struct wire w = { CLAIM_MAGIC, (uint32_t)type, value };
        struct iovec iov = { &w, sizeof w };
        union {
                char buf[CMSG_SPACE(sizeof(int) * CLAIM_MAX_FDS)];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n_fds > CLAIM_MAX_FDS)
                return -E2BIG;
        if (n_fds) {
                struct cmsghdr *c;
                memset(&u, 0, sizeof u);
                mh.msg_control = u.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        for (;;) {
                if (sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof w)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

static void close_all(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

int claim_recv(int sock, struct claim_msg *ret, int *fds, size_t max_fds, size_t *ret_n_fds, int timeout_ms) {
        struct wire w;
        struct iovec iov = { &w, sizeof w };
        union {
                char buf[CMSG_SPACE(sizeof(int) * CLAIM_MAX_FDS)];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
        struct pollfd p = { .fd = sock, .events = POLLIN };
        size_t n = 0;
        ssize_t got;
        int r;
        *ret_n_fds = 0;
        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return -ETIMEDOUT;
        do
                got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (got < 0 && errno == EINTR);
        if (got < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        int in[CLAIM_MAX_FDS];
                        memcpy(in, CMSG_DATA(c), k * sizeof(int));
                        for (size_t i = 0; i < k; i++) {
                                if (n < max_fds)
                                        fds[n++] = in[i];
                                else
                                        close(in[i]);
                        }
                }
        if (got == 0) {
                close_all(fds, n);
                return -EPIPE;
        }
        if (got != (ssize_t)sizeof w || w.magic != CLAIM_MAGIC || (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
                close_all(fds, n);
                return -EBADMSG;
        }
        ret->type = w.type;
        ret->value = w.value;
        *ret_n_fds = n;
        return 0;
}

int claim_check_peer(int sock, pid_t *ret_pid) {
        struct ucred uc;
        socklen_t len = sizeof uc;
        if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return -errno;
        if (uc.uid != getuid())
                return -EPERM;
        if (ret_pid)
                *ret_pid = uc.pid;
        return 0;
}

static int put(int fd, char tag, const char *s) {
        size_t n = strlen(s) + 1;
        if (write(fd, &tag, 1) != 1 || write(fd, s, n) != (ssize_t)n)
                return -EIO;
        return 0;
}

int claim_pack(const char *tags, char *const *strings, size_t n) {
        int fd = memfd_create("sealrun-claim", MFD_CLOEXEC | MFD_ALLOW_SEALING), r = 0;
        if (fd < 0)
                return -errno;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = put(fd, tags[i], strings[i]);
        /* sealed: what the other side parses cannot change under it */
        if (r == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int claim_args_new(char *const *args, size_t n_args, char *const *env, const int *fd_numbers, size_t n_fds) {
        size_t n_env = 0, n = 0, total;
        char **s, *tags, (*nums)[16];
        int r;
        while (env && env[n_env])
                n_env++;
        total = n_args + n_env + n_fds;
        s = calloc(total + 1, sizeof *s);
        tags = calloc(total + 1, 1);
        nums = calloc(n_fds + 1, sizeof *nums);
        if (!s || !tags || !nums) {
                free(s), free(tags), free(nums);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_args; i++)
                tags[n] = 'a', s[n++] = args[i];
        for (size_t i = 0; i < n_env; i++)
                tags[n] = 'e', s[n++] = env[i];
        for (size_t i = 0; i < n_fds; i++) {
                snprintf(nums[i], sizeof nums[i], "%d", fd_numbers[i]);
                tags[n] = 'f', s[n++] = nums[i];
        }
        r = claim_pack(tags, s, n);
        free(s), free(tags), free(nums);
        return r;
}

int claim_args_read(int fd, char **ret, size_t *ret_len) {
        size_t len = 0;
        char *buf = malloc(CLAIM_ARGS_MAX + 1);
        ssize_t n;
        if (!buf)
                return -ENOMEM;
        while (len < CLAIM_ARGS_MAX + 1 && (n = pread(fd, buf + len, CLAIM_ARGS_MAX + 1 - len, (off_t)len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        free(buf);
                        return -errno;
                }
                len += (size_t)n;
        }
        if (len > CLAIM_ARGS_MAX || (len && buf[len - 1] != 0)) {
                free(buf);
                return -EBADMSG;
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}
