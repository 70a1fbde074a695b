/* Status JSON serialisation (one object per line). */
#include "policy/status.h"

#include <jansson.h>
#include <string.h>
#include "policy/util.h"

void status_init(struct status *s) {
        memset(s, 0, sizeof *s);
        s->memory_peak_kb = -1;
        s->pids_peak = -1;
        s->network = "none";
        s->cgroup = "none";
        s->audit_mode = "off";
}

char *status_own(struct status *s, const char *text) {
        char **v, *c;
        if (!text)
                return NULL;
        v = realloc(s->owned, (s->n_owned + 1) * sizeof *v);
        if (!v)
                return NULL;
        s->owned = v;
        if (!(c = strdup(text)))
                return NULL;
        return v[s->n_owned++] = c;
}

void status_free(struct status *s) {
        for (size_t i = 0; i < s->n_owned; i++)
                free(s->owned[i]);
        free(s->owned);
        s->owned = NULL;
        s->n_owned = 0;
}

/* Strings here can carry outside input (a policy path, an argument, a
 * profile header field) that need not be UTF-8 or even printable: jansson
 * refuses invalid UTF-8 (that once made the whole object fail, hiding why the
 * task did not run), and a right-to-left override or a control character
 * would mislead whoever reads the line. Escape all of it (sr_escape). */
static json_t *str_or_null(const char *s) {
        char buf[2048];
        if (!s)
                return json_null();
        if (sr_printable(s))
                return json_string(s);
        sr_escape(buf, sizeof buf, s);
        return json_string(buf);
}

/* No process, no pid: a refusal before the clone reports null, never 0. */
static json_t *pid_or_null(pid_t pid) {
        return pid > 0 ? json_integer(pid) : json_null();
}

static json_t *name_list(const char *const *names, size_t n) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, str_or_null(names[i]));
        return a;
}

/* [{"name":..,"reason":..}] beside "skipped" (which stays a list of names) */
static json_t *skipped_reasons(const struct status *s) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < s->n_skipped; i++)
                json_array_append_new(a, json_pack("{s:o, s:s}", "name", str_or_null(s->skipped[i]), "reason",
                                                   s->skipped_reason[i] ? s->skipped_reason[i] : "unknown"));
        return a;
}

static int emit(int fd, json_t *o) {
        char *txt = json_dumps(o, JSON_COMPACT);
        int r;
        json_decref(o);
        if (!txt)
                return -ENOMEM;
        size_t n = strlen(txt);
        txt[n] = '\n';
        r = write_all(fd, txt, n + 1);
        free(txt);
        return r;
}

int status_write_started(int fd, const struct status *s) {
        json_t *o = json_pack("{s:i, s:o, s:o, s:o, s:s}", "version", STATUS_VERSION, "task", str_or_null(s->task),
                              "tenant", str_or_null(s->tenant), "pid", pid_or_null(s->pid), "state", "running");
        return o ? emit(fd, o) : -ENOMEM;
}

static json_t *final_object(const struct status *s) {
        json_t *o = json_pack(
                "{s:i, s:o, s:o, s:o, s:i, s:o, s:b, s:b, s:I, s:I, s:I, s:I, s:o, s:o}", "version", STATUS_VERSION,
                "task", str_or_null(s->task), "tenant", str_or_null(s->tenant), "pid", pid_or_null(s->pid), "exit_code",
                s->exit_code, "signal", s->signal ? json_integer(s->signal) : json_null(), "timed_out", s->timed_out,
                "oom_killed", s->oom_killed, "wall_ms", (json_int_t)s->wall_ms, "cpu_user_ms",
                (json_int_t)s->cpu_user_ms, "cpu_sys_ms", (json_int_t)s->cpu_sys_ms, "max_rss_kb",
                (json_int_t)s->max_rss_kb, "refused", str_or_null(s->refused), "error", str_or_null(s->error));
        if (!o)
                return NULL;
        json_object_set_new(o, "failed_step", str_or_null(s->failed_step));
        json_object_set_new(o, "memory_peak_kb",
                            s->memory_peak_kb >= 0 ? json_integer(s->memory_peak_kb) : json_null());
        json_object_set_new(o, "pids_peak", s->pids_peak >= 0 ? json_integer(s->pids_peak) : json_null());
        json_object_set_new(o, "network", json_string(s->network));
        json_object_set_new(o, "cgroup", json_string(s->cgroup));
        if (s->has_profile) {
                json_t *c =
                        json_pack("{s:o, s:I, s:o, s:o, s:b}", "profile", str_or_null(s->profile), "profile_version",
                                  (json_int_t)s->profile_version, "injected", name_list(s->injected, s->n_injected),
                                  "skipped", name_list(s->skipped, s->n_skipped), "scrubbed", s->scrubbed);
                if (c) {
                        json_t *inj = json_array();
                        json_object_set_new(c, "skipped_reasons", skipped_reasons(s));
                        json_object_set_new(c, "brokered", name_list(s->brokered, s->n_brokered));
                        for (size_t i = 0; inj && i < s->n_injections; i++)
                                json_array_append_new(inj, json_pack("{s:s, s:s, s:I}", "name", s->injections[i].name,
                                                                     "host", s->injections[i].host, "requests",
                                                                     (json_int_t)s->injections[i].requests));
                        json_object_set_new(c, "injections", inj ? inj : json_array());
                }
                json_object_set_new(o, "credentials", c ? c : json_null());
        }
        json_object_set_new(o, "audit",
                            json_pack("{s:s, s:o, s:o, s:o}", "mode", s->audit_mode, "missing",
                                      name_list(s->audit_missing, s->n_audit_missing), "spooled",
                                      name_list(s->audit_spooled, s->n_audit_spooled), "unconfirmed",
                                      name_list(s->audit_unconfirmed, s->n_audit_unconfirmed)));
        json_object_set_new(o, "not_enforced", name_list(s->not_enforced, s->n_not_enforced));
        json_object_set_new(o, "seccomp_skipped", name_list(s->seccomp_skipped, s->n_seccomp_skipped));
        json_object_set_new(o, "interrupted",
                            s->interrupted_signal > 0 ? json_pack("{s:i, s:o}", "signal", s->interrupted_signal, "step",
                                                                  str_or_null(s->interrupted_step))
                                                      : json_null());
        if (s->egress) {
                json_t *d = json_array();
                for (size_t i = 0; d && i < s->n_egress_denied; i++) {
                        json_t *e = json_pack("{s:s, s:i, s:s}", "host", s->egress_denied[i].host, "port",
                                              (int)s->egress_denied[i].port, "reason", s->egress_denied[i].reason);
                        if (e && s->egress_denied[i].credential)
                                json_object_set_new(e, "credential", json_string(s->egress_denied[i].credential));
                        json_array_append_new(d, e);
                }
                json_object_set_new(o, "egress",
                                    json_pack("{s:o, s:I, s:I}", "denied", d ? d : json_array(), "connections",
                                              (json_int_t)s->egress_connections, "bytes", (json_int_t)s->egress_bytes));
        }
        return o;
}

int status_write_final(int fd, const struct status *s) {
        json_t *o = final_object(s);
        return o ? emit(fd, o) : -ENOMEM;
}

char *status_format_final(const struct status *s) {
        json_t *o = final_object(s);
        char *txt;
        if (!o)
                return NULL;
        txt = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return txt;
}
