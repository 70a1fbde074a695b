/* The report: one row per vector and check, printed as a table or as JSON; places never hold a canary. */
#include "helpers/leaktest/leaktest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#define PLACES_SHOWN 8

const char *vector_name(int vector) {
        static const char *const names[] = {
                "delivery", "environ", "cmdline",      "memory",   "core",        "fds",       "files",    "swap",
                "logs",     "output",  "cross-tenant", "unit-env", "fail-closed", "self-test", "tripwire",
        };
        return vector >= 0 && (size_t)vector < ELEMENTSOF(names) ? names[vector] : "?";
}

static const char *verdict_name(enum verdict v) {
        return v == V_PASS ? "PASS" : v == V_FAIL ? "FAIL" : "N/A";
}

/* Rows never move: sinks keep pointers to them while places are added. */
struct row *report_add(struct report *r, int vector, enum verdict v, const char *fmt, ...) {
        struct row *row;
        va_list ap;
        if (!r->rows)
                r->rows = calloc(REPORT_MAX_ROWS, sizeof *r->rows);
        if (!r->rows || r->n >= REPORT_MAX_ROWS) {
                fputs("sealrun-leaktest: out of memory (rows)\n", stderr);
                abort();
        }
        row = &r->rows[r->n++];
        memset(row, 0, sizeof *row);
        row->vector = vector;
        row->v = v;
        va_start(ap, fmt);
        vsnprintf(row->check, sizeof row->check, fmt, ap);
        va_end(ap);
        return row;
}

void lt_append(char *dst, size_t size, const char *sep, const char *text) {
        static const char cut[] = " [...]";
        size_t used = strnlen(dst, size), sl = used ? strlen(sep) : 0, tl = strlen(text), room, keep;
        /* room for the marker is always kept back, so a cut can always say so */
        if (size < sizeof cut + 1 || used + sizeof cut > size || strstr(dst, cut))
                return; /* full already: the first words are the ones that matter */
        room = size - sizeof cut - used;
        if (sl + tl <= room) {
                memcpy(dst + used, sep, sl);
                memcpy(dst + used + sl, text, tl + 1);
                return;
        }
        /* the longest prefix of text ending at a word boundary that fits */
        keep = room > sl ? room - sl : 0;
        while (keep > 0 && text[keep] != ' ' && text[keep] != ';' && text[keep] != ',')
                keep--;
        while (keep > 0 && (text[keep - 1] == ' ' || text[keep - 1] == ';' || text[keep - 1] == ','))
                keep--;
        if (keep) {
                memcpy(dst + used, sep, sl);
                used += sl;
                memcpy(dst + used, text, keep);
                used += keep;
        }
        memcpy(dst + used, cut, sizeof cut);
}

void row_detail(struct row *row, const char *fmt, ...) {
        char *text = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        lt_append(row->detail, sizeof row->detail, "; ", text);
        free(text);
}

void row_id(struct report *r, struct row *row, const char *id) {
        int dup = 1;
        snprintf(row->id, sizeof row->id, "%s", id);
        for (size_t i = 0; i < r->n; i++)
                if (&r->rows[i] != row && strcmp(r->rows[i].id, row->id) == 0) {
                        snprintf(row->id, sizeof row->id, "%.50s-%d", id, ++dup);
                        i = (size_t)-1; /* again, with the new name */
                }
}

void row_place(struct row *row, const struct place *p) {
        struct place *np = realloc(row->places, (row->n_places + 1) * sizeof *np);
        if (!np) {
                fputs("sealrun-leaktest: out of memory\n", stderr);
                abort();
        }
        row->places = np;
        row->places[row->n_places++] = *p;
}

void row_fail_place(struct row *row, const struct place *p) {
        row->v = V_FAIL;
        row_place(row, p);
}

size_t report_failed(const struct report *r) {
        size_t n = 0;
        for (size_t i = 0; i < r->n; i++)
                n += r->rows[i].v == V_FAIL;
        return n;
}

void report_place_text(const struct place *p, char *buf, size_t size) {
        size_t o = 0;
#define ADD(...) \
        do { \
                if (o < size) \
                        o += (size_t)snprintf(buf + o, size - o, __VA_ARGS__); \
        } while (0)
        if (p->pid > 0)
                ADD("pid %d ", (int)p->pid);
        ADD("%s", p->what);
        if (p->file[0])
                ADD(" %s", p->file);
        if (p->offset >= 0)
                ADD(" @%s%" PRIx64, p->offset > 0xffff ? "0x" : "+0x", (uint64_t)p->offset);
        if (p->enc[0])
                ADD(" as %s", p->enc);
        if (p->cred[0])
                ADD(" (%s)", p->cred);
#undef ADD
}

