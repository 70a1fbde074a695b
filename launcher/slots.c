/* Per-tenant concurrency slots: N lock files per tenant, taken with a non-blocking flock,
 * so that a crashed supervisor frees its slot with its last fd. */
#include "launcher/slots.h"
#include "launcher/interrupt.h"
#include "policy/trusted_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

struct slot_ctx {
        int fd; /* holds the flock */
        long index;
};

#define SLOT_POLL_MS 100

/* XDG_RUNTIME_DIR only when it is what the spec promises: ours, 0700. */
static bool runtime_dir_ok(const char *dir) {
        struct stat st;
        return dir && dir[0] == '/' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
               (st.st_mode & 077) == 0;
}

int slot_base_dir(char *buf, size_t size) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        char run_user[64];
        int n;
        snprintf(run_user, sizeof run_user, "/run/user/%u", (unsigned)geteuid());
        if (geteuid() == 0)
                n = snprintf(buf, size, "/run\n%s", "sealrun/slots");
        else if (runtime_dir_ok(xdg))
                n = snprintf(buf, size, "%s\n%s", xdg, "sealrun/slots");
        /* Made by logind (or root) below root's /run/user: no other user can
         * create it, unlike anything in /tmp. */
        else if (runtime_dir_ok(run_user))
                n = snprintf(buf, size, "%s\n%s", run_user, "sealrun/slots");
        else
                n = snprintf(buf, size, "/tmp\nsealrun-%u/slots", (unsigned)geteuid());
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Another user made it first (a directory of theirs, or a symlink): this
 * caller's slots cannot live there, and only a directory no one else can
 * create gets them back. */
static int squatted(const char *path, const char *what, uid_t owner, struct sr_error *e) {
        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "slots-squatted",
                       "%s: %s uid %u, not by you (uid %u): another user could hold or steal this tenant's slots; "
                       "refusing. Set XDG_RUNTIME_DIR to a directory of yours with mode 0700 (or have /run/user/%u)",
                       path, what, (unsigned)owner, (unsigned)geteuid(), (unsigned)geteuid());
}

/* Each level we walk through must be ours (or root's) and writable by nobody
 * else: otherwise another user could pre-create the slot files and hold or
 * steal this tenant's slots. */
/* Why private_dir_open refused a level: its owner, or its mode. */
static int check_dir_stat(const struct stat *st, const char *path, bool last, struct sr_error *e) {
        if (st->st_uid != geteuid() && (last || st->st_uid != 0))
                return squatted(path, "owned by", st->st_uid, e);
        return sr_fail(e, SR_EXIT_REFUSED, EPERM, "slots",
                       "%s: slot directory has mode %04o (writable by others); refusing: another user could "
                       "hold or steal this tenant's slots",
                       path, (unsigned)(st->st_mode & 07777));
}

int slot_open_dir(const char *parent, const char *sub, const char *tenant, int *ret_fd, struct sr_error *e) {
        _cleanup_close_ int cur = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *rel = NULL;
        char path[4096], *comps[8], *save = NULL;
        size_t n = 0;
        int r;
        if (cur < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "slots", "%s: %s", parent, strerror(errno));
        if (!slug_valid(tenant))
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage", "slots: \"%s\" is not a tenant slug", tenant);
        if (!(rel = strdup(sub)))
                return -ENOMEM;
        for (char *c = strtok_r(rel, "/", &save); c && n < ELEMENTSOF(comps) - 1; c = strtok_r(NULL, "/", &save))
                comps[n++] = c;
        comps[n++] = (char *)tenant;
        snprintf(path, sizeof path, "%s", parent);
        for (size_t i = 0; i < n; i++) {
                bool last = i == n - 1;
                size_t pl = strlen(path);
                int next;
                snprintf(path + pl, sizeof path - pl, "/%s", comps[i]);
                /* Root's intermediate levels 0755 (/run/sealrun also holds
                 * the audit socket); everything else is private. */
                struct stat st = { 0 };
                r = private_dir_open(cur, comps[i],
                                     &(struct private_dir){ .create_mode = last || geteuid() != 0 ? 0700 : 0755,
                                                            .owner = geteuid(),
                                                            .root_too = !last,
                                                            .forbidden = 022 },
                                     &next, &st);
                if ((r == -ELOOP || r == -ENOTDIR) && st.st_uid != geteuid())
                        return squatted(path,
                                        S_ISLNK(st.st_mode) ? "a symlink (not followed) owned by"
                                                            : "not a directory, owned by",
                                        st.st_uid, e);
                if (r == -ELOOP || r == -ENOTDIR)
                        return sr_fail(e, SR_EXIT_REFUSED, -r, "slots",
                                       "%s: not a directory (a symlink is not followed); refusing", path);
                if (r == -EPERM)
                        return check_dir_stat(&st, path, last, e);
                if (r < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "slots", "cannot open %s: %s", path, strerror(-r));
                close(cur);
                cur = next;
        }
        *ret_fd = TAKE_FD(cur);
        return 0;
}

