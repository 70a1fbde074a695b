/* Landlock: filesystem, TCP port and scope rules from the policy, with the ABI negotiated at run time.
 *
 * A protection the kernel's ABI cannot give refuses the launch (77) unless
 * the policy marked it optional; then it is reported in the status JSON's
 * "not_enforced" list (through SYNC_NOTE), never dropped silently. */
#include "launcher/landlock.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "launcher/sync.h"

/* Our own copies of the UAPI: the build host's headers may predate ABI 6. */
struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net; /* ABI 4 */
        uint64_t scoped;             /* ABI 6 */
};
struct ll_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port_attr {
        uint64_t allowed_access;
        uint64_t port;
};

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_REMOVE_DIR (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR (1ULL << 6)
#define FS_MAKE_DIR (1ULL << 7)
#define FS_MAKE_REG (1ULL << 8)
#define FS_MAKE_SOCK (1ULL << 9)
#define FS_MAKE_FIFO (1ULL << 10)
#define FS_MAKE_BLOCK (1ULL << 11)
#define FS_MAKE_SYM (1ULL << 12)
#define FS_REFER (1ULL << 13)     /* ABI 2 */
#define FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define NET_BIND_TCP (1ULL << 0)
#define NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)

#define FS_FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

int landlock_abi(void) {
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        return abi < 0 ? 0 : (int)abi;
}

/* Every filesystem right this ABI knows: what is not granted is denied. */
static uint64_t fs_handled(int abi) {
        uint64_t h = (FS_MAKE_SYM << 1) - 1;
        if (abi >= 2)
                h |= FS_REFER;
        if (abi >= 3)
                h |= FS_TRUNCATE;
        if (abi >= 5)
                h |= FS_IOCTL_DEV;
        return h;
}

static uint64_t fs_rights(unsigned access) {
        uint64_t r = 0;
        if (access & LL_READ)
                r |= FS_READ_FILE | FS_READ_DIR;
        if (access & LL_WRITE)
                r |= FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG | FS_MAKE_SOCK |
                     FS_MAKE_FIFO | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE | FS_IOCTL_DEV;
        if (access & LL_EXECUTE)
                r |= FS_EXECUTE;
        return r; /* device nodes are never created (MAKE_CHAR/BLOCK stay denied) */
}

static void note(struct task *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct task *t, const char *fmt, ...) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (t->sync_child >= 0)
                sync_send(t->sync_child, SYNC_NOTE, 0, 0, "landlock", buf);
}

static int add_fs_rules(struct task *t, int ruleset, uint64_t handled, struct sr_error *e) {
        const struct policy_landlock *l = &t->cfg.landlock;
        for (size_t i = 0; i < l->n_fs_rules; i++) {
                const struct landlock_fs_rule *rule = &l->fs_rules[i];
                struct ll_path_beneath_attr pb;
                _cleanup_close_ int fd = open(rule->path, O_PATH | O_CLOEXEC);
                struct stat st;
                if (fd < 0 && rule->optional && (errno == ENOENT || errno == ENOTDIR)) {
                        note(t, "landlock.fs[%zu]: %s does not exist in the sandbox (optional rule skipped)", i,
                             rule->path);
                        continue;
                }
                if (fd < 0 || fstat(fd, &st) < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, errno, "landlock", "%s: $.landlock.fs[%zu]: %s: %s",
                                       t->pol->file, i, rule->path, strerror(errno));
                pb.allowed_access = fs_rights(rule->access) & handled;
                if (!S_ISDIR(st.st_mode))
                        pb.allowed_access &= FS_FILE_RIGHTS;
                pb.parent_fd = fd;
                if (!pb.allowed_access)
                        continue;
                if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, errno, "landlock",
                                       "%s: $.landlock.fs[%zu]: %s: landlock_add_rule: %s", t->pol->file, i, rule->path,
                                       strerror(errno));
        }
        return 0;
}

/* What a mount of the plan implies for its destination: a bind is there to
 * be read (and written unless ro), a tmpfs to be used. Execute is never
 * implied (a work dir is data; running from it takes an explicit rule), and
 * an entry may opt out ("landlock": false; the policy loader checked that an
 * explicit rule still reaches it). Without this a bind is silently useless
 * under a Landlock "fs" section. */
