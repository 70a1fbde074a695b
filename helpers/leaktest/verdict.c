/* What is checked once every task ended: deliveries, refusals, files, logs, leftover mounts, and the final verdict of
 * each row. */
#include "helpers/leaktest/fleet.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

static void fail(struct fleet *f, enum rid r, pid_t pid, const char *file, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static void fail(struct fleet *f, enum rid r, pid_t pid, const char *file, const char *fmt, ...) {
        struct place p = { .pid = pid, .offset = -1 };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p.what, sizeof p.what, fmt, ap);
        va_end(ap);
        if (file)
                snprintf(p.file, sizeof p.file, "%s", file);
        row_fail_place(f->rows[r], &p);
}

static void canary_hash(const struct canary *c, char hex[65]) {
        uint8_t h[32];
        crypto_generichash(h, sizeof h, c->val, c->len, NULL, 0);
        sodium_bin2hex(hex, 65, h, sizeof h);
}

/* The payload's "file NAME HASH" / "env NAME HASH" for name: 0 absent, 1 same value, 2 another value. */
static int reported(const struct task *t, const char *kind, const char *name, const char *hex) {
        size_t kl = strlen(kind), nl = strlen(name);
        for (const char *l = t->rep; l && *l;) {
                const char *e = strchr(l, '\n');
                size_t ll = e ? (size_t)(e - l) : strlen(l);
                if (ll > kl + nl + 2 && strncmp(l, kind, kl) == 0 && l[kl] == ' ' &&
                    strncmp(l + kl + 1, name, nl) == 0 && l[kl + 1 + nl] == ' ')
                        return strncmp(l + kl + 2 + nl, hex, 64) == 0 ? 1 : 2;
                l = e ? e + 1 : l + ll;
        }
        return 0;
}

static bool file_empty(const char *path) {
        struct stat sb;
        return stat(path, &sb) == 0 && sb.st_size == 0;
}

/* The payload's "placeholder file|env NAME" line. */
static bool placeholder(const struct task *t, const char *kind, const char *name) {
        char want[320];
        snprintf(want, sizeof want, "placeholder %s %s\n", kind, name);
        return t->rep && strstr(t->rep, want) != NULL;
}

static void delivery(struct fleet *f, struct task *t) {
        const struct profile *p = t->prof;
        for (size_t i = 0; i < p->n; i++) {
                const struct cred_spec *s = &p->specs[i];
                char hex[65];
                bool want_file = s->granted && strcmp(s->as, "env") != 0;
                bool want_env = s->granted && strcmp(s->as, "file") != 0;
                canary_hash(&f->lt->canaries[p->canary[i]], hex);
                int gf = reported(t, "file", s->name, hex), ge = reported(t, "env", s->name, hex);
                if (s->bind && s->granted) {
                        /* brokered: a value other than the sealed one, and a placeholder */
                        if (want_file && (gf != 2 || !placeholder(t, "file", s->name)))
                                fail(f, t->row, 0, NULL, "%s: %s", s->name,
                                     gf == 1 ? "the bound value itself was staged as a file"
                                             : "no placeholder in the credentials directory");
                        if (want_env && (ge != 2 || !placeholder(t, "env", s->name)))
                                fail(f, t->row, 0, NULL, "%s: %s", s->name,
                                     ge == 1 ? "the bound value itself is in the environment"
                                             : "no placeholder in the environment");
                        continue;
                }
                if (!s->granted) {
                        if (gf || ge)
                                fail(f, R_CROSS_SCOPE, 0, NULL,
                                     "task %s: %s (scope %s, not granted) was delivered as %s", t->id, s->name,
                                     s->scope, gf ? "a file" : "an env variable");
                        continue;
                }
                if (want_file && gf != 1)
                        fail(f, t->row, 0, NULL, "%s: %s", s->name,
                             gf == 2 ? "the file's content differs from the sealed value"
                                     : "not in the credentials directory");
                if (want_env && ge != 1)
                        fail(f, t->row, 0, NULL, "%s: %s", s->name,
                             ge == 2 ? "the env variable differs from the sealed value" : "not in the environment");
                if (!want_file && gf)
                        fail(f, t->row, 0, NULL, "%s: sealed as=%s, but a file was staged", s->name, s->as);
                if (!want_env && ge)
                        fail(f, t->row, 0, NULL,
                             "%s: sealed as=%s, but it is in the environment (readable through /proc/PID/environ)",
                             s->name, s->as);
        }
}

