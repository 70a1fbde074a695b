/* The one table of reason codes: the word stderr, the status JSON and the audit trail use for each outcome. */
#pragma once

#include <stddef.h>

struct sr_reason {
        const char *code;    /* [a-z0-9_-], as in status.refused, audit "reason", failed_step */
        int exit_code;       /* sealrun's exit code for it (sealctl/auditd/pool use the same codes) */
        const char *meaning; /* one line, for the docs (docs/reasons.md is checked against it) */
};

extern const struct sr_reason sr_reasons[];
extern const size_t sr_reasons_n;

/* The entry for code, or NULL when the table lacks it. */
const struct sr_reason *sr_reason_find(const char *code);