void report_print_table(FILE *f, const struct report *r) {
        size_t pass = 0, fail = 0, na = 0;
        fprintf(f, "sealrun-leaktest %s (%s) as uid %u, %s%s; %zu canaries, looked for in %zu forms\n", SEALRUN_VERSION,
                r->mode ? r->mode : "run", (unsigned)getuid(), r->sealrun ? "testing " : "no sealrun needed",
                r->sealrun ? r->sealrun : "", r->canaries, r->patterns);
        fprintf(f, "started %s, finished %s; kernel %s; sealrun %s; policy %s%s%s\n",
                r->meta.started[0] ? r->meta.started : "?", r->meta.finished[0] ? r->meta.finished : "?",
                r->meta.kernel[0] ? r->meta.kernel : "?",
                r->meta.sealrun_version[0] ? r->meta.sealrun_version : "(none)",
                r->meta.policy[0] ? r->meta.policy : "(none)", r->meta.policy_hash[0] ? ", blake2b " : "",
                r->meta.policy_hash);
        fprintf(f, "%-3s %-12s %-6s %s\n", "#", "vector", "result", "check [id]");
        for (size_t i = 0; i < r->n; i++) {
                const struct row *row = &r->rows[i];
                char buf[600];
                fprintf(f, "%-3d %-12s %-6s %s [%s]\n", row->vector, vector_name(row->vector), verdict_name(row->v),
                        row->check, row->id);
                if (row->detail[0])
                        fprintf(f, "%-23s %s\n", "", row->detail);
                for (size_t k = 0; k < row->n_places && k < PLACES_SHOWN; k++) {
                        report_place_text(&row->places[k], buf, sizeof buf);
                        fprintf(f, "%-23s %s %s\n", "", row->v == V_FAIL ? "at" : "-", buf);
                }
                if (row->n_places > PLACES_SHOWN)
                        fprintf(f, "%-23s ... and %zu more places (see --json)\n", "", row->n_places - PLACES_SHOWN);
                pass += row->v == V_PASS;
                fail += row->v == V_FAIL;
                na += row->v == V_NA;
        }
        fprintf(f, "%zu checks: %zu PASS, %zu FAIL, %zu not applicable => %s\n", r->n, pass, fail, na,
                fail ? "FAIL" : "PASS");
}

static void json_str(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p < 0x20 || *p >= 0x7f)
                        fprintf(f, "\\u%04x", *p); /* our strings are ASCII: paths and labels */
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static void json_str_or_null(FILE *f, const char *s) {
        if (s && s[0])
                json_str(f, s);
        else
                fputs("null", f);
}

void report_print_json(FILE *f, const struct report *r) {
        size_t fail = report_failed(r);
        fprintf(f, "{\"version\":1,\"mode\":");
        json_str(f, r->mode ? r->mode : "run");
        fprintf(f, ",\"uid\":%u,\"sealrun\":", (unsigned)getuid());
        if (r->sealrun)
                json_str(f, r->sealrun);
        else
                fputs("null", f);
        fputs(",\"meta\":{\"started\":", f);
        json_str_or_null(f, r->meta.started);
        fputs(",\"finished\":", f);
        json_str_or_null(f, r->meta.finished);
        fputs(",\"kernel\":", f);
        json_str_or_null(f, r->meta.kernel);
        fputs(",\"sealrun_version\":", f);
        json_str_or_null(f, r->meta.sealrun_version);
        fputs(",\"leaktest_version\":", f);
        json_str(f, SEALRUN_VERSION);
        fputs(",\"policy\":", f);
        json_str_or_null(f, r->meta.policy);
        fputs(",\"policy_blake2b\":", f);
        json_str_or_null(f, r->meta.policy_hash);
        fputc('}', f);
        fprintf(f, ",\"canaries\":%zu,\"patterns\":%zu,\"result\":\"%s\",\"failed\":%zu,\"rows\":[", r->canaries,
                r->patterns, fail ? "FAIL" : "PASS", fail);
        for (size_t i = 0; i < r->n; i++) {
                const struct row *row = &r->rows[i];
                fprintf(f, "%s{\"id\":", i ? "," : "");
                json_str(f, row->id);
                fprintf(f, ",\"vector\":%d,\"name\":", row->vector);
                json_str(f, vector_name(row->vector));
                fputs(",\"check\":", f);
                json_str(f, row->check);
                fprintf(f, ",\"result\":\"%s\",\"detail\":", verdict_name(row->v));
                json_str(f, row->detail);
                fputs(",\"places\":[", f);
                for (size_t k = 0; k < row->n_places; k++) {
                        const struct place *p = &row->places[k];
                        fprintf(f, "%s{\"pid\":", k ? "," : "");
                        if (p->pid > 0)
                                fprintf(f, "%d", (int)p->pid);
                        else
                                fputs("null", f);
                        fputs(",\"what\":", f);
                        json_str(f, p->what);
                        fputs(",\"file\":", f);
                        if (p->file[0])
                                json_str(f, p->file);
                        else
                                fputs("null", f);
                        if (p->offset >= 0)
                                fprintf(f, ",\"offset\":%" PRId64, p->offset);
                        else
                                fputs(",\"offset\":null", f);
                        fputs(",\"encoding\":", f);
                        if (p->enc[0])
                                json_str(f, p->enc);
                        else
                                fputs("null", f);
                        fputs(",\"credential\":", f);
                        if (p->cred[0])
                                json_str(f, p->cred);
                        else
                                fputs("null", f);
                        fputc('}', f);
                }
                fputs("]}", f);
        }
        fputs("]}\n", f);
}

void report_free(struct report *r) {
        for (size_t i = 0; i < r->n; i++)
                free(r->rows[i].places);
        free(r->rows);
        r->rows = NULL;
        r->n = 0;
}