/* Report lines about the payload itself: fds, credentials mount, crash. */
static void payload_lines(struct fleet *f, struct task *t) {
        bool creds_mount = false, child = false;
        for (char *l = t->rep; l && *l;) {
                char *e = strchr(l, '\n'), a[512], b[512], c[512], d[512];
                int n1, n2;
                if (e)
                        *e = '\0';
                if (sscanf(l, "fd %d %511s", &n1, a) == 2) {
                        if (n1 > 2 && n1 != 5)
                                fail(f, R_FD_PAYLOAD, 0, NULL, "payload of %s: fd %d -> %s", t->id, n1, a);
                } else if (sscanf(l, "credsmount %511s %511s %511s %511s", a, b, c, d) >= 3) {
                        creds_mount = true;
                        bool noswap = strcmp(b, "ramfs") == 0 || (strcmp(b, "tmpfs") == 0 && strstr(d, "noswap"));
                        if (!noswap)
                                fail(f, R_SWAP_CREDSDIR, 0, a,
                                     "task %s: credentials directory on %s (%s), pages can be swapped out", t->id, b,
                                     d);
                } else if (sscanf(l, "crash_child signal %d core %d", &n1, &n2) == 2) {
                        child = true;
                        if (n2)
                                fail(f, R_CORE_CRASH, 0, NULL,
                                     "task %s: a crashing child of the payload dumped core (signal %d)", t->id, n1);
                } else if (sscanf(l, "core_file %511s", a) == 1) {
                        fail(f, R_CORE_CRASH, 0, a, "task %s: core file inside the sandbox", t->id);
                } else if (sscanf(l, "try %511s %d", a, &n1) == 2) {
                        /* the other tenant's sealed profile and pool key, by their host paths */
                        if (n1 == 0)
                                fail(f, strcmp(t->tenant, "lt-a") == 0 ? R_CROSS_AB : R_CROSS_BA, 0, a,
                                     "task %s: the payload could read the other tenant's file", t->id);
                } else if (sscanf(l, "rlimit_core %511s %511s", a, b) == 2 && t->kind == TK_CRASH) {
                        note(f, R_CORE_CRASH, "payload RLIMIT_CORE soft %s hard %s", a, b);
                }
                if (e)
                        *e = '\n';
                l = e ? e + 1 : l + strlen(l);
        }
        mark(f, R_FD_PAYLOAD);
        if (creds_mount)
                mark(f, R_SWAP_CREDSDIR);
        else
                why_not(f, R_SWAP_CREDSDIR, "no credentials directory mount was seen inside the sandbox");
        if (t->kind == TK_CRASH) {
                if (!child)
                        why_not(f, R_CORE_CRASH, "the crash payload did not report");
                else
                        mark(f, R_CORE_CRASH);
                if (t->exit_code != 128 + 11)
                        fail(f, R_CORE_CRASH, t->supervisor, NULL,
                             "task %s: the payload did not crash after injection (sealrun exit %d)", t->id,
                             t->exit_code);
        }
}

void verdict_task(struct fleet *f, struct task *t) {
        if (t->kind == TK_REFUSE) {
                mark(f, t->row);
                if (!t->exited)
                        fail(f, t->row, 0, NULL, "task %s: sealrun did not run%s%s", t->id,
                             t->worker_error[0] ? ": " : "", t->worker_error);
                else if (t->exit_code != t->expect_exit)
                        fail(f, t->row, t->supervisor, t->err, "task %s: sealrun exited %d, expected %d", t->id,
                             t->exit_code, t->expect_exit);
                if (!file_empty(t->out))
                        fail(f, t->row, 0, t->out, "task %s: the payload ran (it printed)", t->id);
                return;
        }
        if (!t->exited) {
                why_not(f, t->row, "sealrun did not run for task %s%s%s", t->id, t->worker_error[0] ? ": " : "",
                        t->worker_error);
                return;
        }
        mark(f, t->row);
        int want = t->kind == TK_CRASH ? 128 + 11 : 0;
        if (t->exit_code != want && t->kind == TK_PROBE)
                fail(f, t->row, t->supervisor, t->err,
                     "task %s: sealrun exited %d, expected %d (its stderr: this file, with --keep)", t->id,
                     t->exit_code, want);
        if (!t->rep) {
                fail(f, t->row, 0, NULL, "task %s: the payload never reported (did it run?)", t->id);
                if (t->kind == TK_CRASH)
                        why_not(f, R_CORE_CRASH, "the crash payload never ran");
                return;
        }
        delivery(f, t);
        payload_lines(f, t);
        mark(f, R_CROSS_SCOPE);
        if (t->kind == TK_PROBE && t->frames == 0)
                why_not(f, strcmp(t->tenant, "lt-a") == 0 ? R_CROSS_AB : R_CROSS_BA, "the payload dumped nothing");
        else if (t->kind == TK_PROBE)
                note(f, strcmp(t->tenant, "lt-a") == 0 ? R_CROSS_AB : R_CROSS_BA,
                     "%llu items, %llu bytes read inside the sandbox", (unsigned long long)t->frames,
                     (unsigned long long)t->dumped);
}

