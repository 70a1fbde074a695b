/* --self-test: plant a leak for every detector, on purpose, and check that each one reports it (a detector that misses
 * fails the self-test).
 *
 * Every plant is real: a process holding a canary in its environ, argv,
 * heap and an open memfd, dumpable and with a core limit; files in /tmp and
 * /dev/shm (content and name); a log line; payload output; an audit message
 * through the relay; a sandbox-side dump holding another tenant's canary; an
 * extra fd and a swappable credentials directory seen by the payload; a
 * crash that dumps core; a unit file with a secret in Environment=; a
 * "sealrun" that refuses nothing; a mount left behind; requests that reach the
 * bound TLS server without a broker (selftest_egress.c). The detectors are the
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

#include "helpers/leaktest/plant.h"

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

size_t render(struct st *s, int which, enum lt_enc enc, uint8_t *out) {
        const struct canary *c = &s->lt->canaries[s->c[which]];
        return enc_render(enc, c->val, c->len, out);
}

/* Did the detector behind scratch row r report the plant (at pid, or in a
 * place whose file names path)? The evidence is copied into the report. */
void expect(struct st *s, enum rid r, pid_t pid, const char *path, const char *plant) {
        struct row *d = s->f->rows[r];
        struct row *out = report_add(&s->lt->report, 13, V_FAIL, "planted %s; detector: %s", plant, d->check);
        char id[64];
        snprintf(id, sizeof id, "self-test.%s", d->id);
        row_id(&s->lt->report, out, id);
        for (size_t k = 0; k < d->n_places; k++) {
                const struct place *p = &d->places[k];
                if ((pid > 0 && p->pid != pid) || (path && !strstr(p->file, path) && !strstr(p->what, path)))
                        continue;
                row_place(out, p);
                out->v = V_PASS;
                break;
        }
        if (out->v == V_FAIL)
                row_detail(out, "MISSED: the detector did not report the planted leak (it reported %zu other place(s))",
                           d->n_places);
}

void not_applicable(struct st *s, const char *plant, const char *why) {
        struct row *out = report_add(&s->lt->report, 13, V_NA, "planted %s", plant);
        /* no detector ran: the id comes from the plant's words */
        char id[64] = "self-test.";
        size_t o = strlen(id);
        for (const char *c = plant; *c && o + 1 < 48; c++) {
                char ch = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
                if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
                        id[o++] = ch;
                else if (o > 0 && id[o - 1] != '-' && id[o - 1] != '.')
                        id[o++] = '-';
        }
        while (o > 0 && id[o - 1] == '-')
                o--;
        id[o] = 0;
        row_id(&s->lt->report, out, id);
        row_detail(out, "%s", why);
}

void scratch_reset(struct st *s, enum rid r) {
        struct row *d = s->f->rows[r];
        free(d->places);
        d->places = NULL;
        d->n_places = 0;
        d->v = V_PASS;
}

int write_file(const char *path, const void *data, size_t len) {
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
                not_applicable(s, "a process with a core limit",
                               "the hard RLIMIT_CORE here is 0: it cannot be raised to plant");
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

int self_test_run(struct lt *lt) {
        static struct fleet f;
        static struct st s;
        static const char *const names[C__MAX] = { "env", "argv", "heap", "tmp",   "name", "shm",
                                                   "log", "out",  "wire", "cross", "unit", "github_token" };

        memset(&f, 0, sizeof f);
        memset(&s, 0, sizeof s);
        f.lt = lt;
        f.proxy.listen_fd = -1;
        f.srv = (struct tls_srv){ .listen_fd = -1, .rec_fd = -1, .stop_fd = -1 };
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
        s.spec = (struct cred_spec){ "github_token", "file", NULL, false, true, NULL };
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
        plant_egress(&s);

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
