/* Host-side views of a process: environ, cmdline, memory over its maps, open files, dumpability, core limit, swap
 * limit. */
#include "helpers/leaktest/leaktest.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MEM_CHUNK (1u << 20)
#define BIG_MAPPING (1ull << 30) /* sanitizer shadow and allocator reservations */
#define FD_FILE_MAX (64u << 20)

int proc_read(pid_t pid, const char *name, size_t max, char **ret, size_t *ret_len) {
        char path[64];
        int fd;
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* read_fd_all wants a size; /proc files report 0, so read in a loop */
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap + 1);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        for (;;) {
                if (n == cap) {
                        if (cap >= max)
                                break;
                        char *nb = realloc(buf, 2 * cap + 1);
                        if (!nb) {
                                free(buf);
                                close(fd);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap *= 2;
                }
                ssize_t r = read(fd, buf + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int err = errno;
                        free(buf);
                        close(fd);
                        return -err;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        close(fd);
        buf[n] = '\0';
        *ret = buf;
        *ret_len = n;
        return 0;
}

int proc_scan_file(struct sink *k, pid_t pid, const char *name) {
        char *buf;
        size_t n;
        int r = proc_read(pid, name, 16u << 20, &buf, &n);
        if (r < 0)
                return r;
        sink_scan(k, buf, n);
        sodium_memzero(buf, n);
        free(buf);
        return 0;
}

static bool skip_mapping(const struct map_entry *m) {
        return m->perms[0] != 'r' || strcmp(m->path, "[vvar]") == 0 || strcmp(m->path, "[vvar_vclock]") == 0 ||
               strcmp(m->path, "[vsyscall]") == 0;
}

int proc_scan_mem(struct sink *k, pid_t pid, struct mem_stats *st) {
        char *text, path[64];
        size_t tn, nm;
        struct map_entry *maps;
        int r, fd;
        uint8_t *buf;
        struct scan_stream ss;

        memset(st, 0, sizeof *st);
        /* smaps gives Rss (skip what was never touched) and VmFlags */
        if ((r = proc_read(pid, "smaps", 64u << 20, &text, &tn)) < 0 &&
            (r = proc_read(pid, "maps", 16u << 20, &text, &tn)) < 0)
                return r;
        r = maps_parse(text, tn, &maps, &nm);
        free(text);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                free(maps);
                return r;
        }
        buf = malloc(MEM_CHUNK);
        if (!buf || scan_stream_init(&ss, &k->lt->scanner, sink_hit, k) < 0) {
                free(buf);
                free(maps);
                close(fd);
                return -ENOMEM;
        }
        k->maps = maps;
        k->n_maps = nm;
        for (size_t i = 0; i < nm; i++) {
                const struct map_entry *m = &maps[i];
                if (skip_mapping(m))
                        continue;
                if (m->rss_kb == 0 && m->swap_kb <= 0)
                        continue; /* nothing resident: reading would only fault in zero pages */
                if (m->end - m->start > BIG_MAPPING) {
                        st->skipped_big++;
                        st->skipped_big_rss_kb += m->rss_kb > 0 ? (uint64_t)m->rss_kb : 0;
                        continue;
                }
                st->maps++;
                scan_stream_reset(&ss, m->start);
                for (uint64_t a = m->start; a < m->end;) {
                        size_t want = m->end - a < MEM_CHUNK ? (size_t)(m->end - a) : MEM_CHUNK;
                        ssize_t got = pread(fd, buf, want, (off_t)a);
                        if (got < 0 && errno == EINTR)
                                continue;
                        if (got <= 0) {
                                /* an unreadable page (guard page, I/O error): step over it */
                                scan_stream_finish(&ss);
                                a += 4096;
                                scan_stream_reset(&ss, a);
                                continue;
                        }
                        scan_stream_feed(&ss, buf, (size_t)got);
                        st->scanned += (uint64_t)got;
                        a += (uint64_t)got;
                }
                scan_stream_finish(&ss);
        }
        sodium_memzero(buf, MEM_CHUNK);
        free(buf);
        scan_stream_free(&ss);
        k->maps = NULL;
        k->n_maps = 0;
        free(maps);
        close(fd);
        return 0;
}

int proc_scan_fds(struct sink *k, pid_t pid, char **ret_list) {
        char dpath[64], *list = NULL;
        size_t list_len = 0;
        DIR *d;
        struct dirent *de;
        FILE *mf = ret_list ? open_memstream(&list, &list_len) : NULL;

        snprintf(dpath, sizeof dpath, "/proc/%d/fd", (int)pid);
        d = opendir(dpath);
        if (!d) {
                int err = errno;
                if (mf)
                        fclose(mf), free(list);
                return -err;
        }
        while ((de = readdir(d))) {
                char lpath[96], target[PATH_MAX];
                struct stat sb;
                ssize_t tl;
                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                snprintf(lpath, sizeof lpath, "%s/%s", dpath, de->d_name);
                tl = readlink(lpath, target, sizeof target - 1);
                if (tl < 0)
                        continue;
                target[tl] = '\0';
                if (mf)
                        fprintf(mf, "%s -> %s\n", de->d_name, target);
                /* only regular files (memfds included) are read: a pipe or
                 * socket would lose the bytes we read from it */
                if (stat(lpath, &sb) < 0 || !S_ISREG(sb.st_mode))
                        continue;
                int fd = open(lpath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0)
                        continue;
                struct sink sub = *k;
                snprintf(sub.base.what, sizeof sub.base.what, "%s fd %s", k->base.what, de->d_name);
                snprintf(sub.base.file, sizeof sub.base.file, "%s", target);
                char *data;
                size_t dn;
                if (read_fd_all(fd, FD_FILE_MAX, &data, &dn) == 0) {
                        sink_scan(&sub, data, dn);
                        sodium_memzero(data, dn);
                        free(data);
                }
                k->forbidden += sub.forbidden;
                k->allowed += sub.allowed;
                close(fd);
        }
        closedir(d);
        if (mf) {
                fclose(mf);
                *ret_list = list;
        }
        return 0;
}

int proc_uids(pid_t pid, uid_t *ruid, uid_t *euid, gid_t *egid) {
        char *text, *p;
        size_t n;
        unsigned a, b;
        int r = proc_read(pid, "status", 1u << 16, &text, &n);
        if (r < 0)
                return r;
        r = -EINVAL;
        if ((p = strstr(text, "\nUid:")) && sscanf(p + 5, "%u %u", &a, &b) == 2) {
                *ruid = a;
                *euid = b;
                if ((p = strstr(text, "\nGid:")) && sscanf(p + 5, "%u %u", &a, &b) == 2) {
                        *egid = b;
                        r = 0;
                }
        }
        free(text);
        return r;
}

int proc_dumpable_probe(pid_t pid) {
        uid_t ruid, euid;
        gid_t egid;
        int r, status;
        pid_t c;

        if ((r = proc_uids(pid, &ruid, &euid, &egid)) < 0)
                return r;
        if (geteuid() != 0 && geteuid() != euid)
                return -EPERM;
        c = fork();
        if (c < 0)
                return -errno;
        if (c == 0) {
                char path[64];
                if (geteuid() == 0 && euid != 0) {
                        /* become the target's ids: the kernel drops every capability */
                        if (setgroups(0, NULL) < 0 || setresgid(egid, egid, egid) < 0 ||
                            setresuid(euid, euid, euid) < 0)
                                _exit(3);
                } else {
                        /* same uid: keep the permitted set (the kernel compares it
                         * with the target's), drop every effective capability */
                        cap_t cap = cap_get_proc();
                        if (!cap || cap_clear_flag(cap, CAP_EFFECTIVE) < 0 || cap_set_proc(cap) < 0)
                                _exit(3);
                        cap_free(cap);
                }
                snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        _exit(errno == EACCES || errno == EPERM ? 1 : 2);
                char b;
                _exit(read(fd, &b, 1) >= 0 ? 0 : (errno == EACCES || errno == EPERM ? 1 : 2));
        }
        while (waitpid(c, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status))
                return -EIO;
        switch (WEXITSTATUS(status)) {
        case 0: return 1;
        case 1: return 0;
        case 3: return -EPERM;
        default: return -ESRCH;
        }
}

static uint64_t limit_value(const char *s) {
        return strncmp(s, "unlimited", 9) == 0 ? UINT64_MAX : strtoull(s, NULL, 10);
}

int proc_rlimit_core(pid_t pid, uint64_t *soft, uint64_t *hard) {
        char *text, *p, a[32], b[32];
        size_t n;
        int r = proc_read(pid, "limits", 1u << 16, &text, &n);
        if (r < 0)
                return r;
        r = -EINVAL;
        if ((p = strstr(text, "Max core file size")) && sscanf(p + 18, "%31s %31s", a, b) == 2) {
                *soft = limit_value(a);
                *hard = limit_value(b);
                r = 0;
        }
        free(text);
        return r;
}

int proc_table(struct proc_info **ret, size_t *ret_n) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        struct proc_info *v = NULL;
        size_t n = 0, cap = 0;
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char *text, *rp;
                size_t tn;
                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                pid_t pid = (pid_t)atoi(de->d_name);
                if (proc_read(pid, "stat", 4096, &text, &tn) < 0)
                        continue;
                rp = strrchr(text, ')');
                struct proc_info pi = { .pid = pid };
                char *lp = strchr(text, '(');
                int ppid;
                if (rp && lp && rp > lp && sscanf(rp + 2, "%*c %d", &ppid) == 1) {
                        size_t cl = (size_t)(rp - lp - 1);
                        if (cl >= sizeof pi.comm)
                                cl = sizeof pi.comm - 1;
                        memcpy(pi.comm, lp + 1, cl);
                        pi.ppid = ppid;
                        if (n == cap) {
                                cap = cap ? 2 * cap : 256;
                                struct proc_info *nv = realloc(v, cap * sizeof *v);
                                if (!nv) {
                                        free(text);
                                        free(v);
                                        closedir(d);
                                        return -ENOMEM;
                                }
                                v = nv;
                        }
                        v[n++] = pi;
                }
                free(text);
        }
        closedir(d);
        *ret = v;
        *ret_n = n;
        return 0;
}