void verdict_tasks(struct fleet *f) {
        for (size_t i = 0; i < f->n_tasks; i++)
                verdict_task(f, &f->tasks[i]);
}

void verdict_walk(struct fleet *f, enum rid r, const char *dir, time_t since) {
        struct sink k;
        struct walk_stats st = { 0 };
        sink_init(&k, f->lt, f->rows[r], 0, "file", NULL, -1);
        int e = files_walk(&k, dir, since, &st);
        if (e < 0) {
                if (e == -ENOENT || e == -ENOTDIR)
                        return;
                /* there, but closed to this uid: so it is to a sealrun run by this uid */
                note(f, r, "%s: not readable by uid %u", dir, (unsigned)getuid());
                mark(f, r);
                return;
        }
        mark(f, r);
        f->bytes[r] += st.bytes;
        note(f, r, "%s: %zu names, %zu changed files read", dir, st.names, st.scanned);
        if (st.unreadable)
                note(f, r, "%s: %zu entries not readable by uid %u", dir, st.unreadable, (unsigned)getuid());
        if (st.skipped_big)
                note(f, r, "%s: %zu files over 512 MB not read", dir, st.skipped_big);
}

static bool under(const char *path, const char *dir) {
        size_t l = strlen(dir);
        return strncmp(path, dir, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

/* Core dumps the host may have kept of the crashing payload. */
static void host_cores(struct fleet *f) {
        char pattern[512] = "", dirs[3][PATH_MAX] = { "/var/lib/systemd/coredump", "/var/crash", "" };
        int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, pattern, sizeof pattern - 1);
                pattern[n > 0 ? n : 0] = '\0';
                close(fd);
                char *nl = strchr(pattern, '\n');
                if (nl)
                        *nl = '\0';
        }
        note(f, R_CORE_CRASH, "core_pattern \"%s\"", pattern);
        if (pattern[0] == '/') {
                snprintf(dirs[2], sizeof dirs[2], "%s", pattern);
                char *slash = strrchr(dirs[2], '/');
                if (slash)
                        *slash = '\0';
        }
        for (size_t i = 0; i < 3; i++) {
                if (!dirs[i][0])
                        continue;
                DIR *d = opendir(dirs[i]);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        char path[PATH_MAX * 2];
                        struct stat sb;
                        snprintf(path, sizeof path, "%s/%s", dirs[i], de->d_name);
                        if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_ctime < f->lt->started)
                                continue;
                        /* a new core named after our payload (comm "sealrun-leakte") */
                        if (strstr(de->d_name, "sealrun") || strstr(de->d_name, "leakte"))
                                fail(f, R_CORE_CRASH, 0, path, "a core dump written during the run");
                }
                if (d)
                        closedir(d);
        }
}

static void mount_points(const char *text, char *out, size_t size) {
        size_t o = 0;
        out[0] = '\0';
        for (const char *l = text; l && *l;) {
                const char *e = strchr(l, '\n');
                char mp[1024], fstype[64] = "", src[512] = "";
                if (sscanf(l, "%*s %*s %*s %*s %1023s", mp) == 1) {
                        const char *dash = strstr(l, " - ");
                        if (dash && (!e || dash < e))
                                sscanf(dash + 3, "%63s %511s", fstype, src);
                        o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s %s %s\n", mp, fstype, src);
                }
                l = e ? e + 1 : NULL;
        }
}

