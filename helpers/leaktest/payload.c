/* The payload inside the sandbox: reports hashes of what it received, dumps everything it can read to the host, or
 * crashes on purpose.
 *
 * It never prints a credential: its own credentials go to the host only as
 * BLAKE2b hashes (the host compares them with the canaries it sealed). The
 * dump of everything readable goes over the passed socket, never to stdout,
 * and the host looks in it for what must not be there (the other tenant's
 * canaries, an ungranted credential). */
#include "helpers/leaktest/egress.h"
#include "helpers/leaktest/leaktest.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define DUMP_FILE_MAX (16u << 20)
#define DUMP_TOTAL_MAX (256ull << 20)

extern char **environ;

struct pl {
        int fd;
        uint64_t dumped;
        const char *walk[16];
        size_t n_walk;
        const char *try_paths[32];
        size_t n_try;
        char self_dir[4096];
        bool no_proc;         /* --self-test runs it on the host: not every host process */
        unsigned egress_port; /* the brokered task: the bound server's port */
};

static void rline(struct pl *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rline(struct pl *p, const char *fmt, ...) {
        char buf[8192];
        va_list ap;
        int n;
        buf[0] = 'R';
        buf[1] = ' ';
        va_start(ap, fmt);
        n = vsnprintf(buf + 2, sizeof buf - 3, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        size_t len = strlen(buf);
        for (size_t i = 2; i < len; i++)
                if (buf[i] == '\n')
                        buf[i] = '?';
        buf[len++] = '\n';
        (void)write_all(p->fd, buf, len);
}

static void frame(struct pl *p, const char *label, const void *data, size_t len) {
        char hdr[4200];
        if (p->dumped + len > DUMP_TOTAL_MAX)
                return;
        int n = snprintf(hdr, sizeof hdr, "F %zu %s\n", len, label);
        if (n < 0 || (size_t)n >= sizeof hdr)
                return;
        for (int i = 2; i < n - 1; i++)
                if (hdr[i] == '\n')
                        hdr[i] = '?';
        (void)write_all(p->fd, hdr, (size_t)n);
        (void)write_all(p->fd, data, len);
        p->dumped += len;
}

/* A brokered credential's stand-in: "sealrun-ph-" and 32 lower-case hex digits. */
static bool is_placeholder(const void *data, size_t n) {
        const char *s = data;
        if (n != 11 + 32 || memcmp(s, "sealrun-ph-", 11) != 0)
                return false;
        for (size_t i = 11; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static void hash_hex(const void *data, size_t len, char out[65]) {
        uint8_t h[32];
        crypto_generichash(h, sizeof h, data, len, NULL, 0);
        sodium_bin2hex(out, 65, h, sizeof h);
}

static int slurp(int dfd, const char *path, size_t max, char **ret, size_t *ret_len) {
        int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        int r = read_fd_all(fd, max, ret, ret_len);
        close(fd);
        return r;
}

/* /proc/PID/mem of another sandbox process, over its readable maps. */
static void dump_mem(struct pl *p, const char *pid) {
        char path[64], *text;
        size_t tn, nm;
        struct map_entry *maps;
        snprintf(path, sizeof path, "/proc/%s/maps", pid);
        if (slurp(AT_FDCWD, path, 8u << 20, &text, &tn) < 0) {
                rline(p, "unreadable %s %d", path, errno);
                return;
        }
        int r = maps_parse(text, tn, &maps, &nm);
        free(text);
        if (r < 0)
                return;
        snprintf(path, sizeof path, "/proc/%s/mem", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                rline(p, "unreadable %s %d", path, errno);
                free(maps);
                return;
        }
        uint8_t *buf = malloc(1u << 20);
        for (size_t i = 0; buf && i < nm; i++) {
                const struct map_entry *m = &maps[i];
                if (m->perms[0] != 'r' || m->end - m->start > (256u << 20) || m->path[0] == '[' ||
                    (m->path[0] == '/' && m->inode != 0 && m->perms[1] != 'w'))
                        continue; /* [vvar] and friends, and read-only file text: not where secrets live */
                for (uint64_t a = m->start; a < m->end;) {
                        size_t want = m->end - a < (1u << 20) ? (size_t)(m->end - a) : (1u << 20);
                        ssize_t got = pread(fd, buf, want, (off_t)a);
                        if (got <= 0) {
                                a += 4096;
                                continue;
                        }
                        char label[128];
                        snprintf(label, sizeof label, "/proc/%s/mem@%llx", pid, (unsigned long long)a);
                        frame(p, label, buf, (size_t)got);
                        a += (uint64_t)got;
                }
        }
        if (buf)
                sodium_memzero(buf, 1u << 20);
        free(buf);
        free(maps);
        close(fd);
}

static void dump_proc(struct pl *p) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        char self[16];
        snprintf(self, sizeof self, "%d", (int)getpid());
        if (!d)
                return;
        while ((de = readdir(d))) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                static const char *const files[] = { "environ", "cmdline", "status" };
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        char path[96], *data;
                        size_t n;
                        snprintf(path, sizeof path, "/proc/%s/%s", de->d_name, files[i]);
                        if (slurp(AT_FDCWD, path, 1u << 20, &data, &n) == 0) {
                                frame(p, path, data, n);
                                free(data);
                        } else {
                                rline(p, "unreadable %s %d", path, errno);
                        }
                }
                if (strcmp(de->d_name, self) != 0)
                        dump_mem(p, de->d_name);
        }
        closedir(d);
}

static void walk(struct pl *p, const char *dir, int depth) {
        DIR *d;
        struct dirent *de;
        if (depth > 24 || strcmp(dir, "/usr") == 0 || strcmp(dir, "/proc") == 0 || strcmp(dir, "/sys") == 0 ||
            strcmp(dir, p->self_dir) == 0 || (strcmp(dir, "/dev") == 0 && depth > 0))
                return;
        d = opendir(dir);
        if (!d) {
                rline(p, "unreadable %s %d", dir, errno);
                return;
        }
        while ((de = readdir(d))) {
                char path[4096];
                struct stat sb;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, de->d_name);
                if (lstat(path, &sb) < 0)
                        continue;
                if (S_ISDIR(sb.st_mode)) {
                        walk(p, path, depth + 1);
                } else if (S_ISREG(sb.st_mode)) {
                        char *data;
                        size_t n;
                        if (slurp(AT_FDCWD, path, DUMP_FILE_MAX, &data, &n) == 0) {
                                frame(p, path, data, n);
                                sodium_memzero(data, n);
                                free(data);
                        } else {
                                rline(p, "unreadable %s %d", path, errno);
                        }
                } else {
                        frame(p, path, "", 0); /* the name alone */
                }
        }
        closedir(d);
}

