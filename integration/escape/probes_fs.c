/* Escape suite: probes through files and sockets (/proc of init, kernel knobs, masked files, fds, capabilities,
 * Landlock). */
#include "integration/escape/escape.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LANDLOCK_PROBE_BIND_PORT 4243
#define LANDLOCK_PROBE_CONNECT_PORT 4244

static char fd_report[240];
static int fd_leaked;

void fd_scan_early(void) {
        /* fcntl instead of /proc/self/fd: works without /proc, opens nothing. */
        for (int fd = 3; fd < 4096; fd++) {
                char link[64], where[96];
                ssize_t n;
                if (fcntl(fd, F_GETFD) < 0)
                        continue;
                fd_leaked++;
                snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                n = readlink(link, where, sizeof where - 1);
                where[n > 0 ? n : 0] = 0;
                size_t used = strlen(fd_report);
                snprintf(fd_report + used, sizeof fd_report - used, "%s%d=%s", used ? " " : "", fd,
                         n > 0 ? where : "?");
        }
}

static void p_fd_leak(const struct ctx *c, struct outcome *o) {
        o->result = fd_leaked ? R_ALLOWED : R_DENIED;
        set_detail(o, fd_leaked ? "fds above 2 at start: %s" : "no fd above 2 at start%s", fd_report);
}

static void open_probe(struct outcome *o, const char *path, int flags, const int *deny) {
        int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
        int err = errno;
        if (fd >= 0)
                close(fd);
        set_result(o, fd, err, deny, "open(%s, %s)", path, (flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "O_WRONLY");
        if (fd < 0 && err == ENOENT)
                o->result = R_ABSENT;
}

static void p_proc_mem(const struct ctx *c, struct outcome *o) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/mem", (int)c->target);
        open_probe(o, p, O_RDONLY, DENY_PERM);
}

static void p_proc_exe_read(const struct ctx *c, struct outcome *o) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/exe", (int)c->target);
        open_probe(o, p, O_RDONLY, DENY_PERM);
}

static void p_proc_exe_write(const struct ctx *c, struct outcome *o) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/exe", (int)c->target);
        /* ETXTBSY means the link was followed to the running binary: the
         * path CVE-2019-5736 used once the process had exited. */
        open_probe(o, p, O_WRONLY, DENY_PERM_RO);
}

static void p_proc_environ(const struct ctx *c, struct outcome *o) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/environ", (int)c->target);
        open_probe(o, p, O_RDONLY, DENY_PERM);
}

/* Opening for write is the gate; nothing is ever written. */
static void p_sysrq(const struct ctx *c, struct outcome *o) {
        open_probe(o, "/proc/sysrq-trigger", O_WRONLY, DENY_PERM_RO);
}

static void p_proc_sys(const struct ctx *c, struct outcome *o) {
        open_probe(o, "/proc/sys/kernel/hostname", O_WRONLY, DENY_PERM_RO);
}

static void p_sys_write(const struct ctx *c, struct outcome *o) {
        static const char *const knobs[] = { "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state",
                                             "/sys/kernel/uevent_helper", "/sys/kernel/profiling" };
        for (size_t i = 0; i < sizeof knobs / sizeof *knobs; i++) {
                open_probe(o, knobs[i], O_WRONLY, DENY_PERM_RO);
                if (o->result != R_ABSENT)
                        return;
        }
}

/* Content from any masked file or directory is a leak. */
static void p_masked_proc(const struct ctx *c, struct outcome *o) {
        static const char *const files[] = { "/proc/keys",        "/proc/timer_list", "/proc/kcore",
                                             "/proc/sched_debug", "/proc/interrupts", "/proc/kallsyms",
                                             "/proc/key-users" };
        static const char *const dirs[] = { "/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/driver" };
        int seen = 0, last_err = ENOENT;
        o->result = R_DENIED;
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
                char buf[64];
                int fd = open(files[i], O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
                if (fd < 0 && errno != ENOENT)
                        last_err = errno;
                if (fd >= 0) {
                        seen++;
                        close(fd);
                }
                if (n > 0) {
                        o->result = R_ALLOWED;
                        set_detail(o, "%s returned %zd bytes", files[i], n);
                        return;
                }
        }
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
                DIR *d = opendir(dirs[i]);
                struct dirent *de;
                while (d && (de = readdir(d)))
                        if (de->d_name[0] != '.') {
                                o->result = R_ALLOWED;
                                set_detail(o, "%s lists %s", dirs[i], de->d_name);
                                closedir(d);
                                return;
                        }
                if (d) {
                        seen++;
                        closedir(d);
                }
        }
        if (!seen)
                o->err = last_err;
        set_detail(o, "%d masked files and dirs opened, none had content", seen);
}

