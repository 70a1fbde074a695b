/* --self-test: plant a leak for every detector, on purpose, and check that each one reports it (a detector that misses fails the self-test).
 *
 * Every plant is real: a process holding a canary in its environ, argv,
 * heap and an open memfd, dumpable and with a core limit; files in /tmp and
 * /dev/shm (content and name); a log line; payload output; an audit message
 * through the relay; a sandbox-side dump holding another tenant's canary; an
 * extra fd and a swappable credentials directory seen by the payload; a
 * crash that dumps core; a unit file with a secret in Environment=; a
 * "sealrun" that refuses nothing; a mount left behind. The detectors are the
 * ones the normal run uses, writing into scratch rows; only what they found
 * is copied into the report. Nothing of sealrun is needed. */
#include "helpers/leaktest/selftest.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "helpers/leaktest/fleet.h"

enum { C_ENV, C_ARGV, C_HEAP, C_TMP, C_NAME, C_SHM, C_LOG, C_OUT, C_WIRE, C_CROSS, C_UNIT, C_CRED, C__MAX };

struct st {
        struct lt *lt;
        struct fleet *f;
        struct report scratch;
        int own, other;
        int c[C__MAX];
        pid_t holder;
        struct profile prof;
        struct cred_spec spec;
        char tmp_plant[PATH_MAX], name_plant[PATH_MAX], shm_plant[PATH_MAX];
};

/* ---- the planted process (--hold) ---- */

int hold_main(int argc, char **argv) {
        static uint8_t *volatile held;   /* a plain heap copy: dumpable, swappable */
        bool in = false, memfd = false, core = false;
        size_t n = 0;
        for (int i = 1; i < argc; i++) {
                in |= strcmp(argv[i], "--stdin") == 0;
                memfd |= strcmp(argv[i], "--memfd") == 0;
                core |= strcmp(argv[i], "--core") == 0;
        }
        if (in) {
                char *buf;
                if (read_fd_all(0, 1u << 20, &buf, &n) < 0)
                        return 1;
                held = (uint8_t *)buf;
        }
        if (memfd) {
                int fd = memfd_create("sealrun-leaktest-plant", 0);   /* kept open */
                if (fd < 0 || write_all(fd, (const void *)held, n) < 0)
                        return 1;
        }
        if (core) {
                struct rlimit rl;
                getrlimit(RLIMIT_CORE, &rl);
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_CORE, &rl);
        }
        /* no capabilities: the dumpable probe (same uid, no privilege) must
         * pass the kernel's "target's permitted caps within the reader's" test */
        if (geteuid() == 0) {
                cap_t c = cap_init();
                if (c) {
                        cap_set_proc(c);
                        cap_free(c);
                }
        }
        if (write_all(1, "ready\n", 6) < 0)
                return 1;
        for (;;)
                pause();
}