/* The mount that holds path: longest mount point prefix in mountinfo. */
static void report_mount(struct pl *p, const char *path) {
        char *text, best[1024] = "", best_mp[1024] = "";
        size_t n, best_len = 0;
        if (slurp(AT_FDCWD, "/proc/self/mountinfo", 1u << 20, &text, &n) < 0)
                return;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char mp[1024];
                if (sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1)
                        continue;
                size_t l = strlen(mp);
                bool under = strncmp(path, mp, l) == 0 && (path[l] == '\0' || path[l] == '/' || l == 1);
                if (under && l >= best_len) {
                        best_len = l;
                        snprintf(best, sizeof best, "%s", line);
                        snprintf(best_mp, sizeof best_mp, "%s", mp);
                }
        }
        free(text);
        if (!best[0])
                return;
        /* "... MOUNTPOINT OPTS [optional fields] - FSTYPE SOURCE SUPEROPTS" */
        char opts[512] = "", fstype[64] = "", super[512] = "";
        sscanf(best, "%*s %*s %*s %*s %*s %511s", opts);
        char *dash = strstr(best, " - ");
        if (dash)
                sscanf(dash + 3, "%63s %*s %511s", fstype, super);
        rline(p, "credsmount %s %s %s %s", best_mp, fstype, opts, super);
}