/* Mounts present now and not before the run: a staging area left behind? */
void verdict_mounts(struct fleet *f, const char *before, const char *after) {
        static char b[1 << 16], a[1 << 16];
        size_t unrelated = 0;
        mount_points(before, b, sizeof b);
        mount_points(after, a, sizeof a);
        for (char *l = a; *l;) {
                char *e = strchr(l, '\n');
                if (!e)
                        break;
                *e = '\0';
                char probe[1100];
                snprintf(probe, sizeof probe, "%s\n", l);
                if (!strstr(b, probe)) {
                        if (strstr(l, "sealrun") || strstr(l, "credential") || strstr(l, " ramfs ") ||
                            (f->lt->dir[0] && strstr(l, f->lt->dir)))
                                fail(f, R_FILE_MOUNTS, 0, NULL, "mount left after release: %s", l);
                        else
                                unrelated++;
                }
                *e = '\n';
                l = e + 1;
        }
        if (unrelated)
                note(f, R_FILE_MOUNTS, "%zu new mounts elsewhere on the host, not ours", unrelated);
        mark(f, R_FILE_MOUNTS);
}

void verdict_files(struct fleet *f) {
        struct lt *lt = f->lt;
        time_t since = lt->started;
        verdict_walk(f, R_FILE_TMP, "/tmp", since);
        verdict_walk(f, R_FILE_VARTMP, "/var/tmp", since);
        verdict_walk(f, R_FILE_RUN, "/run", since);
        verdict_walk(f, R_FILE_SHM, "/dev/shm", since);
        /* runtime and state directories sealrun or its tools could use */
        const char *home = getenv("HOME"), *xdg = getenv("XDG_RUNTIME_DIR");
        char paths[6][PATH_MAX];
        size_t n = 0;
        snprintf(paths[n++], PATH_MAX, "/var/lib/sealrun");
        snprintf(paths[n++], PATH_MAX, "/var/cache/sealrun");
        if (xdg && xdg[0] == '/' && !under(xdg, "/run"))
                snprintf(paths[n++], PATH_MAX, "%s", xdg);
        if (home && home[0] == '/' && strcmp(home, "/") != 0) {
                snprintf(paths[n++], PATH_MAX, "%s/.local/state", home);
                snprintf(paths[n++], PATH_MAX, "%s/.cache", home);
        }
        if (!under(lt->dir, "/tmp"))
                snprintf(paths[n++], PATH_MAX, "%s", lt->dir);
        for (size_t i = 0; i < n; i++)
                verdict_walk(f, R_FILE_STATE, paths[i], since);
        if (!f->exercised[R_FILE_STATE]) {
                note(f, R_FILE_STATE, "none of /var/lib/sealrun, /var/cache/sealrun, ~/.local/state, ~/.cache exists");
                mark(f, R_FILE_STATE);
        }
        host_cores(f);
        char *now;
        size_t nl;
        if (proc_read(getpid(), "mountinfo", sizeof f->mounts_before - 1, &now, &nl) == 0) {
                verdict_mounts(f, f->mounts_before, now);
                free(now);
        }
}

void verdict_scan_path(struct fleet *f, enum rid r, const char *path, const char *what) {
        struct sink k;
        sink_init(&k, f->lt, f->rows[r], 0, what, path, -1);
        if (files_scan_one(&k, path) == 0)
                mark(f, r);
}

/* The audit records: an "inject" naming the delivered credentials for every
 * task that ran, a "deny" for every refused one (the collector-down one
 * cannot have one). */
static void audit_records(struct fleet *f) {
        char dir[PATH_MAX], *all = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&all, &len);
        snprintf(dir, sizeof dir, "%s/log", f->audit_dir);
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t files = 0;
        while (d && m && (de = readdir(d))) {
                char path[PATH_MAX * 2], *data;
                size_t dn;
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                verdict_scan_path(f, R_LOG_AUDIT, path, "audit file");
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && read_fd_all(fd, 64u << 20, &data, &dn) == 0) {
                        fwrite(data, 1, dn, m);
                        fputc('\n', m);
                        free(data);
                        files++;
                }
                if (fd >= 0)
                        close(fd);
        }
        if (d)
                closedir(d);
        if (m)
                fclose(m);
        if (files == 0) {
                why_not(f, R_LOG_AUDIT, "no audit file was written in %s", dir);
                why_not(f, R_LOG_AUDIT_NAMES, "no audit file was written");
                free(all);
                return;
        }
        mark(f, R_LOG_AUDIT_NAMES);
        for (size_t i = 0; i < f->n_tasks; i++) {
                struct task *t = &f->tasks[i];
                char needle[96];
                const char *line = NULL;
                snprintf(needle, sizeof needle, "\"task\":\"%s\"", t->id);
                for (char *l = all; l && *l;) {
                        char *e = strchr(l, '\n');
                        if (e)
                                *e = '\0';
                        if (strstr(l, needle) && strstr(l, t->kind == TK_REFUSE ? "\"deny\"" : "\"inject\""))
                                line = l;
                        if (line) {
                                if (t->kind != TK_REFUSE)
                                        for (size_t k = 0; k < t->prof->n; k++) {
                                                char q[300];
                                                snprintf(q, sizeof q, "\"%s\"", t->prof->specs[k].name);
                                                if (t->prof->specs[k].granted && !strstr(line, q))
                                                        fail(f, R_LOG_AUDIT_NAMES, 0, NULL,
                                                             "task %s: the inject record does not name %s", t->id,
                                                             t->prof->specs[k].name);
                                        }
                                if (e)
                                        *e = '\n';
                                break;
                        }
                        if (e)
                                *e = '\n';
                        l = e ? e + 1 : NULL;
                }
                if (!line && !t->collector_down)
                        fail(f, R_LOG_AUDIT_NAMES, 0, NULL, "task %s: no \"%s\" record", t->id,
                             t->kind == TK_REFUSE ? "deny" : "inject");
        }
        free(all);
}

