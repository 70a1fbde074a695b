/* sealrun --check-host: what the policy needs from this host (files, audit, network), the verdict, table or JSON.
 *
 * The policy is read through the normal parser, so a policy that would not
 * load for a launch does not load here either (same message, exit 125). */
#include "launcher/hostcheck_impl.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "launcher/fsutil.h"
#include "launcher/net.h"
#include "launcher/seccomp.h"
#include "policy/audit_proto.h"

/* May the payload (host uid/gid `uid`/`gid`) use the bind's source? Root
 * callers map the sandbox to host_uid, so root's own access proves nothing. */
static bool may_access(const struct stat *st, uid_t uid, gid_t gid, bool want_write) {
        unsigned bits = st->st_uid == uid ? (st->st_mode >> 6) : st->st_gid == gid ? (st->st_mode >> 3) : st->st_mode;
        unsigned need = 4 | (S_ISDIR(st->st_mode) ? 1 : 0) | (want_write ? 2 : 0);
        return (bits & need) == need;
}

static void check_binds(struct hc_report *r, const struct policy *p) {
        size_t ok = 0, skipped = 0;
        uid_t uid = r->as_root ? p->host_uid : getuid();
        gid_t gid = r->as_root ? p->host_gid : getgid();
        char eb[64];
        for (size_t i = 0; i < p->n_mounts; i++) {
                const struct mount_entry *m = &p->mounts[i];
                bool rw = m->type == MNT_BIND;
                struct hc_item *it;
                struct stat st = { 0 };
                bool usable;
                int fd;
                if (m->type != MNT_RO_BIND && m->type != MNT_BIND)
                        continue;
                fd = fs_openat2(AT_FDCWD, m->src, O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                if (fd < 0 && m->optional && (fd == -ENOENT || fd == -ENOTDIR)) {
                        skipped++;
                        continue;
                }
                if (fd < 0) {
                        it = hc_add(r, "policy bind", false, true, "%s: %s", m->src, hc_strerror(fd, eb, sizeof eb));
                        hc_set_fix(it, "bind-source",
                                   fd == -ELOOP ? "a path component is a symlink: name the real path in the policy "
                                                  "(/usr/lib, not /lib)"
                                                : "create it, or mark the entry \"optional\": true");
                        continue;
                }
                /* The caller's own access (supplementary groups included: an
                 * unprivileged user namespace keeps them), or host_uid's. */
                if (fstat(fd, &st) < 0)
                        usable = false;
                else if (r->as_root)
                        usable = may_access(&st, uid, gid, rw);
                else
                        usable = faccessat(fd, "", R_OK | (rw ? W_OK : 0) | (S_ISDIR(st.st_mode) ? X_OK : 0),
                                           AT_EMPTY_PATH | AT_EACCESS) == 0;
                if (!usable) {
                        /* The launch works; the payload just cannot use it: a warning. */
                        it = hc_add(r, "policy bind", false, false, "%s: uid %u cannot %s it (mode %04o, owner %u:%u)",
                                    m->src, (unsigned)uid, rw ? "read and write" : "read",
                                    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
                        hc_set_fix(it, "bind-permission",
                                   "give uid %u access (the payload's host uid), or bind another path", (unsigned)uid);
                } else
                        ok++;
                close(fd);
        }
        hc_add(r, "policy binds", true, false, "%zu sources usable, %zu optional ones missing (skipped)", ok, skipped);
}

static void check_audit(struct hc_report *r, const struct policy *p, const struct cli *c) {
        const char *path = p->audit.socket ? p->audit.socket : c->audit_socket ? c->audit_socket : AUDIT_DEFAULT_SOCKET;
        bool needed = p->audit.mode == POL_AUDIT_REQUIRED || c->audit_mode == AUDIT_REQUIRED;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        char eb[64];
        struct hc_item *it;
        int rc = -ENAMETOOLONG;
        if (strlen(path) < sizeof sa.sun_path) {
                memcpy(sa.sun_path, path, strlen(path) + 1);
                /* A connect that sends nothing: the collector sees a peer come and go. */
                rc = fd < 0 ? -errno : connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? -errno : 0;
        }
        it = hc_add(r, "audit socket", rc == 0, needed, "%s: %s%s", path,
                    rc ? hc_strerror(rc, eb, sizeof eb) : "connects",
                    needed ? "" : " (needed by launches with --profile: audit mode required)");
        if (rc)
                hc_set_fix(it, "audit-unreachable",
                           "start the collector (systemctl start sealrun-auditd.socket) or give "
                           "--audit-socket PATH; check the socket's permissions for uid %u",
                           (unsigned)getuid());
}

static void check_policy(struct hc_report *r, const struct policy *p, const struct cli *c) {
        struct seccomp_bpf bpf = { 0 };
        struct sr_error e = { 0 };
        struct hc_item *it;
        check_binds(r, p);
        it = hc_add(r, "policy seccomp filter", seccomp_compile(&p->seccomp, &bpf, &e) == 0, true, "%s",
                    e.msg[0] ? e.msg : "compiles");
        if (e.msg[0])
                hc_set_fix(it, e.reason[0] ? e.reason : "seccomp", "fix the policy's seccomp section (see the detail)");
        else
                snprintf(it->detail, sizeof it->detail, "compiles (%zu BPF instructions)", bpf.len);
        free(bpf.prog);
        if (p->network.mode == NET_VETH) {
                it = hc_add(r, "network veth", net_have_admin() == 1, true, "%s",
                            net_have_admin() == 1 ? "CAP_NET_ADMIN held"
                                                  : "no CAP_NET_ADMIN in the host network namespace");
                if (it->state != HC_OK)
                        hc_set_fix(it, "veth-unprivileged",
                                   "run as root (a root-run pool), or use network mode \"none\"");
        }
        check_audit(r, p, c);
}

/* ---- output ---- */

static void json_str(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch == '"' || ch == '\\')
                        fprintf(f, "\\%c", ch);
                else if (ch < 0x20 || ch == 0x7f)
                        fprintf(f, "\\u%04x", ch);
                else
                        fputc(ch, f);
        }
        fputc('"', f);
}

