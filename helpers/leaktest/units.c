/* The systemd vector: what a sealrun-pool@ unit puts in its environment (systemctl show, or the unit files when systemd
 * is not running). */
#include "helpers/leaktest/fleet.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define UNIT_TEMPLATE "sealrun-pool@"

/* A name that says "secret": such a variable is readable by every process
 * of the unit's uid through /proc/PID/environ, and by `systemctl show`. */
static bool secret_name(const char *name, size_t n) {
        static const char *const words[] = { "TOKEN",  "SECRET",  "PASSWORD",   "PASSWD",    "API_KEY",
                                             "APIKEY", "PRIVATE", "CREDENTIAL", "ACCESS_KEY" };
        char up[256];
        if (n >= sizeof up)
                n = sizeof up - 1;
        for (size_t i = 0; i < n; i++)
                up[i] = (char)toupper((unsigned char)name[i]);
        up[n] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strstr(up, words[i]))
                        return true;
        return n > 4 && strcmp(up + n - 4, "_KEY") == 0;
}

static void fail_unit(struct fleet *f, const char *source, const char *pre, const char *name, size_t nl,
                      const char *post) {
        struct place p = { .offset = -1 };
        snprintf(p.what, sizeof p.what, "%s%.*s%s", pre, (int)(nl < 100 ? nl : 100), name, post);
        snprintf(p.file, sizeof p.file, "%s", source);
        row_fail_place(f->rows[R_UNITS], &p);
}

/* Environment=A=1 "B=two words" ...: each assignment's name, never its value. */
static void environment_line(struct fleet *f, const char *source, const char *v) {
        while (*v) {
                while (*v == ' ')
                        v++;
                if (!*v)
                        break;
                char quote = (*v == '"' || *v == '\'') ? *v++ : 0;
                const char *start = v, *eq = NULL;
                while (*v && (quote ? *v != quote : *v != ' ')) {
                        if (*v == '=' && !eq)
                                eq = v;
                        v++;
                }
                if (eq && secret_name(start, (size_t)(eq - start)) && eq[1] != '/')
                        fail_unit(
                                f, source, "Environment= sets ", start, (size_t)(eq - start),
                                ": a secret-looking variable in the unit's environment (use LoadCredentialEncrypted=)");
                if (quote && *v)
                        v++;
        }
}

static void evaluate(struct fleet *f, const char *source, char *text, size_t len) {
        struct sink k;
        sink_init(&k, f->lt, f->rows[R_UNITS], 0, "unit configuration", source, -1);
        sink_scan(&k, text, len);
        for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
                while (*l == ' ' || *l == '\t')
                        l++;
                if (strncmp(l, "Environment=", 12) == 0)
                        environment_line(f, source, l + 12);
                /* systemd < 254 prints a(say) properties as "[unprintable]":
                 * that says nothing; the unit's files (systemctl cat) do. */
                else if (strncmp(l, "SetCredential=", 14) == 0 && l[14] && strcmp(l + 14, "[unprintable]") != 0)
                        fail_unit(f, source, "SetCredential=", l + 14, strcspn(l + 14, ":"),
                                  ":...: a plaintext credential in the unit (shown by systemctl show)");
                else if (strncmp(l, "EnvironmentFile", 15) == 0 && strchr(l, '=') && strchr(l, '=')[1])
                        note(f, R_UNITS, "%s: uses %.*s (not read)", source, (int)strcspn(l, "="), l);
        }
        mark(f, R_UNITS);
}