static unsigned implied_access(const struct mount_entry *me) {
        if (me->no_landlock || me->absent)
                return 0;
        switch (me->type) {
        case MNT_RO_BIND: return LL_READ;
        case MNT_BIND:
        case MNT_TMPFS: return LL_READ | LL_WRITE;
        default: return 0;
        }
}

static int add_implied_rules(struct task *t, int ruleset, uint64_t handled, struct sr_error *e) {
        for (size_t i = 0; i < t->n_plan; i++) {
                const struct mount_entry *me = &t->plan[i];
                unsigned access = implied_access(me);
                struct ll_path_beneath_attr pb;
                _cleanup_close_ int fd = -1;
                struct stat st;
                if (!access)
                        continue;
                fd = open(me->dst, O_PATH | O_CLOEXEC | O_NOFOLLOW);
                /* covered by a later entry of the plan: nothing of it is reachable to grant */
                if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
                        continue;
                if (fd < 0 || fstat(fd, &st) < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, errno, "landlock",
                                       "%s: the Landlock access implied by mount %s: %s",
                                       me->from_cli ? "command line" : t->pol->file, me->dst, strerror(errno));
                pb.allowed_access = fs_rights(access) & handled;
                if (!S_ISDIR(st.st_mode))
                        pb.allowed_access &= FS_FILE_RIGHTS;
                pb.parent_fd = fd;
                if (pb.allowed_access && syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, errno, "landlock",
                                       "%s: the Landlock access implied by mount %s: landlock_add_rule: %s",
                                       me->from_cli ? "command line" : t->pol->file, me->dst, strerror(errno));
        }
        return 0;
}

static int add_port_rules(struct task *t, int ruleset, const uint16_t *ports, size_t n, uint64_t access,
                          struct sr_error *e) {
        for (size_t i = 0; i < n; i++) {
                struct ll_net_port_attr np = { .allowed_access = access, .port = ports[i] };
                if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, 0) < 0)
                        return sr_fail(e, SR_EXIT_REFUSED, errno, "landlock",
                                       "%s: $.landlock.net: port %u: landlock_add_rule: %s", t->pol->file, ports[i],
                                       strerror(errno));
        }
        return 0;
}

/* Decide what this kernel can enforce; refuse what it cannot unless optional. */
static int negotiate(struct task *t, int abi, struct ll_ruleset_attr *attr, size_t *size, struct sr_error *e) {
        const struct policy_landlock *l = &t->cfg.landlock;
        const char *f = t->pol->file;
        memset(attr, 0, sizeof *attr);
        *size = sizeof attr->handled_access_fs;
        if (l->fs) {
                /* below ABI 3 (truncate) or 5 (device ioctls) those rights
                 * stay open whatever the rules say: the policy must accept
                 * that (fs_rights_optional, or the section's optional) */
                bool partial_ok = l->fs_rights_optional || l->optional;
                attr->handled_access_fs = fs_handled(abi);
                if (abi < 5 && !partial_ok)
                        return sr_fail(
                                e, SR_EXIT_REFUSED, EOPNOTSUPP, "landlock",
                                "%s: $.landlock.fs: restricting %s needs Landlock ABI %d, the kernel has %d (set "
                                "\"fs_rights_optional\": true to run without)",
                                f, abi < 3 ? "truncate" : "device ioctls", abi < 3 ? 3 : 5, abi);
                if (abi < 3)
                        note(t, "landlock.fs: truncate is not restricted (kernel Landlock ABI %d < 3)", abi);
                if (abi < 5)
                        note(t, "landlock.fs: device ioctls are not restricted (kernel Landlock ABI %d < 5)", abi);
        }
        if (l->net && abi >= 4) {
                attr->handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
                *size = offsetof(struct ll_ruleset_attr, scoped);
        } else if (l->net && !l->net_optional && !l->optional) {
                return sr_fail(e, SR_EXIT_REFUSED, EOPNOTSUPP, "landlock",
                               "%s: $.landlock.net: TCP port rules need Landlock ABI 4, the kernel has %d (mark it "
                               "\"optional\" to run without)",
                               f, abi);
        } else if (l->net) {
                note(t, "landlock.net: TCP ports are not restricted (kernel Landlock ABI %d < 4)", abi);
        }
        if (l->scopes && abi >= 6) {
                attr->scoped = (l->scopes & LL_SCOPE_ABSTRACT_UNIX ? SCOPE_ABSTRACT_UNIX : 0) |
                               (l->scopes & LL_SCOPE_SIGNAL ? SCOPE_SIGNAL : 0);
                *size = sizeof *attr;
        } else if (l->scopes && !l->scope_optional && !l->optional) {
                return sr_fail(e, SR_EXIT_REFUSED, EOPNOTSUPP, "landlock",
                               "%s: $.landlock.scope: scoping needs Landlock ABI 6, the kernel has %d (mark it "
                               "\"optional\" to run without)",
                               f, abi);
        } else if (l->scopes) {
                note(t, "landlock.scope: abstract unix sockets and signals are not scoped (kernel Landlock ABI %d < 6)",
                     abi);
        }
        return 0;
}

