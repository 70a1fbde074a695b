/* --hold: the planted process of the self-test, holding canary bytes in its heap and a memfd, dumpable, with a core
 * limit. */
#include "helpers/leaktest/leaktest.h"

#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>

int hold_main(int argc, char **argv) {
        static uint8_t *volatile held; /* a plain heap copy: dumpable, swappable */
        bool in = false, memfd = false, core = false;
        size_t n = 0;
        for (int i = 1; i < argc; i++) {
                in |= strcmp(argv[i], "--stdin") == 0;
                memfd |= strcmp(argv[i], "--memfd") == 0;
                core |= strcmp(argv[i], "--core") == 0;
        }
        if (in) {
                char *buf;
                if (read_fd_all(0, 1u << 20, &buf, &n) < 0)
                        return 1;
                held = (uint8_t *)buf;
        }
        if (memfd) {
                int fd = memfd_create("sealrun-leaktest-plant", 0); /* kept open */
                if (fd < 0 || write_all(fd, (const void *)held, n) < 0)
                        return 1;
        }
        if (core) {
                struct rlimit rl;
                getrlimit(RLIMIT_CORE, &rl);
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_CORE, &rl);
        }
        /* no capabilities: the dumpable probe (same uid, no privilege) must
         * pass the kernel's "target's permitted caps within the reader's" test */
        if (geteuid() == 0) {
                cap_t c = cap_init();
                if (c) {
                        cap_set_proc(c);
                        cap_free(c);
                }
        }
        if (write_all(1, "ready\n", 6) < 0)
                return 1;
        for (;;)
                pause();
}