static int capture(char *const argv[], char **ret, size_t *ret_len) {
        int p[2], st;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t c = fork();
        if (c < 0)
                return -errno;
        if (c == 0) {
                int dn = open("/dev/null", O_RDWR);
                if (dup2(p[1], 1) < 0 || (dn >= 0 && dup2(dn, 2) < 0) || (dn >= 0 && dup2(dn, 0) < 0))
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(p[1]);
        int r = read_fd_all(p[0], 4u << 20, ret, ret_len);
        close(p[0]);
        waitpid(c, &st, 0);
        if (r < 0)
                return r;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Unit files and drop-ins of the template (and of instances) under dir. */
static size_t unit_files(const char *dir, char found[][PATH_MAX], size_t n, size_t max) {
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && n < max && (de = readdir(d))) {
                char path[PATH_MAX];
                struct stat sb;
                if (strncmp(de->d_name, UNIT_TEMPLATE, strlen(UNIT_TEMPLATE)) != 0)
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                if (stat(path, &sb) < 0)
                        continue;
                if (S_ISREG(sb.st_mode) && strstr(de->d_name, ".service")) {
                        snprintf(found[n++], PATH_MAX, "%s", path);
                } else if (S_ISDIR(sb.st_mode) && strstr(de->d_name, ".service.d")) {
                        DIR *dd = opendir(path);
                        struct dirent *e2;
                        while (dd && n < max && (e2 = readdir(dd)))
                                if (strstr(e2->d_name, ".conf"))
                                        snprintf(found[n++], PATH_MAX, "%s/%s", path, e2->d_name);
                        if (dd)
                                closedir(dd);
                }
        }
        if (d)
                closedir(d);
        return n;
}

void verdict_units(struct fleet *f, const char *const *dirs, bool ask_systemd) {
        char found[32][PATH_MAX], looked[512] = "";
        size_t n = 0;
        for (size_t i = 0; dirs[i]; i++) {
                n = unit_files(dirs[i], found, n, ELEMENTSOF(found));
                snprintf(looked + strlen(looked), sizeof looked - strlen(looked), "%s%s", i ? " " : "", dirs[i]);
        }
        if (n == 0) {
                why_not(f, R_UNITS, "not applicable: no " UNIT_TEMPLATE ".service unit is installed (looked in %s)",
                        looked);
                return;
        }
        if (ask_systemd && access("/run/systemd/system", F_OK) == 0) {
                /* systemd runs: what it actually applies, instances and template */
                char *list = NULL, *units[33];
                size_t ll = 0, nu = 0;
                char *lu[] = { "systemctl",
                               "list-units",
                               "--all",
                               "--plain",
                               "--no-legend",
                               "--no-pager",
                               UNIT_TEMPLATE "*.service",
                               NULL };
                if (capture(lu, &list, &ll) >= 0)
                        for (char *l = strtok(list, "\n"); l && nu < 32; l = strtok(NULL, "\n")) {
                                char *sp = strchr(l, ' ');
                                if (sp)
                                        *sp = '\0';
                                units[nu++] = l;
                        }
                if (nu == 0)
                        units[nu++] = UNIT_TEMPLATE "leaktest-probe.service"; /* loads the template's settings */
                for (size_t i = 0; i < nu; i++) {
                        char *out;
                        size_t ol;
                        char *show[] = { "systemctl",     "show", "--no-pager",       "-p",     "Environment", "-p",
                                         "SetCredential", "-p",   "EnvironmentFiles", units[i], NULL };
                        if (capture(show, &out, &ol) >= 0) {
                                evaluate(f, units[i], out, ol);
                                free(out);
                        }
                        char *cat[] = { "systemctl", "cat", "--no-pager", units[i], NULL };
                        if (capture(cat, &out, &ol) >= 0) {
                                evaluate(f, units[i], out, ol);
                                free(out);
                        }
                }
                free(list);
                note(f, R_UNITS, "%zu unit(s) asked through systemctl show", nu);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                int fd = open(found[i], O_RDONLY | O_CLOEXEC);
                char *text;
                size_t tl;
                if (fd < 0)
                        continue;
                if (read_fd_all(fd, 1u << 20, &text, &tl) == 0) {
                        evaluate(f, found[i], text, tl);
                        free(text);
                }
                close(fd);
        }
        note(f, R_UNITS, "systemd is not running here: read %zu unit file(s)", n);
}
