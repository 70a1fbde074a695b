/* Host diagnosis: turn a bare EPERM from namespace creation into its cause and fix.
 *
 * The launch path and --check-host share these functions so that an
 * operator reads the same reason code and the same fix in both. They only
 * read (sysctls, AppArmor's securityfs, our own /proc/self/status) and only
 * change what is reported: the decision to refuse or go on never depends on
 * them, so a fake tree under $SEALRUN_HOST_ROOT (tests) cannot weaken a
 * sandbox. */
#include "launcher/hostcheck.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

const char *hostcheck_root(void) {
        /* secure_getenv: ignored when sealrun ever runs with elevated
         * privileges (AT_SECURE), and only absolute roots count. */
        const char *r = secure_getenv("SEALRUN_HOST_ROOT");
        return r && r[0] == '/' ? r : "";
}

int hostcheck_read(const char *path, char *buf, size_t size) {
        char full[4096];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        snprintf(full, sizeof full, "%s%s", hostcheck_root(), path);
        fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static bool file_is(const char *path, const char *want) {
        char v[64];
        return hostcheck_read(path, v, sizeof v) == 0 && strcmp(v, want) == 0;
}

static bool exists(const char *path) {
        char full[4096];
        snprintf(full, sizeof full, "%s%s", hostcheck_root(), path);
        return access(full, F_OK) == 0;
}

bool hostcheck_apparmor_enabled(void) {
        return exists("/sys/kernel/security/apparmor") || file_is("/sys/module/apparmor/parameters/enabled", "Y");
}

bool hostcheck_seccomp_filtered(void) {
        char full[4096], line[256];
        bool yes = false;
        FILE *f;
        snprintf(full, sizeof full, "%s/proc/self/status", hostcheck_root());
        f = fopen(full, "re");
        if (!f)
                return false;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "Seccomp:", 8) == 0)
                        yes = strtol(line + 8, NULL, 10) == 2;
        fclose(f);
        return yes;
}

const char *hostcheck_container(void) {
        char cg[4096];
        if (exists("/.dockerenv"))
                return "docker";
        if (exists("/run/.containerenv"))
                return "podman";
        if (secure_getenv("KUBERNETES_SERVICE_HOST"))
                return "kubernetes";
        if (hostcheck_read("/proc/1/cgroup", cg, sizeof cg) == 0) {
                if (strstr(cg, "kubepods"))
                        return "kubernetes";
                if (strstr(cg, "docker"))
                        return "docker";
                if (strstr(cg, "libpod"))
                        return "podman";
                if (strstr(cg, "lxc"))
                        return "lxc";
        }
        return NULL;
}

/* Our profile grants userns: under it the restriction is not the cause. */
static bool under_our_profile(void) {
        char v[128];
        if (hostcheck_read("/proc/self/attr/apparmor/current", v, sizeof v) < 0 &&
            hostcheck_read("/proc/self/attr/current", v, sizeof v) < 0)
                return false;
        return strcmp(v, "sealrun") == 0 || strncmp(v, "sealrun ", 8) == 0;
}