static pid_t spawn_hold(struct st *s, char *const extra[], char *const envp[], const void *in, size_t in_len) {
        int ip[2], op[2];
        char *argv[16];
        size_t n = 0;
        if (pipe2(ip, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0)
                return -1;
        argv[n++] = s->lt->self_exe;
        argv[n++] = "--hold";
        argv[n++] = "--stdin";
        argv[n++] = "--memfd";
        argv[n++] = "--core";
        for (size_t i = 0; extra[i] && n < ELEMENTSOF(argv) - 1; i++)
                argv[n++] = extra[i];
        argv[n] = NULL;
        pid_t c = fork();
        if (c < 0)
                return -1;
        if (c == 0) {
                if (dup2(ip[0], 0) < 0 || dup2(op[1], 1) < 0)
                        _exit(125);
                execve(s->lt->self_exe, argv, envp);
                _exit(127);
        }
        close(ip[0]);
        close(op[1]);
        (void)write_all(ip[1], in, in_len);
        close(ip[1]);
        struct pollfd pf = { .fd = op[0], .events = POLLIN };
        char b[8];
        if (poll(&pf, 1, 5000) <= 0 || read(op[0], b, sizeof b) <= 0) {
                kill(c, SIGKILL);
                waitpid(c, NULL, 0);
                c = -1;
        }
        close(op[0]);
        return c;
}

/* ---- bookkeeping ---- */

static size_t render(struct st *s, int which, enum lt_enc enc, uint8_t *out) {
        const struct canary *c = &s->lt->canaries[s->c[which]];
        return enc_render(enc, c->val, c->len, out);
}

/* Did the detector behind scratch row r report the plant (at pid, or in a
 * place whose file names path)? The evidence is copied into the report. */
static void expect(struct st *s, enum rid r, pid_t pid, const char *path, const char *plant) {
        struct row *d = s->f->rows[r];
        struct row *out = report_add(&s->lt->report, 13, V_FAIL, "planted %s; detector: %s", plant, d->check);
        for (size_t k = 0; k < d->n_places; k++) {
                const struct place *p = &d->places[k];
                if ((pid > 0 && p->pid != pid) || (path && !strstr(p->file, path) && !strstr(p->what, path)))
                        continue;
                row_place(out, p);
                out->v = V_PASS;
                break;
        }
        if (out->v == V_FAIL)
                row_detail(out, "MISSED: the detector did not report the planted leak (it reported %zu other place(s))", d->n_places);
}

static void not_applicable(struct st *s, const char *plant, const char *why) {
        struct row *out = report_add(&s->lt->report, 13, V_NA, "planted %s", plant);
        row_detail(out, "%s", why);
}

static void scratch_reset(struct st *s, enum rid r) {
        struct row *d = s->f->rows[r];
        free(d->places);
        d->places = NULL;
        d->n_places = 0;
        d->v = V_PASS;
}

static int write_file(const char *path, const void *data, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, len);
        close(fd);
        return r;
}

/* ---- the plants ---- */

/* One process: canary in environ (base64), argv (HEX), heap (UTF-16LE),
 * an open memfd (UTF-16LE), dumpable, core limit raised, nothing locked. */
static void plant_process(struct st *s) {
        uint8_t b64[ENC_OUT_MAX(64)], hex[ENC_OUT_MAX(64)], heap[ENC_OUT_MAX(64)];
        char env[256], arg[256];
        size_t bn = render(s, C_ENV, ENC_B64_0, b64), hn = render(s, C_ARGV, ENC_HEX_UC, hex);
        size_t mn = render(s, C_HEAP, ENC_UTF16LE, heap);
        snprintf(env, sizeof env, "LT_PLANT=%.*s", (int)bn, b64);
        snprintf(arg, sizeof arg, "%.*s", (int)hn, hex);
        char *envp[] = { env, "PATH=/usr/bin:/bin", NULL };
        char *extra[] = { arg, NULL };
        s->holder = spawn_hold(s, extra, envp, heap, mn);
        sodium_memzero(heap, sizeof heap);
        if (s->holder <= 0) {
                not_applicable(s, "a process holding canaries", "could not start the planted process");
                return;
        }
        struct fleet *f = s->f;
        struct sink k;
        struct task t = { .prof = &s->prof };
        snprintf(t.id, sizeof t.id, "self-test");

        sink_init(&k, s->lt, f->rows[R_ENV_HOST], s->holder, "environ", NULL, -1);
        proc_scan_file(&k, s->holder, "environ");
        expect(s, R_ENV_HOST, s->holder, NULL, "a process with a canary in its environment (base64)");

        sample_cmdlines(f);
        expect(s, R_CMDLINE, s->holder, NULL, "a process with a canary in its argv (HEX)");

        struct mem_stats ms;
        sink_init(&k, s->lt, f->rows[R_MEM_WORKER], s->holder, "mem", NULL, -1);
        proc_scan_mem(&k, s->holder, &ms);
        expect(s, R_MEM_WORKER, s->holder, NULL, "a process with a canary in its heap (UTF-16LE)");

        sink_init(&k, s->lt, f->rows[R_FD_HOST], s->holder, "planted", NULL, -1);
        proc_scan_fds(&k, s->holder, NULL);
        expect(s, R_FD_HOST, s->holder, NULL, "a process with a memfd holding a canary open");

        /* as if it were the decrypting process caught at "inject" */
        check_decrypter(f, &t, s->holder, false);
        expect(s, R_CORE_DD, s->holder, NULL, "plaintext in pages without MADV_DONTDUMP");
        expect(s, R_SWAP_PAGES, s->holder, NULL, "plaintext in pages that are not locked");
        struct rlimit rl;
        getrlimit(RLIMIT_CORE, &rl);
        if (rl.rlim_max == 0 && geteuid() != 0)
                not_applicable(s, "a process with a core limit", "the hard RLIMIT_CORE here is 0: it cannot be raised to plant");
        else
                expect(s, R_CORE_RLIMIT, s->holder, NULL, "a process with RLIMIT_CORE raised");
        expect(s, R_CORE_DUMPABLE, s->holder, NULL, "a dumpable process holding plaintext");

        if (getuid() == 0) {
                sample_other_uid(f, &s->holder, 1);
                expect(s, R_ENV_OTHER, s->holder, NULL, "a canary in argv, which every uid can read");
        } else {
                not_applicable(s, "a canary readable by another uid", "only root can become another uid to look");
        }
}