int landlock_apply(struct task *t, struct sr_error *e) {
        return landlock_apply_abi(t, landlock_abi(), e);
}

int landlock_apply_abi(struct task *t, int abi, struct sr_error *e) {
        const struct policy_landlock *l = &t->cfg.landlock;
        struct ll_ruleset_attr attr;
        _cleanup_close_ int ruleset = -1;
        size_t size;
        int r;

        if (!l->set)
                return 0;
        if (abi > landlock_abi())
                abi = landlock_abi();
        if (abi < 1) {
                if (l->optional) {
                        note(t, "landlock: not available in this kernel (optional, ran without)");
                        return 0;
                }
                return sr_fail(e, SR_EXIT_REFUSED, EOPNOTSUPP, "landlock",
                               "%s: $.landlock: the kernel has no Landlock (mark it \"optional\" to run without)",
                               t->pol->file);
        }
        if ((r = negotiate(t, abi, &attr, &size, e)) < 0)
                return r;
        if (!attr.handled_access_fs && !attr.handled_access_net && !attr.scoped)
                return 0; /* everything asked was optional and unavailable (noted) */
        ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
        if (ruleset < 0)
                return sr_fail(e, SR_EXIT_REFUSED, errno, "landlock", "landlock_create_ruleset (ABI %d): %s", abi,
                               strerror(errno));
        if (attr.handled_access_fs && ((r = add_fs_rules(t, ruleset, attr.handled_access_fs, e)) < 0 ||
                                       (r = add_implied_rules(t, ruleset, attr.handled_access_fs, e)) < 0))
                return r;
        if (attr.handled_access_net &&
            ((r = add_port_rules(t, ruleset, l->bind_ports, l->n_bind_ports, NET_BIND_TCP, e)) < 0 ||
             (r = add_port_rules(t, ruleset, l->connect_ports, l->n_connect_ports, NET_CONNECT_TCP, e)) < 0))
                return r;
        if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
                return sr_fail(e, SR_EXIT_REFUSED, errno, "landlock", "landlock_restrict_self: %s", strerror(errno));
        return 0;
}

/* The egress proxy's domain: every right this ABI knows is handled and no
 * rule grants any, so no file can be opened (read, write or execute), no TCP
 * port bound or connected (ABI 4), and no signal or abstract unix socket
 * reaches outside the domain (ABI 6). */
int landlock_deny_all(int *ret_abi) {
        struct ll_ruleset_attr attr = { 0 };
        size_t size = sizeof attr.handled_access_fs;
        int abi = landlock_abi(), fd;
        *ret_abi = abi;
        if (abi < 1)
                return -EOPNOTSUPP;
        attr.handled_access_fs = fs_handled(abi);
        if (abi >= 4) {
                attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
                size = offsetof(struct ll_ruleset_attr, scoped);
        }
        if (abi >= 6) {
                attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
                size = sizeof attr;
        }
        fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
        if (fd < 0)
                return -errno;
        if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        close(fd);
        return 0;
}
