/* Test hook: pause at a named setup step (SEALRUN_TEST_STOP_AT), only ever pausing. */
#include "launcher/testhook.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>

bool testhook_armed(const char *step) {
        const char *want = getenv("SEALRUN_TEST_STOP_AT");
        return want && strcmp(want, step) == 0;
}

void testhook_hold(const atomic_bool *until, const char *name) {
        prctl(PR_SET_NAME, "sealrun-paused", 0, 0, 0);
        for (int i = 0; i < 10000 && !atomic_load(until); i++)
                nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
        prctl(PR_SET_NAME, name, 0, 0, 0);
}

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