void verdict_logs(struct fleet *f) {
        for (size_t i = 0; i < f->n_tasks; i++) {
                struct task *t = &f->tasks[i];
                char what[80];
                snprintf(what, sizeof what, "sealrun stderr of %s", t->id);
                verdict_scan_path(f, R_LOG_STDERR, t->err, what);
                snprintf(what, sizeof what, "status JSON of %s", t->id);
                verdict_scan_path(f, R_LOG_STATUS, t->status, what);
                snprintf(what, sizeof what, "stdout of %s", t->id);
                verdict_scan_path(f, R_OUTPUT, t->out, what);
        }
        audit_records(f);
        verdict_scan_path(f, R_LOG_TOOLS, f->tools_log, "tool output");
        verdict_walk(f, R_LOG_VARLOG, "/var/log", f->lt->started);
}

/* A row passes when it was checked and nothing was found. */
void verdict_finish(struct fleet *f) {
        struct lt *lt = f->lt;
        bool delivered = f->exercised[R_DELIV_A] && f->exercised[R_DELIV_B] && f->rows[R_DELIV_A]->v == V_PASS &&
                         f->rows[R_DELIV_B]->v == V_PASS;

        /* the canaries of refused profiles and ungranted scopes: nowhere */
        for (size_t i = 0; i < f->n_tasks; i++) {
                struct task *t = &f->tasks[i];
                if (t->kind != TK_REFUSE)
                        continue;
                for (size_t k = 0; k < t->prof->n; k++) {
                        int c = t->prof->canary[k];
                        if (c >= 0 && lt->forbidden[c])
                                row_fail_place(f->rows[t->row], &lt->first_forbidden[c]);
                }
        }
        for (size_t c = 0; c < lt->n_canaries; c++)
                if (lt->nowhere[c] && lt->forbidden[c])
                        row_fail_place(f->rows[R_CROSS_SCOPE], &lt->first_forbidden[c]);

        note(f, R_CMDLINE, "%u looks, %u process entries", f->samples, f->procs_seen);
        for (int r = 0; r < R__MAX; r++) {
                struct row *row = f->rows[r];
                if (f->note[r][0])
                        row_detail(row, "%s", f->note[r]);
                if (f->bytes[r] > 0 && r != R_ENV_HOST)
                        row_detail(row, "%.1f MB read", (double)f->bytes[r] / 1e6);
                if (f->big_maps[r] > 0)
                        row_detail(row,
                                   "%llu mapping(s) over 1 GiB not read (sanitizer shadow or reservations; %llu kB "
                                   "resident)",
                                   (unsigned long long)f->big_maps[r], (unsigned long long)f->big_rss_kb[r]);
                if (row->v == V_NA)
                        continue;
                if (row->n_places > 0) {
                        row->v = V_FAIL;
                        continue;
                }
                if (!f->exercised[r]) {
                        row->v = f->why[r][0] && strncmp(f->why[r], "not applicable", 14) == 0 ? V_NA : V_FAIL;
                        row_detail(row, "%s",
                                   f->why[r][0] ? f->why[r] : "not checked: the step that exercises it never happened");
                        continue;
                }
                /* a leak check over a run where no credential reached a payload proves nothing */
                if (!delivered && row->vector >= 1 && row->vector <= 10) {
                        row->v = V_FAIL;
                        row_detail(row, "inconclusive: the credentials never reached the payloads, so there was "
                                        "nothing to leak");
                        continue;
                }
                row->v = V_PASS;
        }
}
