/* The one check for a file sealrun trusts: owner root or the caller, not writable by anyone else. */
#include "policy/trusted_file.h"

#include <string.h>
#include <sys/stat.h>

int trusted_file_check(int fd, const char *name, const char *what, const char *reason, unsigned flags,
                       struct sr_error *e) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, errno, reason, "%s: cannot stat %s: %s", name, what, strerror(errno));
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, reason, "%s: %s is owned by uid %u, not by you or root", name,
                               what, (unsigned)st.st_uid);
        /* An unlinked file (memfd, O_TMPFILE; a memfd is 0777) is reachable
         * only through this fd, so its mode bits grant nothing to anyone. */
        if (flags & TRUSTED_FILE_SECRET) {
                if (st.st_nlink > 0 && (st.st_mode & 077))
                        return sr_fail(e, SR_EXIT_REFUSED, EPERM, reason,
                                       "%s: %s is accessible by group or others (mode %04o): chmod 0600 it", name, what,
                                       (unsigned)(st.st_mode & 07777));
                return 0;
        }
        if (st.st_mode & 022)
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, reason, "%s: %s is writable by group or others (mode %04o)",
                               name, what, (unsigned)(st.st_mode & 07777));
        return 0;
}