static void report_creds(struct pl *p) {
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        struct stat sb;
        if (!dir || !dir[0])
                dir = "/run/credentials";
        if (stat(dir, &sb) < 0) {
                rline(p, "credsdir %s missing %d", dir, errno);
        } else {
                rline(p, "credsdir %s %o", dir, (unsigned)(sb.st_mode & 07777));
                report_mount(p, dir);
                DIR *d = opendir(dir);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        char path[4096], *data, hex[65];
                        size_t n;
                        if (de->d_name[0] == '.' &&
                            (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
                                continue;
                        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                        if (lstat(path, &sb) < 0)
                                continue;
                        if (slurp(AT_FDCWD, path, 1u << 20, &data, &n) < 0) {
                                rline(p, "file %s unreadable %o", de->d_name, (unsigned)(sb.st_mode & 07777));
                                continue;
                        }
                        hash_hex(data, n, hex);
                        if (is_placeholder(data, n))
                                rline(p, "placeholder file %s", de->d_name);
                        sodium_memzero(data, n);
                        free(data);
                        rline(p, "file %s %s %o", de->d_name, hex, (unsigned)(sb.st_mode & 07777));
                }
                if (d)
                        closedir(d);
        }
        for (char **e = environ; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                char hex[65], name[256];
                if (!eq || (size_t)(eq - *e) >= sizeof name)
                        continue;
                memcpy(name, *e, (size_t)(eq - *e));
                name[eq - *e] = '\0';
                hash_hex(eq + 1, strlen(eq + 1), hex);
                if (is_placeholder(eq + 1, strlen(eq + 1)))
                        rline(p, "placeholder env %s", name);
                rline(p, "env %s %s", name, hex);
        }
}

static void report_self(struct pl *p) {
        struct rlimit rl;
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char lp[64], target[512];
                if (de->d_name[0] < '0' || de->d_name[0] > '9' || atoi(de->d_name) == dirfd(d))
                        continue;
                snprintf(lp, sizeof lp, "/proc/self/fd/%s", de->d_name);
                ssize_t n = readlink(lp, target, sizeof target - 1);
                target[n > 0 ? n : 0] = '\0';
                rline(p, "fd %s %s", de->d_name, target);
        }
        if (d)
                closedir(d);
        getrlimit(RLIMIT_CORE, &rl);
        rline(p, "rlimit_core %llu %llu", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        rline(p, "dumpable %d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
        rline(p, "uid %u", (unsigned)getuid());
}

/* A child that holds the credentials and crashes: does the kernel write a
 * core of it, and where? (core_pattern is the host's; we never change it.) */
static void crash_child(struct pl *p) {
        int status;
        pid_t c = fork();
        if (c == 0) {
                report_creds(&(struct pl){ .fd = -1 }); /* reads every credential into memory */
                signal(SIGSEGV, SIG_DFL);
                raise(SIGSEGV);
                _exit(0);
        }
        if (c < 0 || waitpid(c, &status, 0) < 0) {
                rline(p, "crash_child error %d", errno);
                return;
        }
        rline(p, "crash_child signal %d core %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0,
              WIFSIGNALED(status) && WCOREDUMP(status) ? 1 : 0);
        static const char *const dirs[] = { ".", "/tmp", "/" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                DIR *d = opendir(dirs[i]);
                struct dirent *de;
                while (d && (de = readdir(d)))
                        if (strncmp(de->d_name, "core", 4) == 0)
                                rline(p, "core_file %s/%s", dirs[i], de->d_name);
                if (d)
                        closedir(d);
        }
}

static void egress_line(void *ud, const char *line) {
        rline(ud, "%s", line);
}

/* The brokered task: the placeholder through the broker to the bound
 * server, and misdirected, before anything is dumped (the host looks at
 * this process's memory, files and output after the exchange). The
 * answers go to stdout and to a file in the sandbox's /tmp. */
static void egress(struct pl *p) {
        struct eg_cfg c = { .placeholder = getenv(EG_CRED),
                            .port = (uint16_t)p->egress_port,
                            .proxy = getenv("HTTPS_PROXY"),
                            .ca_file = getenv("SSL_CERT_FILE"),
                            .echo_fd = 1,
                            .echo_fd2 = -1 };
        /* the answers also go to a file: the dump of the sandbox's files reads it */
        c.echo_fd2 = open("/tmp/lt-egress-answers.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        eg_probe_run(&c, egress_line, p);
        if (c.echo_fd2 >= 0)
                close(c.echo_fd2);
}

int payload_main(int argc, char **argv) {
        struct pl p = { .fd = -1 };
        const char *mode = argc > 1 ? argv[1] : "";
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

        exe[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash && slash != exe)
                *slash = '\0';
        snprintf(p.self_dir, sizeof p.self_dir, "%s", exe);
        if (strcmp(mode, "ran") == 0) {
                /* fail-closed runs: this must never be printed */
                puts("PAYLOAD-RAN");
                return 0;
        }
        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc)
                        p.fd = atoi(argv[++i]);
                else if (strcmp(argv[i], "--walk") == 0 && i + 1 < argc && p.n_walk < ELEMENTSOF(p.walk))
                        p.walk[p.n_walk++] = argv[++i];
                else if (strcmp(argv[i], "--egress") == 0 && i + 1 < argc)
                        p.egress_port = (unsigned)atoi(argv[++i]);
                else if (strcmp(argv[i], "--no-proc") == 0)
                        p.no_proc = true;
                else if (strcmp(argv[i], "--try") == 0 && i + 1 < argc && p.n_try < ELEMENTSOF(p.try_paths))
                        p.try_paths[p.n_try++] = argv[++i];
                else {
                        fprintf(stderr, "sealrun-leaktest --payload: %s: unknown argument\n", argv[i]);
                        return 2;
                }
        }
        if (p.fd < 0 || fcntl(p.fd, F_GETFD) < 0) {
                fprintf(stderr, "sealrun-leaktest --payload: the report socket (--fd) is not open\n");
                return 3;
        }
        if (strcmp(mode, "crash") == 0) {
                report_self(&p);
                report_creds(&p);
                crash_child(&p);
                (void)write_all(p.fd, "Z\n", 2);
                signal(SIGSEGV, SIG_DFL);
                raise(SIGSEGV); /* the payload itself crashes after injection */
                return 1;
        }
        if (strcmp(mode, "probe") != 0) {
                fprintf(stderr, "sealrun-leaktest --payload: %s: unknown mode\n", mode);
                return 2;
        }
        report_self(&p);
        report_creds(&p);
        if (p.egress_port)
                egress(&p);
        for (size_t i = 0; i < p.n_try; i++) {
                char *data;
                size_t dn;
                int r = slurp(AT_FDCWD, p.try_paths[i], DUMP_FILE_MAX, &data, &dn);
                rline(&p, "try %s %d", p.try_paths[i], r < 0 ? -r : 0);
                if (r == 0) {
                        frame(&p, p.try_paths[i], data, dn);
                        free(data);
                }
        }
        if (p.n_walk == 0)
                p.walk[p.n_walk++] = "/";
        for (size_t i = 0; i < p.n_walk; i++)
                walk(&p, p.walk[i], 0);
        if (!p.no_proc) {
                walk(&p, "/dev/shm", 1);
                dump_proc(&p);
        }
        (void)write_all(p.fd, "Z\n", 2);
        /* stay alive until the host has looked at the sandbox from outside */
        for (;;) {
                char b[64];
                ssize_t r = read(p.fd, b, sizeof b);
                if (r == 0 || (r < 0 && errno != EINTR))
                        break;
        }
        return 0;
}