static void p_masked_sys(const struct ctx *c, struct outcome *o) {
        static const char *const dirs[] = { "/sys/firmware", "/sys/kernel/security", "/sys/devices/virtual/powercap" };
        int seen = 0;
        o->result = R_ABSENT;
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
                DIR *d = opendir(dirs[i]);
                struct dirent *de;
                if (!d) {
                        if (errno != ENOENT) {
                                o->result = R_DENIED;
                                o->err = errno;
                        }
                        continue;
                }
                seen++;
                o->result = R_DENIED;
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.') {
                                o->result = R_ALLOWED;
                                set_detail(o, "%s lists %s", dirs[i], de->d_name);
                                closedir(d);
                                return;
                        }
                closedir(d);
        }
        set_detail(o, "%d of the masked /sys directories opened, all empty", seen);
}

static void p_capabilities(const struct ctx *c, struct outcome *o) {
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];
        uint64_t eff, prm, inh, bnd = 0, amb = 0;
        if (syscall(SYS_capget, &h, d) < 0) {
                set_result(o, -1, errno, DENY_PERM, "capget");
                o->result = R_SKIPPED;
                return;
        }
        eff = d[0].effective | (uint64_t)d[1].effective << 32;
        prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
        inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
        for (int cap = 0; cap < 64; cap++) {
                if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
                        bnd |= UINT64_C(1) << cap;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
                        amb |= UINT64_C(1) << cap;
        }
        o->result = (eff | prm | inh | bnd | amb) ? R_ALLOWED : R_DENIED;
        set_detail(o, "eff=%llx prm=%llx inh=%llx bnd=%llx amb=%llx", (unsigned long long)eff, (unsigned long long)prm,
                   (unsigned long long)inh, (unsigned long long)bnd, (unsigned long long)amb);
}

static void p_landlock_path(const struct ctx *c, struct outcome *o) {
        /* The root directory exists and DAC lets anyone list it; a Landlock
         * policy that grants only subtrees does not. */
        DIR *d = opendir("/");
        int err = errno;
        if (d && !readdir(d) && errno)
                err = errno;
        set_result(o, d ? 0 : -1, err, DENY_PERM, "list the root directory");
        if (d)
                closedir(d);
}

static void p_landlock_bind(const struct ctx *c, struct outcome *o) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(LANDLOCK_PROBE_BIND_PORT) };
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        long r = s < 0 ? -1 : bind(s, (struct sockaddr *)&a, sizeof a);
        /* EADDRINUSE still passed Landlock's check. */
        set_result(o, r, errno, DENY_PERM, "bind TCP port %d", LANDLOCK_PROBE_BIND_PORT);
}

static void p_landlock_connect(const struct ctx *c, struct outcome *o) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(LANDLOCK_PROBE_CONNECT_PORT) };
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        long r = s < 0 ? -1 : connect(s, (struct sockaddr *)&a, sizeof a);
        /* ECONNREFUSED/ENETUNREACH: the connect was attempted. */
        set_result(o, r, errno, DENY_PERM, "connect to 127.0.0.1 TCP port %d", LANDLOCK_PROBE_CONNECT_PORT);
}

const struct probe probes_fs[] = {
        { "proc_mem_pid1", p_proc_mem },
        { "proc_exe_pid1_read", p_proc_exe_read },
        { "proc_exe_pid1_write", p_proc_exe_write },
        { "proc_environ_pid1", p_proc_environ },
        { "sysrq_trigger_write", p_sysrq },
        { "proc_sys_write", p_proc_sys },
        { "sys_write", p_sys_write },
        { "masked_proc_read", p_masked_proc },
        { "masked_sys_read", p_masked_sys },
        { "fd_leak", p_fd_leak },
        { "capabilities", p_capabilities },
        { "landlock_path", p_landlock_path },
        { "landlock_bind", p_landlock_bind },
        { "landlock_connect", p_landlock_connect },
};
const size_t probes_fs_n = sizeof probes_fs / sizeof *probes_fs;