static bool have_cap_sys_admin(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = { 0 };
        if (syscall(SYS_capget, &h, d) < 0)
                return false;
        return d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

#define SET(c, code, ...) \
        do { \
                snprintf((c)->reason, sizeof(c)->reason, "%s", code); \
                snprintf((c)->what, sizeof(c)->what, __VA_ARGS__); \
        } while (0)
#define FIX(c, ...) snprintf((c)->fix, sizeof(c)->fix, __VA_ARGS__)

#define OPTIONAL_HINT \
        "as root in a container, \"namespaces\": {\"user\": \"optional\"} in the policy launches without one"

void hostcheck_userns_cause(int err, bool as_root, struct hc_cause *c) {
        const char *ctr = hostcheck_container();
        char v[64] = "?";
        memset(c, 0, sizeof *c);
        hostcheck_read("/proc/sys/user/max_user_namespaces", v, sizeof v);
        if (err == 0)
                goto created; /* the namespace exists: limits and sysctls did not stop it */
        if (strcmp(v, "0") == 0) {
                SET(c, "userns-limit", "user namespaces are disabled (user.max_user_namespaces=0)");
                FIX(c, "raise it (sysctl -w user.max_user_namespaces=15000)%s", as_root ? "; " OPTIONAL_HINT : "");
                return;
        }
        if (err == ENOSPC || err == EUSERS) {
                SET(c, "userns-limit", "the limit on user namespaces is reached (user.max_user_namespaces=%s)", v);
                FIX(c, "raise user.max_user_namespaces or run fewer sandboxes at once");
                return;
        }
        if (!as_root && file_is("/proc/sys/kernel/unprivileged_userns_clone", "0")) {
                SET(c, "userns-disabled",
                    "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)");
                FIX(c, "set it to 1 (sysctl -w kernel.unprivileged_userns_clone=1) or run as root");
                return;
        }
created:
        if (!as_root && file_is("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1") &&
            hostcheck_apparmor_enabled() && !under_our_profile()) {
                SET(c, "userns-restricted",
                    "user namespaces are restricted by AppArmor (kernel.apparmor_restrict_unprivileged_userns=1)");
                FIX(c, "install the sealrun AppArmor profile or run as root");
                return;
        }
        if ((err == EPERM || err == ENOSYS) && hostcheck_seccomp_filtered()) {
                SET(c, "userns-seccomp", "a seccomp filter %s%s%srefuses namespace creation",
                    ctr ? "of the enclosing container (" : "around sealrun ", ctr ? ctr : "", ctr ? ") " : "");
                FIX(c,
                    "allow clone3 and unshare with namespace flags in its profile (Docker and Podman allow them with "
                    "CAP_SYS_ADMIN) or run it with seccomp=unconfined");
                return;
        }
        if (err == EPERM && ctr) {
                SET(c, "userns-container", "the enclosing container (%s) does not allow user namespaces", ctr);
                FIX(c, "allow them in the container runtime, or %s", OPTIONAL_HINT);
                return;
        }
        if (err == 0) {
                SET(c, "userns-no-caps",
                    "the new user namespace gave no capabilities (a security module restricts it)");
                FIX(c, "check the AppArmor/SELinux policy for sealrun, or run as root");
                return;
        }
        SET(c, "userns-unavailable", "cannot create a user namespace (%s)", strerror(err));
        FIX(c, "run `sealrun --check-host` for the cause");
}

void hostcheck_rootns_cause(int err, struct hc_cause *c) {
        const char *ctr = hostcheck_container();
        memset(c, 0, sizeof *c);
        if (err == EPERM && !have_cap_sys_admin()) {
                SET(c, "no-cap-sys-admin", "sealrun runs as root without CAP_SYS_ADMIN%s%s%s", ctr ? " (a " : "",
                    ctr ? ctr : "", ctr ? " container without it)" : "");
                FIX(c, "grant CAP_SYS_ADMIN to the container (e.g. docker run --cap-add SYS_ADMIN) or allow user "
                       "namespaces");
                return;
        }
        if ((err == EPERM || err == ENOSYS) && hostcheck_seccomp_filtered()) {
                SET(c, "ns-seccomp", "a seccomp filter %s%s%srefuses namespace creation",
                    ctr ? "of the enclosing container (" : "around sealrun ", ctr ? ctr : "", ctr ? ") " : "");
                FIX(c,
                    "allow clone3 and unshare with namespace flags in its profile or run it with seccomp=unconfined");
                return;
        }
        SET(c, "ns-unavailable", "cannot create the sandbox namespaces without a user namespace (%s)", strerror(err));
        FIX(c, "run `sealrun --check-host` for the cause");
}

/* Steps whose EPERM means "the host does not give us the namespace". */
static bool host_step(const char *step) {
        static const char *const steps[] = { "clone", "userns", "cgroupns",   "mount_sources",
                                             "ids",   "mounts", "pivot_root", "procmask" };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++)
                if (strcmp(step, steps[i]) == 0)
                        return true;
        return false;
}

void hostcheck_annotate(struct sr_error *e, bool as_root, bool userns) {
        struct hc_cause c;
        char step[48];
        int err = e->err;
        /* Without a user namespace only the clone itself is about the host;
         * a later step's EPERM keeps the step's own message. */
        if (!userns && strcmp(e->reason, "clone") != 0)
                return;
        if (!host_step(e->reason) ||
            !(err == EPERM || err == EACCES || err == ENOSPC || err == ENOSYS || err == EUSERS))
                return;
        if (!userns)
                hostcheck_rootns_cause(err, &c);
        else
                /* After a successful clone an EPERM in setup means the new
                 * namespace came without its capabilities. */
                hostcheck_userns_cause(strcmp(e->reason, "clone") == 0 ? err : 0, as_root, &c);
        if (strcmp(e->reason, "clone") != 0 &&
            (!strcmp(c.reason, "userns-no-caps") || !strcmp(c.reason, "userns-unavailable")))
                return; /* nothing on the host explains it: keep the step's own message */
        snprintf(step, sizeof step, "%s", e->reason);
        snprintf(e->reason, sizeof e->reason, "%s", c.reason);
        snprintf(e->msg, sizeof e->msg, "%s: %s (reason: %s; %s failed: %s)", c.what, c.fix, c.reason, step,
                 strerror(err));
}

int hostcheck_ids_usable(uid_t uid, gid_t gid) {
        /* Decides, so it reads our real /proc, never $SEALRUN_HOST_ROOT. */
        static const char *const maps[] = { "/proc/self/uid_map", "/proc/self/gid_map" };
        unsigned want[] = { (unsigned)uid, (unsigned)gid };
        char line[128];
        FILE *f;
        for (size_t i = 0; i < ELEMENTSOF(maps); i++) {
                bool found = false;
                if (!(f = fopen(maps[i], "re")))
                        return -errno;
                while (!found && fgets(line, sizeof line, f)) {
                        unsigned inside, outside, count;
                        if (sscanf(line, "%u %u %u", &inside, &outside, &count) == 3 && want[i] >= inside &&
                            want[i] - inside < count)
                                found = true;
                }
                fclose(f);
                if (!found)
                        return -ERANGE;
        }
        if ((f = fopen("/proc/self/setgroups", "re"))) {
                bool deny = fgets(line, sizeof line, f) && strncmp(line, "deny", 4) == 0;
                fclose(f);
                if (deny)
                        return -EPERM;
        }
        return 0;
}
