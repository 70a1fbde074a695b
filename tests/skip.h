/* Unit tests: skip a test for a documented host limit, saying why (make check counts the reasons). */
#pragma once
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Print "skip: REASON" and append "unit<TAB>PROGRAM<TAB>REASON" to
 * $SEALRUN_SKIP_LOG (set by make check), then let the caller skip(). */
__attribute__((format(printf, 1, 2))) static inline void sr_skip_reason(const char *fmt, ...) {
        char reason[512];
        const char *log = getenv("SEALRUN_SKIP_LOG");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
        printf("skip: %s\n", reason);
        fflush(stdout);
        if (log && *log) {
                FILE *f = fopen(log, "ae");
                if (f) {
                        fprintf(f, "unit\t%s\t%s\n", program_invocation_short_name, reason);
                        fclose(f);
                }
        }
}
