/* The report as JUnit XML for CI: one testcase per row, named by its stable id, failures with their places. */
#include "helpers/leaktest/leaktest.h"

#include <string.h>

/* Attribute and text content: escape the five, drop control characters
 * (XML 1.0 cannot carry them at all). */
static void xml_str(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&apos;", f); break;
                case '\n': fputs("&#10;", f); break;
                default:
                        if (*p >= 0x20 && *p < 0x7f)
                                fputc(*p, f);
                        else
                                fputc('?', f); /* our strings are ASCII: paths and labels */
                }
        }
}

static void property(FILE *f, const char *name, const char *value) {
        fprintf(f, "      <property name=\"%s\" value=\"", name);
        xml_str(f, value && value[0] ? value : "unknown");
        fputs("\"/>\n", f);
}

void report_print_junit(FILE *f, const struct report *r) {
        size_t fail = 0, na = 0;
        for (size_t i = 0; i < r->n; i++) {
                fail += r->rows[i].v == V_FAIL;
                na += r->rows[i].v == V_NA;
        }
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
        fprintf(f, "<testsuites name=\"sealrun-leaktest\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n", r->n,
                fail, na);
        fprintf(f,
                "  <testsuite name=\"sealrun-leaktest.%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\"",
                r->mode ? r->mode : "run", r->n, fail, na);
        if (r->meta.started[0]) {
                fputs(" timestamp=\"", f);
                xml_str(f, r->meta.started);
                fputc('"', f);
        }
        fputs(">\n    <properties>\n", f);
        property(f, "started", r->meta.started);
        property(f, "finished", r->meta.finished);
        property(f, "kernel", r->meta.kernel);
        property(f, "sealrun_version", r->meta.sealrun_version);
        property(f, "leaktest_version", SEALRUN_VERSION);
        property(f, "sealrun", r->sealrun);
        property(f, "policy", r->meta.policy);
        property(f, "policy_blake2b", r->meta.policy_hash);
        fputs("    </properties>\n", f);
        for (size_t i = 0; i < r->n; i++) {
                const struct row *row = &r->rows[i];
                char buf[600];
                fputs("    <testcase classname=\"sealrun-leaktest.", f);
                xml_str(f, vector_name(row->vector));
                fputs("\" name=\"", f);
                xml_str(f, row->id);
                fputs("\">\n", f);
                if (row->v == V_FAIL) {
                        fputs("      <failure message=\"", f);
                        xml_str(f, row->detail[0] ? row->detail : row->check);
                        fputs("\" type=\"leak\">", f);
                        xml_str(f, row->check);
                        for (size_t k = 0; k < row->n_places; k++) {
                                report_place_text(&row->places[k], buf, sizeof buf);
                                fputs("&#10;at ", f);
                                xml_str(f, buf);
                        }
                        fputs("</failure>\n", f);
                } else if (row->v == V_NA) {
                        fputs("      <skipped message=\"", f);
                        xml_str(f, row->detail[0] ? row->detail : "not applicable");
                        fputs("\"/>\n", f);
                }
                fputs("      <system-out>", f);
                xml_str(f, row->check);
                if (row->detail[0]) {
                        fputs("&#10;", f);
                        xml_str(f, row->detail);
                }
                fputs("</system-out>\n    </testcase>\n", f);
        }
        fputs("  </testsuite>\n</testsuites>\n", f);
}