static void print_json(FILE *f, const struct hc_report *r, const struct policy *p, bool can_run) {
        fprintf(f, "{\"version\":1,\"policy\":");
        json_str(f, p->file);
        fprintf(f, ",\"uid\":%u,\"as_root\":%s,\"host_root\":", (unsigned)getuid(), r->as_root ? "true" : "false");
        if (*hostcheck_root())
                json_str(f, hostcheck_root());
        else
                fputs("null", f);
        fprintf(f, ",\"can_run\":%s,\"checks\":[", can_run ? "true" : "false");
        for (size_t i = 0; i < r->n; i++) {
                const struct hc_item *it = &r->items[i];
                fprintf(f, "%s{\"name\":", i ? "," : "");
                json_str(f, it->name);
                fprintf(f, ",\"ok\":%s,\"needed\":%s,\"detail\":", it->state == HC_OK ? "true" : "false",
                        it->needed ? "true" : "false");
                json_str(f, it->detail);
                fputs(",\"reason\":", f);
                it->reason[0] && it->state != HC_OK ? json_str(f, it->reason) : (void)fputs("null", f);
                fputs(",\"fix\":", f);
                it->fix[0] && it->state != HC_OK ? json_str(f, it->fix) : (void)fputs("null", f);
                fputc('}', f);
        }
        fputs("]}\n", f);
}

static void print_table(FILE *f, const struct hc_report *r, const struct policy *p, bool can_run) {
        fprintf(f, "sealrun --check-host: policy %s, uid %u%s%s\n", p->file, (unsigned)getuid(),
                *hostcheck_root() ? ", host files read below " : "", hostcheck_root());
        fprintf(f, "%-32s %-6s %-6s %s\n", "CHECK", "RESULT", "NEEDED", "DETAIL");
        for (size_t i = 0; i < r->n; i++) {
                const struct hc_item *it = &r->items[i];
                fprintf(f, "%-32s %-6s %-6s %s\n", it->name,
                        it->state == HC_OK ? "ok"
                        : it->needed       ? "FAIL"
                                           : "no",
                        it->needed ? "yes" : "-", it->detail);
        }
        for (size_t i = 0; i < r->n; i++) {
                const struct hc_item *it = &r->items[i];
                /* Items not tried because an earlier one failed have no fix of their own. */
                if (it->state != HC_OK && it->needed && it->fix[0])
                        fprintf(f, "needed: %s [%s]: %s\n", it->name, it->reason[0] ? it->reason : "unavailable",
                                it->fix);
        }
        for (size_t i = 0; i < r->n; i++) {
                const struct hc_item *it = &r->items[i];
                if (it->state != HC_OK && !it->needed && it->fix[0])
                        fprintf(f, "note: %s [%s]: %s\n", it->name, it->reason, it->fix);
        }
        fprintf(f, "%s\n",
                can_run ? "verdict: the policy can run here (exit 0)"
                        : "verdict: the policy cannot run here (exit 77)");
}

int hostcheck_main(const struct cli *c) {
        static struct hc_report r; /* large: not on the stack */
        struct policy *p = NULL;
        struct sr_error e = { 0 };
        bool can_run = true;
        int res;

        if (policy_load(c->policy ? c->policy : policy_default_path(), &p, &e) < 0) {
                fprintf(stderr, "sealrun: %s\n", e.msg);
                return e.exit_code ? e.exit_code : SR_EXIT_LAUNCHER;
        }
        memset(&r, 0, sizeof r);
        r.as_root = geteuid() == 0;
        hc_probe_namespaces(&r, p);
        hc_probe_kernel(&r, p);
        hc_probe_cgroup(&r, p);
        check_policy(&r, p, c);
        hc_probe_security(&r);
        for (size_t i = 0; i < r.n; i++)
                if (r.items[i].needed && r.items[i].state != HC_OK)
                        can_run = false;
        if (c->json)
                print_json(stdout, &r, p, can_run);
        else
                print_table(stdout, &r, p, can_run);
        res = fflush(stdout) == 0 ? 0 : -errno;
        policy_free(p);
        if (res < 0)
                return SR_EXIT_LAUNCHER;
        return can_run ? 0 : SR_EXIT_REFUSED;
}
