/* Review helper: carry an open fd out of the sandbox over a unix socket, to observe a file after the sandbox is gone.
 *
 *   fdpass hold SOCK GO OUT   (host) accept one fd on SOCK; once the file GO
 *                             exists, copy what the fd reads to OUT
 *   fdpass send SOCK FILE     (sandbox) open FILE read-only and send its fd */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int addr(const char *path, struct sockaddr_un *sa) {
        memset(sa, 0, sizeof *sa);
        sa->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof sa->sun_path)
                return -1;
        strcpy(sa->sun_path, path);
        return 0;
}

static int do_send(const char *sock, const char *file) {
        struct sockaddr_un sa;
        char byte = 'f', cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        struct cmsghdr *cm;
        int s, fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || addr(sock, &sa) < 0 || (s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
            connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
                perror("fdpass send");
                return 1;
        }
        memset(cbuf, 0, sizeof cbuf);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        if (sendmsg(s, &mh, 0) != 1) {
                perror("fdpass sendmsg");
                return 1;
        }
        close(s);
        return 0;
}

static int do_hold(const char *sock, const char *go, const char *out) {
        struct sockaddr_un sa;
        char byte, cbuf[CMSG_SPACE(sizeof(int))], buf[4096];
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        struct cmsghdr *cm;
        struct stat st;
        int l, c, fd = -1, o;
        ssize_t n;
        off_t off = 0;
        if (addr(sock, &sa) < 0 || (l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
            bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(sock, 0777) < 0 || listen(l, 1) < 0 ||
            (c = accept(l, NULL, NULL)) < 0 || recvmsg(c, &mh, 0) != 1) {
                perror("fdpass hold");
                return 1;
        }
        cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS) {
                fprintf(stderr, "fdpass hold: no fd received\n");
                return 1;
        }
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        while (stat(go, &st) < 0)
                usleep(20000);
        o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (o < 0)
                return 1;
        while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
                if (write(o, buf, (size_t)n) != n)
                        return 1;
                off += n;
        }
        close(o);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "send") == 0)
                return do_send(argv[2], argv[3]);
        if (argc == 5 && strcmp(argv[1], "hold") == 0)
                return do_hold(argv[2], argv[3], argv[4]);
        fprintf(stderr, "usage: fdpass hold SOCK GO OUT | fdpass send SOCK FILE\n");
        return 2;
}
