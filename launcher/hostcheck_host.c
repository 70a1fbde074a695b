/* --check-host: cgroups (v2/v1, delegation, controllers) and the host's security settings.
 *
 * The cgroup probe creates one empty directory below each of our own
 * cgroups and removes it at once; it never moves a process or enables a
 * controller (the launch does that, in its own cgroup, when it needs to). */
#include "launcher/hostcheck_impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "launcher/cgroup_impl.h"

static int read_text(const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return read_fd_all(fd, max, ret, NULL);
}

/* mkdir + rmdir of a scratch child: can we create cgroups here? */
static int try_create(const char *dir) {
        char name[64];
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        snprintf(name, sizeof name, "sealrun-check-%d", (int)getpid());
        if (mkdirat(fd, name, 0755) < 0)
                return -errno;
        return unlinkat(fd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static const char *const v2_names[CTRL_COUNT] = { [CTRL_MEMORY] = "memory", [CTRL_PIDS] = "pids", [CTRL_CPU] = "cpu" };
static const char *const v1_names[CTRL_COUNT] = {
        [CTRL_MEMORY] = "memory",   [CTRL_PIDS] = "pids",       [CTRL_CPU] = "cpu",
        [CTRL_CPUACCT] = "cpuacct", [CTRL_FREEZER] = "freezer",
};

void hc_probe_cgroup(struct hc_report *r, const struct policy *p) {
        _cleanup_free_ char *self = NULL, *mi = NULL, *ctrls = NULL;
        struct cg_layout l;
        bool v2_have[CTRL_COUNT] = { 0 }, v1_have[CTRL_COUNT] = { 0 }, v2_ok = false, v1_any = false;
        char v1list[128] = "", eb[64], missing[128] = "";
        struct hc_item *it;
        int r2 = -ENOENT;

        if (read_text("/proc/self/cgroup", 1 << 20, &self) < 0 || read_text("/proc/self/mountinfo", 8 << 20, &mi) < 0 ||
            cg_layout_parse(self, mi, &l) < 0) {
                hc_add(r, "cgroup", false, false, "cannot read /proc/self/cgroup or mountinfo");
                return;
        }
        if (l.v2) {
                char path[4200];
                /* A supervisor inside sealrun's own leaf works from its parent. */
                const char *slash = strrchr(l.v2, '/');
                size_t len = slash && !strcmp(slash + 1, CG_LEAF) ? (size_t)(slash - l.v2) : strlen(l.v2);
                snprintf(path, sizeof path, "%.*s", (int)len, l.v2);
                r2 = try_create(path);
                v2_ok = r2 == 0;
                snprintf(path + len, sizeof path - len, "/cgroup.controllers");
                if (read_text(path, 4096, &ctrls) == 0)
                        for (int k = 0; k < CTRL_COUNT; k++)
                                v2_have[k] = v2_names[k] && cg_has_word(ctrls, v2_names[k], ' ');
                if (ctrls)
                        ctrls[strcspn(ctrls, "\n")] = 0;
                path[len] = 0;
                hc_add(r, "cgroup v2", v2_ok, false, "%s: %s; controllers: %s", path,
                       v2_ok ? "delegated (can create cgroups)" : hc_strerror(r2, eb, sizeof eb),
                       ctrls && *ctrls ? ctrls : "none");
        } else
                hc_add(r, "cgroup v2", false, false, "no cgroup2 hierarchy of ours is mounted");
        for (int k = 0; k < CTRL_COUNT; k++) {
                if (!l.v1[k])
                        continue;
                v1_have[k] = try_create(l.v1[k]) == 0;
                v1_any |= v1_have[k];
                snprintf(v1list + strlen(v1list), sizeof v1list - strlen(v1list), "%s%s%s", *v1list ? " " : "",
                         v1_names[k], v1_have[k] ? "" : "(read-only)");
        }
        if (*v1list)
                hc_add(r, "cgroup v1", v1_any, false, "%s", v1list);
        /* What the launch would choose (cgroup.c): v2 when it has memory or v1 is unusable. */
        bool use_v2 = v2_ok && (v2_have[CTRL_MEMORY] || !v1_any);
        const bool *have = use_v2 ? v2_have : v1_have;
        bool any_needed = false;
        for (int k = 0; k < LIM_COUNT; k++) {
                if (!p->limits.set[k] || p->limits.optional[k])
                        continue;
                any_needed = true;
                if (!(use_v2 || v1_any) || !have[cg_lim_ctrl[k]])
                        snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                                 *missing ? ", " : "", pol_limits_cg_name(k));
        }
        it = hc_add(r, "cgroup limits", !*missing, any_needed, "%s%s%s",
                    use_v2   ? "v2"
                    : v1_any ? "v1"
                             : "none",
                    *missing ? "; cannot enforce " : "", missing);
        if (*missing)
                hc_set_fix(it, use_v2 || v1_any ? "cgroup-controller" : "no-cgroup",
                           "run sealrun in a cgroup delegated with the controllers (systemd: Delegate=yes, or "
                           "`systemd-run --user --scope -p Delegate=yes sealrun ...`), or list the limits in "
                           "limits.optional");
        cg_layout_free(&l);
}

void hc_probe_security(struct hc_report *r) {
        char v[64], aa[256] = "";
        const char *ctr = hostcheck_container();
        bool aa_on = hostcheck_apparmor_enabled();
        if (hostcheck_read("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof v) == 0)
                hc_add(r, "sysctl unprivileged_userns_clone", strcmp(v, "0") != 0, false,
                       "kernel.unprivileged_userns_clone=%s", v);
        if (hostcheck_read("/proc/sys/user/max_user_namespaces", v, sizeof v) == 0)
                hc_add(r, "sysctl max_user_namespaces", strcmp(v, "0") != 0, false, "user.max_user_namespaces=%s", v);
        if (aa_on) {
                bool restricted =
                        hostcheck_read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", v, sizeof v) == 0 &&
                        strcmp(v, "1") == 0;
                _cleanup_free_ char *profiles = NULL;
                char path[4200];
                bool ours, listed;
                int rl;
                snprintf(path, sizeof path, "%s/sys/kernel/security/apparmor/profiles", hostcheck_root());
                rl = read_text(path, 4 << 20, &profiles);
                listed = rl == 0 && strstr(profiles, "sealrun (");
                if (hostcheck_read("/proc/self/attr/apparmor/current", aa, sizeof aa) < 0)
                        hostcheck_read("/proc/self/attr/current", aa, sizeof aa);
                /* Under the profile we are "sealrun (unconfined)". */
                ours = listed || strncmp(aa, "sealrun", 7) == 0;
                hc_add(r, "apparmor", !restricted || ours, false,
                       "enabled; unprivileged userns %s; sealrun profile %s; we run as %s",
                       restricted ? "restricted" : "not restricted",
                       ours     ? "loaded"
                       : rl < 0 ? "unknown (the loaded profiles are not readable here)"
                                : "not loaded",
                       *aa ? aa : "?");
        } else
                hc_add(r, "apparmor", true, false, "not enabled in this kernel");
        hc_add(r, "seccomp around us", !hostcheck_seccomp_filtered(), false, "%s",
               hostcheck_seccomp_filtered() ? "a seccomp filter is already applied to sealrun (Seccomp: 2)" : "none");
        hc_add(r, "container", true, false, "%s", ctr ? ctr : "none detected");
}