int slot_try(int dirfd, long n, int *ret_fd, long *ret_index, struct sr_error *e) {
        for (long i = 0; i < n; i++) {
                char name[32];
                struct stat st;
                _cleanup_close_ int fd = -1;
                snprintf(name, sizeof name, "slot-%ld", i);
                fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
                if (fd < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "slots", "slot file %s: %s", name, strerror(errno));
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
                        return sr_fail(
                                e, SR_EXIT_REFUSED, EPERM, "slots",
                                "slot file %s: not a private regular file of uid %u (owner %u, mode %04o); refusing",
                                name, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                        *ret_fd = TAKE_FD(fd);
                        *ret_index = i;
                        return 0;
                }
                if (errno != EWOULDBLOCK)
                        return sr_fail(e, SR_EXIT_LAUNCHER, errno, "slots", "flock slot file %s: %s", name,
                                       strerror(errno));
        }
        return -EAGAIN;
}

int slot_acquire(struct task *t, struct sr_error *e) {
        const char *tenant = t->cfg.tenant;
        long n = t->cfg.max_concurrent;
        char base[4200], *sub;
        _cleanup_close_ int dirfd = -1;
        int64_t deadline;
        int r, fd;
        long idx;

        if (n <= 0)
                return 0;
        if (!tenant)
                return sr_fail(e, SR_EXIT_LAUNCHER, EINVAL, "usage",
                               "--max-concurrent / limits.max_concurrent: slots are per tenant, pass --tenant");
        if ((r = slot_base_dir(base, sizeof base)) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "slots", "slot directory path too long");
        sub = strchr(base, '\n');
        *sub++ = 0;
        if ((r = slot_open_dir(base, sub, tenant, &dirfd, e)) < 0)
                return r;
        deadline = now_ms() + (int64_t)t->cfg.wait_slot_s * 1000;
        for (;;) {
                r = slot_try(dirfd, n, &fd, &idx, e);
                if (r == 0)
                        break;
                if (r != -EAGAIN)
                        return r;
                if (now_ms() >= deadline) {
                        if (t->cfg.wait_slot_s > 0)
                                return sr_fail(e, SR_EXIT_TEMPFAIL, EAGAIN, "slots-busy",
                                               "tenant %s: all %ld concurrency slots still busy after waiting %ld s "
                                               "(%s/%s/%s); retry later",
                                               tenant, n, t->cfg.wait_slot_s, base, sub, tenant);
                        return sr_fail(e, SR_EXIT_TEMPFAIL, EAGAIN, "slots-busy",
                                       "tenant %s: all %ld concurrency slots are busy (%s/%s/%s); retry later or wait "
                                       "with --wait-slot SECONDS",
                                       tenant, n, base, sub, tenant);
                }
                /* a cancel ends the wait (the supervisor reports the interruption) */
                if (interrupt_pending())
                        return sr_fail(e, SR_EXIT_LAUNCHER, EINTR, "interrupted-setup",
                                       "interrupted while waiting for a slot");
                /* A little jitter so waiting supervisors do not poll in lockstep. */
                nanosleep(&(struct timespec){ 0, (SLOT_POLL_MS + (long)(now_ms() % 37)) * 1000000L }, NULL);
        }
        t->slot = calloc(1, sizeof *t->slot);
        if (!t->slot) {
                close(fd);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "slots: out of memory");
        }
        t->slot->fd = fd;
        t->slot->index = idx;
        return 0;
}

void slot_release(struct task *t) {
        if (!t->slot)
                return;
        /* Closing the last fd of the open file drops the flock. */
        close(t->slot->fd);
        free(t->slot);
        t->slot = NULL;
}
