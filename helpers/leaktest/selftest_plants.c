/* Self-test plants that need more than a file: an audit message through the relay, the payload run on the host, a
 * crash, a unit file, a sealrun that refuses nothing, a mount left behind. */
#include "helpers/leaktest/plant.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

/* An audit message with a canary, through the relay, to a stand-in collector. */
void plant_wire(struct st *s) {
        struct fleet *f = s->f;
        struct sockaddr_un up = { .sun_family = AF_UNIX }, px = { .sun_family = AF_UNIX };
        snprintf(up.sun_path, sizeof up.sun_path, "%s/a/up.sock", s->lt->dir);
        snprintf(px.sun_path, sizeof px.sun_path, "%s/a/px.sock", s->lt->dir);
        int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), cl = -1, srv = -1;
        bool acked = false;
        if (l < 0 || bind(l, (struct sockaddr *)&up, sizeof up) < 0 || listen(l, 4) < 0 ||
            proxy_open(&f->proxy, px.sun_path, up.sun_path) < 0) {
                not_applicable(s, "an audit message through the relay", "cannot create the sockets");
                goto out;
        }
        f->proxy.on_event = fleet_on_event;
        f->proxy.ud = f;
        cl = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (cl < 0 || connect(cl, (struct sockaddr *)&px, sizeof px) < 0)
                goto out;
        uint8_t raw[ENC_OUT_MAX(64)];
        char msg[256];
        size_t rn = render(s, C_WIRE, ENC_RAW, raw);
        int mn = snprintf(msg, sizeof msg, "{\"schema\":1,\"seq\":1,\"event\":\"launch\",\"reason\":\"%.*s\"}", (int)rn,
                          raw);
        if (send(cl, msg, (size_t)mn, 0) < 0)
                goto out;
        for (int64_t until = now_ms() + 3000; now_ms() < until && !acked;) {
                struct pollfd fds[72];
                size_t n = proxy_pollfds(&f->proxy, fds, 64);
                fds[n++] = (struct pollfd){ .fd = srv >= 0 ? srv : l, .events = POLLIN };
                fds[n++] = (struct pollfd){ .fd = cl, .events = POLLIN };
                if (poll(fds, n, 50) <= 0)
                        continue;
                proxy_handle(&f->proxy, fds, n - 2);
                if (fds[n - 2].revents && srv < 0)
                        srv = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                else if (fds[n - 2].revents && srv >= 0) {
                        char b[512];
                        if (recv(srv, b, sizeof b, 0) > 0)
                                send(srv, "{\"schema\":1,\"seq\":1,\"status\":\"ok\",\"line\":1}", 42, 0);
                }
                if (fds[n - 1].revents) {
                        char b[512];
                        acked = recv(cl, b, sizeof b, 0) > 0;
                }
        }
        expect(s, R_LOG_WIRE, 0, NULL, "an audit message holding a canary (raw), relayed to the collector");
        if (!acked)
                row_detail(&s->lt->report.rows[s->lt->report.n - 1],
                           "the relay did not bring the acknowledgement back");
out:
        proxy_close(&f->proxy);
        if (cl >= 0)
                close(cl);
        if (srv >= 0)
                close(srv);
        if (l >= 0)
                close(l);
}

/* The payload run on the host (no sandbox): what it reports and dumps goes
 * through the same parser and checks as in the fleet. */
static void run_payload(struct st *s, struct task *t, const char *mode, const char *walk, const char *try_path,
                        const char *cwd) {
        int sp[2];
        char creds[PATH_MAX];
        snprintf(creds, sizeof creds, "%s/creds", s->lt->dir);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return;
        pid_t c = fork();
        if (c == 0) {
                int extra =
                        fcntl(open("/dev/null", O_RDONLY), F_DUPFD, 10); /* a stray fd: the payload must report it */
                if (dup2(sp[1], 5) < 0 || (extra >= 0 && dup2(extra, 7) < 0) || (cwd && chdir(cwd) < 0))
                        _exit(125);
                close_range(8, ~0u, 0);
                int dn = open("/dev/null", O_RDWR);
                dup2(dn, 0);
                dup2(dn, 1);
                struct rlimit rl;
                getrlimit(RLIMIT_CORE, &rl);
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_CORE, &rl);
                setenv("CREDENTIALS_DIRECTORY", creds, 1);
                if (walk)
                        execl(s->lt->self_exe, s->lt->self_exe, "--payload", mode, "--fd", "5", "--no-proc", "--walk",
                              walk, "--try", try_path, NULL);
                else
                        execl(s->lt->self_exe, s->lt->self_exe, "--payload", mode, "--fd", "5", NULL);
                _exit(127);
        }
        close(sp[1]);
        t->sock = sp[0];
        fcntl(t->sock, F_SETFL, O_NONBLOCK);
        for (int64_t until = now_ms() + 10000; t->sock >= 0 && now_ms() < until;) {
                struct pollfd pf = { .fd = t->sock, .events = POLLIN };
                poll(&pf, 1, 100);
                fleet_read_payload(s->f, t);
                if (t->dump_done && t->sock >= 0)
                        shutdown(t->sock, SHUT_WR);
        }
        if (t->sock >= 0)
                close(t->sock);
        t->sock = -1;
        int st;
        if (c > 0 && waitpid(c, &st, 0) == c) {
                t->exited = true;
                t->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (t->fstream.carry)
                scan_stream_free(&t->fstream);
}