static pid_t parent_of(const struct proc_info *t, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (t[i].pid == pid)
                        return t[i].ppid;
        return 0;
}

bool proc_is_descendant(const struct proc_info *t, size_t n, pid_t pid, pid_t ancestor) {
        for (int depth = 0; pid > 1 && depth < 64; depth++) {
                pid = parent_of(t, n, pid);
                if (pid == ancestor)
                        return true;
        }
        return false;
}

pid_t proc_first_child(const struct proc_info *t, size_t n, pid_t parent) {
        pid_t best = 0;
        for (size_t i = 0; i < n; i++)
                if (t[i].ppid == parent && (best == 0 || t[i].pid < best))
                        best = t[i].pid;
        return best;
}

static int read_small(const char *path, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t r = read(fd, buf, size - 1);
        close(fd);
        if (r < 0)
                return -errno;
        buf[r] = '\0';
        return 0;
}

int proc_swap_limited(pid_t pid) {
        char *text, path[PATH_MAX], a[64], b[64];
        size_t n;
        int r = proc_read(pid, "cgroup", 1u << 16, &text, &n), limited = 0;
        if (r < 0)
                return r;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *cg = c2 + 1;
                if (ctrls[0] == '\0') { /* v2 */
                        snprintf(path, sizeof path, "/sys/fs/cgroup/%s/memory.swap.max", cg);
                        if (read_small(path, a, sizeof a) == 0 && strtoull(a, NULL, 10) == 0 && a[0] == '0')
                                limited = 1;
                } else if (strstr(ctrls, "memory")) { /* v1 */
                        char p2[PATH_MAX];
                        snprintf(path, sizeof path, "/sys/fs/cgroup/memory/%s/memory.memsw.limit_in_bytes", cg);
                        snprintf(p2, sizeof p2, "/sys/fs/cgroup/memory/%s/memory.limit_in_bytes", cg);
                        /* equal and not "unlimited" (a page-rounded LONG_MAX) */
                        if (read_small(path, a, sizeof a) == 0 && read_small(p2, b, sizeof b) == 0 &&
                            strtoull(a, NULL, 10) == strtoull(b, NULL, 10) && strtoull(b, NULL, 10) < (1ull << 62))
                                limited = 1;
                }
        }
        free(text);
        return limited;
}

bool host_has_swap(void) {
        char buf[512];
        /* /proc/swaps: a header line, then one line per swap area */
        if (read_small("/proc/swaps", buf, sizeof buf) < 0)
                return true;
        char *nl = strchr(buf, '\n');
        return nl && nl[1] != '\0';
}