static void plant_files(struct st *s) {
        struct fleet *f = s->f;
        uint8_t blob[64], b64[256], name[ENC_OUT_MAX(64)], raw[ENC_OUT_MAX(64)];
        const struct canary *c = &s->lt->canaries[s->c[C_TMP]];

        /* /tmp: the canary inside a base64 blob at offset 1 (alignment +1) */
        randombytes_buf(blob, sizeof blob);
        memcpy(blob + 1, c->val, c->len);
        size_t bn = b64_encode(blob, 1 + c->len + 5, (char *)b64);
        snprintf(s->tmp_plant, sizeof s->tmp_plant, "/tmp/sealrun-leaktest-plant.XXXXXX");
        int fd = mkstemp(s->tmp_plant);
        if (fd < 0 || write_all(fd, b64, bn) < 0)
                s->tmp_plant[0] = '\0';
        if (fd >= 0)
                close(fd);
        /* a file whose name is a canary in hex */
        size_t nn = render(s, C_NAME, ENC_HEX_LC, name);
        snprintf(s->name_plant, sizeof s->name_plant, "/tmp/%.*s", (int)nn, name);
        if (write_file(s->name_plant, "x", 1) < 0)
                s->name_plant[0] = '\0';
        verdict_walk(f, R_FILE_TMP, "/tmp", s->lt->started);
        if (s->tmp_plant[0])
                expect(s, R_FILE_TMP, 0, s->tmp_plant, "a file in /tmp holding a canary (base64 at offset 1)");
        if (s->name_plant[0])
                expect(s, R_FILE_TMP, 0, s->name_plant, "a file in /tmp named after a canary (hex)");
        scratch_reset(s, R_FILE_TMP);

        size_t rn = render(s, C_SHM, ENC_RAW, raw);
        snprintf(s->shm_plant, sizeof s->shm_plant, "/dev/shm/sealrun-leaktest-plant.XXXXXX");
        fd = mkstemp(s->shm_plant);
        if (fd < 0) {
                s->shm_plant[0] = '\0';
                not_applicable(s, "a file in /dev/shm", "/dev/shm is not writable here");
        } else {
                (void)write_all(fd, raw, rn);
                close(fd);
                verdict_walk(f, R_FILE_SHM, "/dev/shm", s->lt->started);
                expect(s, R_FILE_SHM, 0, s->shm_plant, "a file in /dev/shm holding a canary (raw)");
        }

        /* a log line and payload output */
        char path[PATH_MAX], line[512];
        uint8_t url[ENC_OUT_MAX(64)], u64[ENC_OUT_MAX(64)];
        size_t un = render(s, C_LOG, ENC_URL_UC, url), un2 = render(s, C_OUT, ENC_B64URL_0, u64);
        snprintf(path, sizeof path, "%s/t/plant.err", s->lt->dir);
        int ln = snprintf(line, sizeof line, "sealrun: error: https://x.example/?token=%.*s\n", (int)un, url);
        write_file(path, line, (size_t)ln);
        verdict_scan_path(f, R_LOG_STDERR, path, "sealrun stderr");
        expect(s, R_LOG_STDERR, 0, path, "a line in sealrun's stderr holding a canary (URL-encoded)");
        snprintf(path, sizeof path, "%s/t/plant.out", s->lt->dir);
        ln = snprintf(line, sizeof line, "{\"jwt\":\"%.*s\"}\n", (int)un2, u64);
        write_file(path, line, (size_t)ln);
        verdict_scan_path(f, R_OUTPUT, path, "payload output");
        expect(s, R_OUTPUT, 0, path, "payload output holding a canary in a JWT-like field (base64url alphabet)");
}