void plant_payload(struct st *s) {
        char dir[PATH_MAX], path[PATH_MAX * 2];
        uint8_t hex[ENC_OUT_MAX(64)];
        const struct canary *cred = &s->lt->canaries[s->c[C_CRED]];
        struct task t = { .kind = TK_PROBE, .prof = &s->prof, .tenant = "lt-a", .row = R_DELIV_A, .sock = -1 };
        snprintf(t.id, sizeof t.id, "self-test-payload");
        snprintf(dir, sizeof dir, "%s/creds", s->lt->dir);
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/github_token", dir);
        write_file(path, cred->val, cred->len);
        snprintf(dir, sizeof dir, "%s/sandbox", s->lt->dir);
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/notes.txt", dir);
        size_t hn = render(s, C_CROSS, ENC_HEX_LC, hex);
        write_file(path, hex, hn);

        /* a file the payload must not reach, given by its host path (as the other tenant's key is) */
        char other_key[PATH_MAX * 2];
        snprintf(other_key, sizeof other_key, "%s/k/other-pool.key", s->lt->dir);
        write_file(other_key, "not a canary", 12);
        run_payload(s, &t, "probe", dir, other_key, NULL);
        verdict_task(s->f, &t);
        expect(s, R_CROSS_AB, 0, "notes.txt", "another tenant's canary (hex) readable by the payload");
        expect(s, R_CROSS_AB, 0, "other-pool.key", "the other tenant's key file reachable by its host path");
        expect(s, R_FD_PAYLOAD, 0, "fd 7", "an extra fd open in the payload");
        expect(s, R_SWAP_CREDSDIR, 0, NULL, "a credentials directory on a swappable filesystem");
        free(t.rep);

        /* a crash that dumps core (core_pattern is the host's: never changed) */
        char pattern[256] = "";
        int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, pattern, sizeof pattern - 1);
                pattern[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        struct rlimit rl;
        getrlimit(RLIMIT_CORE, &rl);
        if (pattern[0] == '|') {
                not_applicable(s, "a crash that dumps core",
                               "the host pipes core dumps to a helper: a planted crash would leave a core with it");
                return;
        }
        if (rl.rlim_max == 0 || pattern[0] == '\0' ||
            (pattern[0] == '/' && access(pattern, F_OK) != 0 && errno != ENOENT)) {
                not_applicable(s, "a crash that dumps core",
                               "core dumps are off on this host (hard RLIMIT_CORE 0 or empty core_pattern)");
                return;
        }
        if (pattern[0] == '/') {
                char pd[256];
                snprintf(pd, sizeof pd, "%s", pattern);
                *strrchr(pd, '/') = '\0';
                if (access(pd[0] ? pd : "/", W_OK) != 0) {
                        not_applicable(s, "a crash that dumps core",
                                       "core_pattern writes to a directory this uid cannot write");
                        return;
                }
        }
        struct task tc = { .kind = TK_CRASH, .prof = &s->prof, .tenant = "lt-a", .row = R_DELIV_CRASH, .sock = -1 };
        snprintf(tc.id, sizeof tc.id, "self-test-crash");
        snprintf(dir, sizeof dir, "%s/crash", s->lt->dir);
        mkdir(dir, 0700);
        run_payload(s, &tc, "crash", NULL, NULL, dir);
        verdict_task(s->f, &tc);
        expect(s, R_CORE_CRASH, 0, NULL, "a payload child that crashes with credentials in memory and a core limit");
        free(tc.rep);
}

