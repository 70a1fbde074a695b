/* sealrun-leaktest: the credential leak smoke test (command line, the normal run, the report). */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers/leaktest/fleet.h"
#include "helpers/leaktest/selftest.h"

static void usage(FILE *f) {
        fputs("usage: sealrun-leaktest [--json] [--junit FILE] [--keep] [--self-test] [--sealrun PATH]\n"
              "  Seals random canary credentials for two tenants, runs a small fleet through the\n"
              "  real sealrun with its own sealrun-auditd, and looks for every canary (raw, base64,\n"
              "  hex, URL-encoded, UTF-16LE) wherever it must not be: one row per vector and check.\n"
              "  --json        the report as JSON (rows keyed by stable ids, a \"meta\" block)\n"
              "  --junit FILE  also write the report as JUnit XML to FILE (one testcase per row)\n"
              "  --keep        keep the run's directory (keys, sealed profiles, outputs, audit files)\n"
              "  --self-test   plant a leak for each detector and check that every one reports it\n"
              "  --sealrun P   the sealrun to test (default: next to this program); sealctl and\n"
              "                sealrun-auditd are taken from the same directory\n"
              "Exit: 0 every row passed, 1 a row failed (or, with --self-test, a detector missed),\n"
              "2 bad usage.\n",
              f);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *dir) {
        if (dir[0])
                nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static bool executable(const char *path) {
        return access(path, X_OK) == 0;
}

/* The JUnit file leaves the host like stdout does: scanned first. */
static int write_junit(struct lt *lt, const char *path) {
        char *text = NULL;
        size_t tlen = 0;
        FILE *m = open_memstream(&text, &tlen), *out;
        int fd;
        if (!m)
                return -ENOMEM;
        report_print_junit(m, &lt->report);
        fclose(m);
        if (lt->scanner_ready && scan_buffer(&lt->scanner, (const uint8_t *)text, tlen, 0, NULL, NULL) > 0) {
                fputs("sealrun-leaktest: internal error: the JUnit report would hold a canary; it is not written\n",
                      stderr);
                free(text);
                return -EIO;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        out = fd >= 0 ? fdopen(fd, "we") : NULL;
        if (!out || fwrite(text, 1, tlen, out) != tlen || fclose(out) != 0) {
                fprintf(stderr, "sealrun-leaktest: --junit %s: cannot write: %s\n", path, strerror(errno));
                if (!out && fd >= 0)
                        close(fd);
                free(text);
                return -EIO;
        }
        free(text);
        return 0;
}

static int normal_run(struct lt *lt) {
        static struct fleet f;
        char *mi;
        size_t mn;
        int r;

        memset(&f, 0, sizeof f);
        f.lt = lt;
        f.proxy.listen_fd = -1;
        f.srv.listen_fd = f.srv.rec_fd = f.srv.stop_fd = -1;
        fleet_rows(&f, &lt->report);
        if ((r = setup_dir(&f)) < 0) {
                fprintf(stderr, "sealrun-leaktest: cannot prepare the run's directory: %s\n", strerror(-r));
                return 2;
        }
        if (proc_read(getpid(), "mountinfo", sizeof f.mounts_before - 1, &mi, &mn) == 0) {
                memcpy(f.mounts_before, mi, mn + 1);
                free(mi);
        }
        lt->started = time(NULL) - 1;

        static const char *const tools[3] = { "sealrun", "sealctl", "sealrun-auditd" };
        const char *paths[3] = { lt->sealrun, lt->sealctl, lt->auditd };
        bool missing = false;
        for (size_t i = 0; i < 3; i++)
                if (!executable(paths[i])) {
                        why_not(&f, i == 2 ? R_AUDITD : R_SETUP, "%s is missing: %s", tools[i], paths[i]);
                        missing |= i < 2;
                }
        r = setup_profiles(&f);
        if (r == 0 && !missing)
                mark(&f, R_SETUP);
        else
                why_not(&f, R_SETUP,
                        "sealctl could not make the keys or seal the profiles (its output: tools.log, with --keep)");
        if (setup_policy(&f) < 0)
                why_not(&f, R_SETUP, "cannot write the policy");
        else
                meta_policy(&lt->report.meta,
                            "built-in: stock default mounts, the probe bound at /lt, env delivery allowed, "
                            "scope ceiling read:model:*",
                            f.policy);
        if (setup_auditd(&f) == 0)
                mark(&f, R_AUDITD);
        else
                why_not(&f, R_AUDITD, "sealrun-auditd did not start listening on %s", f.collector);

        fleet_run(&f);
        setup_stop_auditd(&f);

        verdict_tasks(&f);
        for (size_t i = 0; i < f.n_tasks; i++)
                if (f.tasks[i].proxy)
                        verdict_egress(&f, &f.tasks[i]);
        verdict_files(&f);
        verdict_logs(&f);
        static const char *const unit_dirs[] = { "/etc/systemd/system",           "/run/systemd/system",
                                                 "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
                                                 "/lib/systemd/system",           NULL };
        verdict_units(&f, unit_dirs, true);
        verdict_finish(&f);
        for (size_t i = 0; i < f.n_tasks; i++)
                free(f.tasks[i].rep);
        tls_srv_stop(&f.srv);
        free(f.srv.recs);
        tls_pki_free(&f.pki);
        return 0;
}

int main(int argc, char **argv) {
        static struct lt lt;
        const char *sealrun = NULL, *junit = NULL;
        bool self_test = false;
        char dir[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX];
        int r;

        /* the internal modes: the payload, the worker, a planted leak */
        if (argc > 1 && strcmp(argv[1], "--payload") == 0)
                return sodium_init() < 0 ? 1 : payload_main(argc - 1, argv + 1);
        if (argc > 1 && strcmp(argv[1], "--worker") == 0)
                return worker_main(argc - 1, argv + 1);
        if (argc > 1 && strcmp(argv[1], "--hold") == 0)
                return hold_main(argc - 1, argv + 1);

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        lt.json = true;
                else if (strcmp(argv[i], "--keep") == 0)
                        lt.keep = true;
                else if (strcmp(argv[i], "--self-test") == 0)
                        self_test = true;
                else if (strcmp(argv[i], "--sealrun") == 0 && i + 1 < argc)
                        sealrun = argv[++i];
                else if (strcmp(argv[i], "--junit") == 0 && i + 1 < argc && argv[i + 1][0])
                        junit = argv[++i];
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        usage(stdout);
                        return 0;
                } else if (strcmp(argv[i], "--version") == 0) {
                        printf("sealrun-leaktest %s\n", SEALRUN_VERSION);
                        return 0;
                } else {
                        fprintf(stderr, "sealrun-leaktest: %s: unknown option or missing value (see --help)\n",
                                argv[i]);
                        return 2;
                }
        }
        if (sodium_init() < 0) {
                fputs("sealrun-leaktest: libsodium cannot initialise\n", stderr);
                return 2;
        }
        ssize_t n = readlink("/proc/self/exe", lt.self_exe, sizeof lt.self_exe - 1);
        if (n <= 0) {
                fputs("sealrun-leaktest: cannot find its own executable\n", stderr);
                return 2;
        }
        lt.self_exe[n] = '\0';
        /* the tools under test: next to sealrun (given) or next to us */
        if (sealrun) {
                if (!realpath(sealrun, dir)) {
                        fprintf(stderr, "sealrun-leaktest: --sealrun %s: %s\n", sealrun, strerror(errno));
                        return 2;
                }
        } else {
                snprintf(p1, sizeof p1, "%s", lt.self_exe);
                *strrchr(p1, '/') = '\0';
                snprintf(dir, sizeof dir, "%s/sealrun", p1);
        }
        snprintf(p1, sizeof p1, "%s", dir);
        *strrchr(dir, '/') = '\0';
        snprintf(p2, sizeof p2, "%s/sealctl", dir);
        snprintf(p3, sizeof p3, "%s/sealrun-auditd", dir);
        lt.sealrun = p1;
        lt.sealctl = p2;
        lt.auditd = p3;
        signal(SIGPIPE, SIG_IGN);
        lt.report.mode = self_test ? "self-test" : "run";
        meta_time(&lt.report.meta, 0);
        meta_host(&lt.report.meta, self_test ? NULL : lt.sealrun);
        if (self_test)
                snprintf(lt.report.meta.policy, sizeof lt.report.meta.policy,
                         "none (self-test: planted leaks, no sealrun)");

        r = self_test ? self_test_run(&lt) : normal_run(&lt);
        meta_time(&lt.report.meta, 1);
        if (r == 2) {
                remove_tree(lt.dir);
                return 2;
        }
        /* the report itself is scanned before it leaves: it names places,
         * and must never carry what it found */
        char *text = NULL;
        size_t tlen = 0;
        lt_redact_report(&lt, &lt.report);
        lt.report.sealrun = self_test ? NULL : lt.sealrun;
        lt.report.canaries = lt.n_canaries;
        lt.report.patterns = lt.scanner_ready ? lt.scanner.n_pats : 0;
        FILE *m = open_memstream(&text, &tlen);
        if (!m)
                return 2;
        if (lt.json)
                report_print_json(m, &lt.report);
        else
                report_print_table(m, &lt.report);
        fclose(m);
        if (lt.scanner_ready && scan_buffer(&lt.scanner, (const uint8_t *)text, tlen, 0, NULL, NULL) > 0) {
                fputs("sealrun-leaktest: internal error: the report would hold a canary; it is not printed\n", stderr);
                remove_tree(lt.dir);
                return 2;
        }
        if (junit && write_junit(&lt, junit) < 0) {
                free(text);
                remove_tree(lt.dir);
                return 2;
        }
        fwrite(text, 1, tlen, stdout);
        free(text);
        size_t failed = report_failed(&lt.report);
        if (self_test && failed)
                fprintf(stderr,
                        "sealrun-leaktest: SELF-TEST FAILED: %zu detector(s) missed a planted leak; "
                        "a normal run cannot be trusted on this host\n",
                        failed);
        if (lt.keep && lt.dir[0])
                fprintf(stderr, "sealrun-leaktest: kept %s\n", lt.dir);
        else
                remove_tree(lt.dir);
        lt_free(&lt);
        return failed ? 1 : 0;
}