/* An audit message with a canary, through the relay, to a stand-in collector. */
static void plant_wire(struct st *s) {
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
        int mn = snprintf(msg, sizeof msg, "{\"schema\":1,\"seq\":1,\"event\":\"launch\",\"reason\":\"%.*s\"}", (int)rn, raw);
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
                row_detail(&s->lt->report.rows[s->lt->report.n - 1], "the relay did not bring the acknowledgement back");
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
static void run_payload(struct st *s, struct task *t, const char *mode, const char *walk, const char *cwd) {
        int sp[2];
        char creds[PATH_MAX];
        snprintf(creds, sizeof creds, "%s/creds", s->lt->dir);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return;
        pid_t c = fork();
        if (c == 0) {
                int extra = fcntl(open("/dev/null", O_RDONLY), F_DUPFD, 10);   /* a stray fd: the payload must report it */
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
                        execl(s->lt->self_exe, s->lt->self_exe, "--payload", mode, "--fd", "5", "--no-proc", "--walk", walk, NULL);
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

static void plant_payload(struct st *s) {
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

        run_payload(s, &t, "probe", dir, NULL);
        verdict_task(s->f, &t);
        expect(s, R_CROSS_AB, 0, "notes.txt", "another tenant's canary (hex) readable by the payload");
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
        if (rl.rlim_max == 0 || pattern[0] == '\0' || (pattern[0] == '/' && access(pattern, F_OK) != 0 && errno != ENOENT)) {
                not_applicable(s, "a crash that dumps core", "core dumps are off on this host (hard RLIMIT_CORE 0 or empty core_pattern)");
                return;
        }
        if (pattern[0] == '/') {
                char pd[256];
                snprintf(pd, sizeof pd, "%s", pattern);
                *strrchr(pd, '/') = '\0';
                if (access(pd[0] ? pd : "/", W_OK) != 0) {
                        not_applicable(s, "a crash that dumps core", "core_pattern writes to a directory this uid cannot write");
                        return;
                }
        }
        struct task tc = { .kind = TK_CRASH, .prof = &s->prof, .tenant = "lt-a", .row = R_DELIV_CRASH, .sock = -1 };
        snprintf(tc.id, sizeof tc.id, "self-test-crash");
        snprintf(dir, sizeof dir, "%s/crash", s->lt->dir);
        mkdir(dir, 0700);
        run_payload(s, &tc, "crash", NULL, dir);
        verdict_task(s->f, &tc);
        expect(s, R_CORE_CRASH, 0, NULL, "a payload child that crashes with credentials in memory and a core limit");
        free(tc.rep);
}

static void plant_unit(struct st *s) {
        char dir[PATH_MAX], path[PATH_MAX * 2], text[512];
        uint8_t raw[ENC_OUT_MAX(64)];
        size_t rn = render(s, C_UNIT, ENC_RAW, raw);
        snprintf(dir, sizeof dir, "%s/units", s->lt->dir);
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/sealrun-pool@.service", dir);
        int n = snprintf(text, sizeof text, "[Service]\nEnvironment=LANG=C GITHUB_TOKEN=%.*s\nSetCredential=token:%.*s\n",
                         (int)rn, raw, (int)rn, raw);
        write_file(path, text, (size_t)n);
        const char *dirs[] = { dir, NULL };
        verdict_units(s->f, dirs, false);
        expect(s, R_UNITS, 0, "sealrun-pool@", "a unit with a token in Environment= and SetCredential=");
}

/* A "sealrun" that refuses nothing: the fail-closed check must say so. */
static void plant_fail_open(struct st *s) {
        char path[PATH_MAX], text[1024];
        snprintf(path, sizeof path, "%s/bin/fake-sealrun", s->lt->dir);
        int n = snprintf(text, sizeof text,
                         "#!/bin/sh\n# sealrun-leaktest --self-test: a sealrun that refuses nothing\n"
                         "while [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done\nshift\n"
                         "[ \"$1\" = /lt/sealrun-leaktest ] && shift && set -- '%s' \"$@\"\nexec \"$@\"\n",
                         s->f->payload_exe);
        if (write_file(path, text, (size_t)n) < 0 || chmod(path, 0755) < 0) {
                not_applicable(s, "a sealrun that refuses nothing", "cannot write the stand-in");
                return;
        }
        const char *real = s->lt->sealrun;
        s->lt->sealrun = path;
        size_t i = s->f->n_tasks;
        struct task *t = fleet_add_task(s->f, "self-test-fail-open", TK_REFUSE, &s->prof, "lt-a", "a", R_FC_TAMPERED, 77);
        t->key_by_fd = false;   /* no key exists here; the stand-in ignores --key */
        fleet_phase(s->f, i, i + 1);
        verdict_task(s->f, &s->f->tasks[i]);
        s->lt->sealrun = real;
        expect(s, R_FC_TAMPERED, 0, "the payload ran", "a sealrun that runs a tampered profile's payload");
}

/* A tmpfs named like a credential area left mounted: in a mount namespace of
 * our own (never the host's), seen by the same mountinfo comparison. */
static void plant_mount(struct st *s) {
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

int self_test_run(struct lt *lt) {
        static struct fleet f;
        static struct st s;
        static const char *const names[C__MAX] = { "env", "argv", "heap", "tmp", "name", "shm", "log", "out", "wire", "cross", "unit", "github_token" };

        memset(&f, 0, sizeof f);
        memset(&s, 0, sizeof s);
        f.lt = lt;
        f.proxy.listen_fd = -1;
        s.lt = lt;
        s.f = &f;
        fleet_rows(&f, &s.scratch);
        if (setup_dir(&f) < 0) {
                fprintf(stderr, "sealrun-leaktest: cannot prepare the self-test directory: %s\n", strerror(errno));
                return 2;
        }
        lt->started = time(NULL) - 1;
        s.own = lt_owner_new(lt, "plant", "lt-a");
        s.other = lt_owner_new(lt, "other", "lt-b");
        for (int i = 0; i < C__MAX; i++)
                s.c[i] = lt_canary_new(lt, i == C_CROSS ? s.other : s.own, names[i], false);
        s.spec = (struct cred_spec){ "github_token", "file", NULL, false, true };
        s.prof = (struct profile){ .owner = s.own, .specs = &s.spec, .n = 1, .canary = { s.c[C_CRED] } };
        snprintf(s.prof.name, sizeof s.prof.name, "plant");
        snprintf(s.prof.tenant, sizeof s.prof.tenant, "lt-a");
        for (int i = 0; i < C__MAX; i++)
                if (s.c[i] < 0)
                        return 2;
        if (lt_scanner_build(lt) < 0)
                return 2;

        plant_process(&s);
        plant_files(&s);
        plant_wire(&s);
        plant_payload(&s);
        plant_unit(&s);
        plant_fail_open(&s);
        plant_mount(&s);

        if (s.holder > 0) {
                kill(s.holder, SIGKILL);
                waitpid(s.holder, NULL, 0);
        }
        const char *plants[] = { s.tmp_plant, s.name_plant, s.shm_plant };
        for (size_t i = 0; i < ELEMENTSOF(plants); i++)
                if (plants[i][0])
                        unlink(plants[i]);
        for (size_t i = 0; i < f.n_tasks; i++)
                free(f.tasks[i].rep);
        report_free(&s.scratch);
        return 0;
}
