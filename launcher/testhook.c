/* Test hook: pause at a named setup step (SEALRUN_TEST_STOP_AT), only ever pausing. */
#include "launcher/testhook.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

void testhook_pause(const char *step) {
        const char *want = getenv("SEALRUN_TEST_STOP_AT");
        if (!want || strcmp(want, step) != 0)
                return;
        prctl(PR_SET_NAME, "sealrun-paused", 0, 0, 0);
        if (getpid() == 1)
                for (;;)
                        pause();
        raise(SIGSTOP);
}