void plant_unit(struct st *s) {
        char dir[PATH_MAX], path[PATH_MAX * 2], text[512];
        uint8_t raw[ENC_OUT_MAX(64)];
        size_t rn = render(s, C_UNIT, ENC_RAW, raw);
        snprintf(dir, sizeof dir, "%s/units", s->lt->dir);
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/sealrun-pool@.service", dir);
        int n = snprintf(text, sizeof text,
                         "[Service]\nEnvironment=LANG=C GITHUB_TOKEN=%.*s\nSetCredential=token:%.*s\n", (int)rn, raw,
                         (int)rn, raw);
        write_file(path, text, (size_t)n);
        const char *dirs[] = { dir, NULL };
        verdict_units(s->f, dirs, false);
        expect(s, R_UNITS, 0, "sealrun-pool@", "a unit with a token in Environment= and SetCredential=");
}

/* A "sealrun" that refuses nothing: the fail-closed check must say so. */
void plant_fail_open(struct st *s) {
        char path[PATH_MAX], text[1024];
        snprintf(path, sizeof path, "%s/bin/fake-sealrun", s->lt->dir);
        int n = snprintf(text, sizeof text,
                         "#!/bin/sh\n# sealrun-leaktest --self-test: a sealrun that refuses nothing\n"
                         "while [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done\nshift\n"
                         "[ \"$1\" = '%s' ] && shift && set -- '%s' \"$@\"\nexec \"$@\"\n",
                         s->f->payload_in, s->f->payload_exe);
        if (write_file(path, text, (size_t)n) < 0 || chmod(path, 0755) < 0) {
                not_applicable(s, "a sealrun that refuses nothing", "cannot write the stand-in");
                return;
        }
        const char *real = s->lt->sealrun;
        s->lt->sealrun = path;
        size_t i = s->f->n_tasks;
        struct task *t =
                fleet_add_task(s->f, "self-test-fail-open", TK_REFUSE, &s->prof, "lt-a", "a", R_FC_TAMPERED, 77);
        t->key_by_fd = false; /* no key exists here; the stand-in ignores --key */
        fleet_phase(s->f, i, i + 1);
        verdict_task(s->f, &s->f->tasks[i]);
        s->lt->sealrun = real;
        expect(s, R_FC_TAMPERED, 0, "the payload ran", "a sealrun that runs a tampered profile's payload");
}

/* A tmpfs named like a credential area left mounted: in a mount namespace of
 * our own (never the host's), seen by the same mountinfo comparison. */
void plant_mount(struct st *s) {
        char mp[PATH_MAX];
        int p[2];
        snprintf(mp, sizeof mp, "%s/credentials-plant", s->lt->dir);
        if (mkdir(mp, 0700) < 0 || pipe(p) < 0)
                return;
        uid_t uid = getuid();
        gid_t gid = getgid();
        pid_t c = fork();
        if (c == 0) {
                char *before, *after, map[64];
                size_t n;
                close(p[0]);
                if (uid != 0) {
                        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                                _exit(3);
                        int fd = open("/proc/self/setgroups", O_WRONLY);
                        if (fd >= 0) {
                                (void)write_all(fd, "deny", 4);
                                close(fd);
                        }
                        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
                        fd = open("/proc/self/uid_map", O_WRONLY);
                        if (fd < 0 || write_all(fd, map, strlen(map)) < 0)
                                _exit(3);
                        close(fd);
                        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
                        fd = open("/proc/self/gid_map", O_WRONLY);
                        if (fd < 0 || write_all(fd, map, strlen(map)) < 0)
                                _exit(3);
                        close(fd);
                } else if (unshare(CLONE_NEWNS) < 0) {
                        _exit(3);
                }
                /* private first: nothing we mount may propagate to the host */
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(3);
                if (proc_read(getpid(), "mountinfo", 1u << 20, &before, &n) < 0)
                        _exit(3);
                if (mount("tmpfs", mp, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") < 0)
                        _exit(3);
                if (proc_read(getpid(), "mountinfo", 1u << 20, &after, &n) < 0)
                        _exit(3);
                verdict_mounts(s->f, before, after);
                struct row *r = s->f->rows[R_FILE_MOUNTS];
                for (size_t i = 0; i < r->n_places; i++)
                        (void)write_all(p[1], &r->places[i], sizeof r->places[i]);
                _exit(0);
        }
        close(p[1]);
        struct place pl;
        while (c > 0 && read(p[0], &pl, sizeof pl) == sizeof pl)
                row_fail_place(s->f->rows[R_FILE_MOUNTS], &pl);
        close(p[0]);
        int st = 0;
        if (c > 0)
                waitpid(c, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
                not_applicable(s, "a mount left behind", "no mount namespace of our own here (user namespaces off?)");
        else
                expect(s, R_FILE_MOUNTS, 0, "credentials-plant", "a tmpfs left mounted at .../credentials-plant");
        rmdir(mp);
}
