/* The default build's tls_load(): the TLS broker is a shared object embedded
 * in sealrun (build/gen/tls_blob.S), copied into a sealed memfd and opened
 * with dlopen() by the supervisor of a task that needs it (launcher/tls.h).
 * The memfd is made from the binary's own read-only bytes, sealed before the
 * loader maps it, and closed after: nothing on disk, nothing another process
 * could write. The broker's entry points below forward to its table. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "launcher/tls.h"
#include "launcher/tls/ops.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

extern const unsigned char sealrun_tls_so[] __attribute__((visibility("hidden")));
extern const unsigned char sealrun_tls_so_end[] __attribute__((visibility("hidden")));

static const struct tls_ops *ops;

static int blob_fd(void) {
        size_t len = (size_t)(sealrun_tls_so_end - sealrun_tls_so), off = 0;
        /* not executable as a program (kernel 6.3+): the loader maps it, never
         * execve; older kernels do not know the flag */
        int fd = memfd_create("sealrun-tls", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
        if (fd < 0 && errno == EINVAL)
                fd = memfd_create("sealrun-tls", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        while (off < len) {
                ssize_t n = write(fd, sealrun_tls_so + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -EIO;
                        close(fd);
                        return r;
                }
                off += (size_t)n;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int tls_load(struct sr_error *e) {
        char path[64];
        const struct tls_ops *o;
        tls_ops_fn get;
        void *h;
        int fd;
        if (ops)
                return 0;
        fd = blob_fd();
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -fd, "egress", "egress: cannot load the TLS broker: memfd: %s",
                               strerror(-fd));
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        /* RTLD_LOCAL: OpenSSL's symbols stay out of the global scope */
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        close(fd);
        if (!h)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOEXEC, "egress", "egress: cannot load the TLS broker: %s",
                               dlerror());
        get = (tls_ops_fn)dlsym(h, TLS_OPS_SYMBOL);
        o = get ? get() : NULL;
        if (!o || o->size != sizeof *o || o->task_size != sizeof(struct task)) {
                dlclose(h);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOEXEC, "egress",
                               "egress: cannot load the TLS broker: its table does not match this sealrun");
        }
        /* first, before OpenSSL allocates anything */
        if (o->mem_install() < 0) {
                dlclose(h);
                return sr_fail(e, SR_EXIT_LAUNCHER, EBUSY, "egress",
                               "egress: OpenSSL allocated memory before its wiping allocator was installed");
        }
        ops = o; /* never unloaded: the sandbox's processes inherit it */
        return 0;
}

/* The entry points. Every one but the first two and the NULL cases is
 * reached only with a task CA or a broker, which exist only once loaded. */
void broker_mem_lock_on(void) {
        if (ops)
                ops->mem_lock_on();
}

int broker_ca_prepare(struct task *t, struct broker_ca **ret, struct sr_error *e) {
        int r = tls_load(e);
        *ret = NULL;
        return r < 0 ? r : ops->ca_prepare(t, ret, e);
}

int broker_ca_files(const struct broker_ca *ca, char **ret_bundle, char **ret_ca) {
        *ret_bundle = *ret_ca = NULL;
        return ops ? ops->ca_files(ca, ret_bundle, ret_ca) : -ENOPKG;
}

void broker_ca_free(struct broker_ca *ca) {
        if (ca && ops)
                ops->ca_free(ca);
}

int broker_tls_start(struct task *t, struct broker_ca *ca, struct broker_creds *creds, int report_fd,
                     struct broker **ret) {
        *ret = NULL;
        if (ops)
                return ops->tls_start(t, ca, creds, report_fd, ret);
        return !creds || creds->n == 0 ? 0 : -ENOPKG; /* no CA: no profile, no broker */
}

bool broker_terminates(const struct broker *b, const char *host) {
        return b && ops && ops->terminates(b, host);
}

bool broker_bound(const struct broker *b, const char *host, uint16_t port, const char *const **ret_pins,
                  size_t *ret_n_pins) {
        return b && ops && ops->bound(b, host, port, ret_pins, ret_n_pins);
}

bool broker_stop(struct broker *b) {
        return !b || !ops || ops->stop(b);
}

bool broker_holds(const struct broker *b) {
        return b && ops && ops->holds(b);
}

int broker_take(struct broker *b, int cfd, int ufd, const char *host, uint16_t port, const char *pre, size_t pre_len,
                bool forward) {
        return b && ops ? ops->take(b, cfd, ufd, host, port, pre, pre_len, forward) : -ENOPKG;
}
