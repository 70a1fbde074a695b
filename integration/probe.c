/* In-sandbox probe: prints as JSON what a payload sees (pids, ids, mounts, net, env, fds). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static void json_str(const char *s) {
        putchar('"');
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static void file_str(const char *key, const char *path) {
        char buf[4096] = "";
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        buf[n > 0 ? n : 0] = 0;
        printf(",\"%s\":", key);
        if (n < 0)
                printf("null");
        else
                json_str(buf);
}

static void list_dir(const char *key, const char *path, int numeric_only, int min) {
        DIR *d = opendir(path);
        struct dirent *de;
        int first = 1, self = d ? dirfd(d) : -1;
        printf(",\"%s\":[", key);
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (numeric_only && (de->d_name[0] < '0' || de->d_name[0] > '9'))
                        continue;
                if (numeric_only && (atoi(de->d_name) < min || (min > 0 && atoi(de->d_name) == self)))
                        continue;
                printf("%s", first ? "" : ",");
                if (numeric_only)
                        printf("%d", atoi(de->d_name));
                else
                        json_str(de->d_name);
                first = 0;
        }
        if (d)
                closedir(d);
        printf("]");
}

static void interfaces(void) {
        struct if_nameindex *ifs = if_nameindex(), *i;
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), first = 1;
        printf(",\"interfaces\":[");
        for (i = ifs; i && i->if_index; i++) {
                struct ifreq r;
                memset(&r, 0, sizeof r);
                snprintf(r.ifr_name, sizeof r.ifr_name, "%s", i->if_name);
                int up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_UP);
                printf("%s{\"name\":", first ? "" : ",");
                json_str(i->if_name);
                printf(",\"up\":%s}", up ? "true" : "false");
                first = 0;
        }
        printf("]");
        if (ifs)
                if_freenameindex(ifs);
        if (s >= 0)
                close(s);
}

static int info(void) {
        char host[256] = "";
        gethostname(host, sizeof host);
        printf("{\"pid\":%d,\"ppid\":%d,\"uid\":%d,\"gid\":%d,\"euid\":%d,\"hostname\":", getpid(), getppid(), getuid(),
               getgid(), geteuid());
        json_str(host);
        file_str("uid_map", "/proc/self/uid_map");
        file_str("gid_map", "/proc/self/gid_map");
        file_str("status", "/proc/self/status");
        file_str("sysvipc_shm", "/proc/sysvipc/shm");
        file_str("mounts", "/proc/self/mounts");
        list_dir("proc_pids", "/proc", 1, 0);
        list_dir("fds", "/proc/self/fd", 1, 3);
        interfaces();
        printf(",\"env\":[");
        for (char **e = environ; *e; e++) {
                printf("%s", e == environ ? "" : ",");
                json_str(*e);
        }
        printf("],\"sid\":%d,\"tty\":%s}\n", getsid(0), isatty(0) ? "true" : "false");
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "info") == 0)
                return info();
        if (strcmp(argv[1], "exit") == 0 && argc > 2)
                return atoi(argv[2]);
        if (strcmp(argv[1], "write") == 0 && argc > 2) {
                /* exit 0 when the write worked, 1 with the errno name otherwise */
                int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd < 0 || write(fd, "x", 1) != 1) {
                        printf("%s\n", strerror(errno));
                        return 1;
                }
                close(fd);
                printf("written\n");
                return 0;
        }
        if (strcmp(argv[1], "exists") == 0 && argc > 2) {
                struct stat st;
                return lstat(argv[2], &st) == 0 ? 0 : 1;
        }
        if (strcmp(argv[1], "cat") == 0 && argc > 2) {
                char buf[4096];
                ssize_t n;
                int fd = open(argv[2], O_RDONLY);
                if (fd < 0) {
                        printf("%s\n", strerror(errno));
                        return 1;
                }
                while ((n = read(fd, buf, sizeof buf)) > 0)
                        fwrite(buf, 1, (size_t)n, stdout);
                return 0;
        }
        if (strcmp(argv[1], "sleep") == 0 && argc > 2) {
                sleep((unsigned)atoi(argv[2]));
                return 0;
        }
        fprintf(stderr, "usage: probe info|exit N|write PATH|exists PATH|cat PATH|sleep N\n");
        return 2;
}
