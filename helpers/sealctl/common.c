/* sealctl: writing output files atomically. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers/sealctl/sealctl.h"

int sealctl_write_file(const char *path, const void *buf, size_t len, unsigned mode, struct sr_error *e) {
        char tmp[4096];
        int fd, r;
        if (strcmp(path, "-") == 0) {
                if ((r = write_all(STDOUT_FILENO, buf, len)) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, -r, "io", "stdout: %s", strerror(-r));
                return 0;
        }
        if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENAMETOOLONG, "usage", "%s: path too long", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, "io", "%s: cannot create: %s", tmp, strerror(errno));
        if ((r = write_all(fd, buf, len)) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
                r = r < 0 ? r : -errno;
                close(fd);
                unlink(tmp);
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "io", "%s: cannot write: %s", tmp, strerror(-r));
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                r = errno;
                unlink(tmp);
                return sr_fail(e, SR_EXIT_LAUNCHER, r, "io", "%s: cannot rename into place: %s", path, strerror(r));
        }
        return 0;
}
