/* Unit tests: policy/reasons.c, the one table of reason codes: every reason the code emits is in it, and the docs match
 * it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "launcher/child.h"
#include "launcher/setup.h"
#include "policy/reasons.h"

static void test_unique_and_well_formed(void **state) {
        for (size_t i = 0; i < sr_reasons_n; i++) {
                const char *c = sr_reasons[i].code;
                assert_true(strlen(c) > 0 && strlen(c) <= 64);
                assert_true(strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(c));
                assert_non_null(sr_reasons[i].meaning);
                for (size_t j = i + 1; j < sr_reasons_n; j++)
                        if (strcmp(c, sr_reasons[j].code) == 0)
                                fail_msg("reason \"%s\" is in the table twice", c);
        }
}

/* Every literal reason in the sources: sr_fail(e, EXIT, ERR, "reason", ...)
 * and trusted_file_check(fd, name, what, "reason", ...). */
static void test_sources_use_only_table_reasons(void **state) {
        const char *cmd = "cat launcher/*.c policy/*.c helpers/*/*.c | tr '\\n' ' ' | tr -s ' ' "
                          "| grep -oE '(sr_fail|trusted_file_check)\\([^,\"]+,[^,\"]+,[^,\"]+, *\"[^\"]*\"' "
                          "| sed -E 's/.*\"([^\"]*)\"$/\\1/' | sort -u";
        char line[256];
        size_t n = 0, missing = 0;
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                n++;
                if (!sr_reason_find(line)) {
                        fprintf(stderr, "reason \"%s\" is emitted but not in policy/reasons.c\n", line);
                        missing++;
                }
        }
        pclose(f);
        assert_true(n > 50); /* the scan found the calls */
        assert_int_equal(missing, 0);
}

static void check_steps(const char *table, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!sr_reason_find(names[i]))
                        fail_msg("%s step \"%s\" (a failure's reason) is not in policy/reasons.c", table, names[i]);
}

static void test_step_names(void **state) {
        const char *names[64];
        assert_true(child_init_steps_n < 64 && child_payload_steps_n < 64 && setup_steps_n < 64);
        for (size_t i = 0; i < child_init_steps_n; i++)
                names[i] = child_init_steps[i].name;
        check_steps("init", names, child_init_steps_n);
        for (size_t i = 0; i < child_payload_steps_n; i++)
                names[i] = child_payload_steps[i].name;
        check_steps("payload", names, child_payload_steps_n);
        for (size_t i = 0; i < setup_steps_n; i++)
                names[i] = setup_steps[i].name;
        check_steps("setup", names, setup_steps_n);
}

/* docs/reasons.md has one row per code, "| `code` | exit |", and no other. */
static void test_docs_match(void **state) {
        char line[512], code[80];
        size_t rows = 0;
        int exit_code;
        FILE *f = fopen("docs/reasons.md", "r");
        assert_non_null(f);
        while (fgets(line, sizeof line, f)) {
                const struct sr_reason *r;
                if (sscanf(line, "| `%79[^`]` | %d |", code, &exit_code) != 2)
                        continue;
                rows++;
                if (!(r = sr_reason_find(code)))
                        fail_msg("docs/reasons.md: \"%s\" is not in policy/reasons.c", code);
                if (r->exit_code != exit_code)
                        fail_msg("docs/reasons.md: \"%s\" exit %d, the table says %d", code, exit_code, r->exit_code);
        }
        fclose(f);
        if (rows != sr_reasons_n)
                fail_msg("docs/reasons.md has %zu rows, policy/reasons.c %zu codes (regenerate: make reasons-doc)",
                         rows, sr_reasons_n);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unique_and_well_formed),
                cmocka_unit_test(test_sources_use_only_table_reasons),
                cmocka_unit_test(test_step_names),
                cmocka_unit_test(test_docs_match),
        };
        /* --doc: print docs/reasons.md (make reasons-doc) */
        if (argc > 1 && strcmp(argv[1], "--doc") == 0) {
                printf("# Reason codes\n\n"
                       "The one word sealrun (and sealctl, sealrun-auditd, sealrun-pool) gives for an outcome: in\n"
                       "the stderr line's cause, the status JSON (`refused`, `failed_step`, `skipped_reasons`)\n"
                       "and the audit trail (`reason` of `deny`, `exit`, `revoke`, `abandoned`). Generated\n"
                       "from policy/reasons.c by `make reasons-doc`; `make unit` fails when they differ or\n"
                       "when the code emits a reason the table lacks. Exit 0: not an exit, a status entry.\n\n"
                       "| reason | exit | meaning |\n|---|---|---|\n");
                for (size_t i = 0; i < sr_reasons_n; i++)
                        printf("| `%s` | %d | %s |\n", sr_reasons[i].code, sr_reasons[i].exit_code,
                               sr_reasons[i].meaning);
                return 0;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
