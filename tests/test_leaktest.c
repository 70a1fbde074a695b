/* Unit tests of sealrun-leaktest's pure parts: canary encodings, the scanner, the /proc maps parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

/* The helper's pure modules are compiled into this test directly. */
#include "helpers/leaktest/canary.c"
#include "helpers/leaktest/lt.c"
#include "helpers/leaktest/maps.c"
#include "helpers/leaktest/report.c"
#include "helpers/leaktest/report_junit.c"
#include "helpers/leaktest/meta.c"
#include "helpers/leaktest/rows.c"
#include "helpers/leaktest/scan.c"
#include "helpers/leaktest/units.c"
#include "helpers/leaktest/verdict_egress.c"

struct hit {
        size_t canary;
        enum lt_enc enc;
        uint64_t off;
};
struct hits {
        struct hit v[64];
        size_t n;
};

static int collect(void *ud, size_t canary, enum lt_enc enc, uint64_t off) {
        struct hits *h = ud;
        if (h->n < ELEMENTSOF(h->v))
                h->v[h->n++] = (struct hit){ canary, enc, off };
        return 0;
}

static struct canary mk(const char *label, const char *val) {
        struct canary c = { .len = strlen(val) };
        snprintf(c.label, sizeof c.label, "%s", label);
        c.val = sodium_malloc(c.len + 1);
        memcpy(c.val, val, c.len);
        return c;
}

static void render_is(enum lt_enc enc, const char *val, const char *want) {
        uint8_t out[ENC_OUT_MAX(64)];
        size_t n = enc_render(enc, (const uint8_t *)val, strlen(val), out);
        out[n] = 0;
        assert_int_equal(n, strlen(want));
        assert_memory_equal(out, want, n);
}

static void test_encodings_fixed(void **state) {
        render_is(ENC_RAW, "ab:c@d/E", "ab:c@d/E");
        render_is(ENC_RAW_HEAD, "ab:c@d/E", "ab:c");
        render_is(ENC_RAW_TAIL, "ab:c@d/E", "@d/E");
        render_is(ENC_HEX_LC, "ab:c@d/E", "61623a6340642f45");
        render_is(ENC_HEX_UC, "ab:c@d/E", "61623A6340642F45");
        render_is(ENC_URL_UC, "ab:c@d/E", "ab%3Ac%40d%2FE");
        render_is(ENC_URL_LC, "ab:c@d/E", "ab%3ac%40d%2fE");
        /* base64("ab:c@d/E") = "YWI6Y0BkL0U=": the aligned pattern drops the last, partial char */
        render_is(ENC_B64_0, "ab:c@d/E", "YWI6Y0BkL0");
        /* nothing to URL-encode: no URL pattern (it would equal raw) */
        uint8_t out[64];
        assert_int_equal(enc_render(ENC_URL_UC, (const uint8_t *)"abcDEF012", 9, out), 0);
        size_t n = enc_render(ENC_UTF16LE, (const uint8_t *)"aZ", 2, out);
        assert_int_equal(n, 4);
        assert_memory_equal(out, "a\0Z\0", 4);
        char b64[16];
        assert_int_equal(b64_encode((const uint8_t *)"ab", 2, b64), 4);
        assert_string_equal(b64, "YWI=");
}

static void test_canary_text_shape(void **state) {
        for (int round = 0; round < 50; round++) {
                uint8_t v[CANARY_TEXT_LEN];
                canary_text(v, sizeof v);
                for (size_t i = 0; i < sizeof v; i++) {
                        if (i % 4 == 3)
                                assert_non_null(strchr(":@$,;=+", v[i]));
                        else
                                assert_true((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
                                            (v[i] >= '0' && v[i] <= '9'));
                        assert_true(v[i] != '"' && v[i] != '\\' && v[i] != '/'); /* JSON copies stay verbatim */
                }
        }
        uint8_t a[CANARY_TEXT_LEN], b[CANARY_TEXT_LEN];
        canary_text(a, sizeof a);
        canary_text(b, sizeof b);
        assert_memory_not_equal(a, b, sizeof a);
}

/* A canary embedded at every offset of a larger blob is found in the blob's
 * base64 (and base64url) at the alignment its offset gives. */
static void test_base64_every_alignment(void **state) {
        uint8_t v[CANARY_TEXT_LEN];
        canary_text(v, sizeof v);
        v[5] = '>'; /* bits that give '+' and '/' in base64 are likely somewhere; make URL-safe differ */
        struct canary c = mk("t/x", "");
        sodium_free(c.val);
        c.val = v;
        c.len = sizeof v;
        struct scanner s;
        assert_int_equal(scanner_init(&s, &c, 1), 0);
        for (size_t pre = 0; pre < 7; pre++) {
                uint8_t blob[128];
                char enc[256];
                randombytes_buf(blob, sizeof blob);
                memcpy(blob + pre, v, sizeof v);
                size_t total = pre + sizeof v + 5;
                b64_encode(blob, total, enc);
                struct hits h = { 0 };
                scan_buffer(&s, (const uint8_t *)enc, strlen(enc), 0, collect, &h);
                assert_int_equal(h.n, 1);
                assert_int_equal(h.v[0].enc, ENC_B64_0 + pre % 3);
                /* the hit points into the encoded canary's span */
                assert_true(h.v[0].off >= (pre / 3) * 4 && h.v[0].off <= (pre / 3) * 4 + 4);
        }
        c.val = NULL;
        scanner_free(&s);
}

static void test_scanner_every_encoding(void **state) {
        struct canary c[2] = { mk("a/one", "Q7x:kP2@zz9+Lm4;R8t=Wq1$Yb6,Hn3@"),
                               mk("b/two", "m8N;fT4=Cd2:Gh7@Jk5+Lp0$Xs3,Vb9;") };
        struct scanner s;
        assert_int_equal(scanner_init(&s, c, 2), 0);
        for (int e = 0; e < ENC__MAX; e++) {
                uint8_t pat[ENC_OUT_MAX(64)], buf[512];
                size_t n = enc_render((enum lt_enc)e, c[1].val, c[1].len, pat);
                if (n == 0)
                        continue;
                memset(buf, 'x', sizeof buf);
                memcpy(buf + 100, pat, n);
                struct hits h = { 0 };
                scan_buffer(&s, buf, sizeof buf, 1000, collect, &h);
                assert_int_equal(h.n, 1);
                assert_int_equal(h.v[0].canary, 1);
                assert_int_equal(h.v[0].off, 1100);
                if (e == ENC_RAW_HEAD || e == ENC_RAW_TAIL)
                        assert_int_equal(h.v[0].enc, e);
        }
        /* a full copy is one hit, not three (raw + its two halves) */
        uint8_t buf[256];
        memset(buf, '.', sizeof buf);
        memcpy(buf + 7, c[0].val, c[0].len);
        memcpy(buf + 120, c[0].val, c[0].len);
        struct hits h = { 0 };
        assert_int_equal(scan_buffer(&s, buf, sizeof buf, 0, collect, &h), 2);
        assert_int_equal(h.v[0].off, 7);
        assert_int_equal(h.v[0].enc, ENC_RAW);
        assert_int_equal(h.v[1].off, 120);
        /* nothing in random bytes */
        uint8_t rnd[1 << 16];
        randombytes_buf(rnd, sizeof rnd);
        assert_int_equal(scan_buffer(&s, rnd, sizeof rnd, 0, NULL, NULL), 0);
        /* a copy at the very start and at the very end of a buffer */
        memcpy(rnd, c[0].val, c[0].len);
        memcpy(rnd + sizeof rnd - c[1].len, c[1].val, c[1].len);
        h.n = 0;
        assert_int_equal(scan_buffer(&s, rnd, sizeof rnd, 0, collect, &h), 2);
        /* a copy with one byte changed is not the canary (nor is either half, when the change is in both) */
        memcpy(buf, c[0].val, c[0].len);
        buf[3] ^= 1;
        buf[20] ^= 1;
        assert_int_equal(scan_buffer(&s, buf, c[0].len, 0, NULL, NULL), 0);
        for (int i = 0; i < 2; i++)
                sodium_free(c[i].val);
        scanner_free(&s);
}

/* Fed in chunks of every size, a stream finds the same hits at the same offsets. */
static void test_stream_chunks(void **state) {
        struct canary c = mk("a/k", "Zr4:Up9@Ee2+Tt6;Oo1=Ii8$Aa3,Ss5@");
        struct scanner s;
        uint8_t data[600];
        uint8_t pat[ENC_OUT_MAX(64)];
        assert_int_equal(scanner_init(&s, &c, 1), 0);
        memset(data, ' ', sizeof data);
        memcpy(data + 30, c.val, c.len);
        size_t hn = enc_render(ENC_HEX_UC, c.val, c.len, pat);
        memcpy(data + 200, pat, hn);
        size_t un = enc_render(ENC_UTF16LE, c.val, c.len, pat);
        memcpy(data + 400, pat, un);
        for (size_t chunk = 1; chunk <= 130; chunk += (chunk < 10 ? 1 : 13)) {
                struct scan_stream st;
                struct hits h = { 0 };
                assert_int_equal(scan_stream_init(&st, &s, collect, &h), 0);
                scan_stream_reset(&st, 5000);
                for (size_t i = 0; i < sizeof data; i += chunk)
                        scan_stream_feed(&st, data + i, i + chunk <= sizeof data ? chunk : sizeof data - i);
                scan_stream_finish(&st);
                assert_int_equal(h.n, 3);
                assert_int_equal(h.v[0].off, 5030);
                assert_int_equal(h.v[0].enc, ENC_RAW);
                assert_int_equal(h.v[1].off, 5200);
                assert_int_equal(h.v[1].enc, ENC_HEX_UC);
                assert_int_equal(h.v[2].off, 5400);
                assert_int_equal(h.v[2].enc, ENC_UTF16LE);
                scan_stream_free(&st);
        }
        /* a copy that ends the stream is decided by finish() */
        struct scan_stream st;
        struct hits h = { 0 };
        assert_int_equal(scan_stream_init(&st, &s, collect, &h), 0);
        scan_stream_feed(&st, data, 10);
        scan_stream_feed(&st, c.val, c.len);
        assert_int_equal(h.n, 0);
        scan_stream_finish(&st);
        assert_int_equal(h.n, 1);
        assert_int_equal(h.v[0].off, 10);
        assert_int_equal(h.v[0].enc, ENC_RAW);
        scan_stream_free(&st);
        sodium_free(c.val);
        scanner_free(&s);
}

/* A callback that returns non-zero stops the scan. */
static int stop_first(void *ud, size_t canary, enum lt_enc enc, uint64_t off) {
        (*(int *)ud)++;
        return 1;
}

static void test_scan_stop(void **state) {
        struct canary c = mk("a/k", "Zr4:Up9@Ee2+Tt6;Oo1=Ii8$Aa3,Ss5@");
        struct scanner s;
        uint8_t buf[200];
        int calls = 0;
        assert_int_equal(scanner_init(&s, &c, 1), 0);
        memset(buf, 0, sizeof buf);
        memcpy(buf, c.val, c.len);
        memcpy(buf + 100, c.val, c.len);
        scan_buffer(&s, buf, sizeof buf, 0, stop_first, &calls);
        assert_int_equal(calls, 1);
        sodium_free(c.val);
        scanner_free(&s);
}

static const char MAPS[] =
        "55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1835099                    /usr/bin/cat\n"
        "55d0c1b7e000-55d0c1b9f000 rw-p 00000000 00:00 0                          [heap]\n"
        "7f1e2c000000-7f1e2c021000 rw-p 00000000 00:00 0 \n"
        "7f1e2d5d3000-7f1e2d5d5000 rw-s 00000000 00:01 2050                       /memfd:secret (deleted)\n"
        "7ffd3a1c5000-7ffd3a1e6000 rw-p 00000000 00:00 0                          [stack]\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void test_maps_parse(void **state) {
        struct map_entry *m;
        size_t n;
        assert_int_equal(maps_parse(MAPS, strlen(MAPS), &m, &n), 0);
        assert_int_equal(n, 6);
        assert_int_equal(m[0].start, 0x55d0c0a00000ull);
        assert_int_equal(m[0].end, 0x55d0c0a02000ull);
        assert_string_equal(m[0].perms, "r--p");
        assert_int_equal(m[0].inode, 1835099);
        assert_string_equal(m[0].path, "/usr/bin/cat");
        assert_string_equal(m[1].path, "[heap]");
        assert_string_equal(m[2].path, "");
        assert_string_equal(m[3].path, "/memfd:secret (deleted)");
        assert_string_equal(m[3].perms, "rw-s");
        assert_int_equal(m[5].end, 0xffffffffff601000ull);
        assert_int_equal(m[0].rss_kb, -1);
        assert_ptr_equal(maps_find(m, n, 0x55d0c1b7e010ull), &m[1]);
        assert_null(maps_find(m, n, 0x1000));
        assert_null(maps_find(m, n, 0x55d0c0a02000ull)); /* end is exclusive */
        free(m);
        /* garbage, empty text and a truncated last line */
        assert_int_equal(maps_parse("not a map\n\nzz-zz\n", 17, &m, &n), 0);
        assert_int_equal(n, 0);
        free(m);
        assert_int_equal(maps_parse(MAPS, 45, &m, &n), 0);
        assert_int_equal(n, 0); /* the first line cut short before its inode */
        free(m);
}

static const char SMAPS[] = "7f1e2c000000-7f1e2c021000 rw-p 00000000 00:00 0 \n"
                            "Size:                132 kB\n"
                            "Rss:                   8 kB\n"
                            "Locked:                8 kB\n"
                            "VmFlags: rd wr mr mw me lo dd ac sd\n"
                            "7ffd3a1c5000-7ffd3a1e6000 rw-p 00000000 00:00 0                          [stack]\n"
                            "Size:                132 kB\n"
                            "Rss:                  20 kB\n"
                            "Swap:                  4 kB\n"
                            "VmFlags: rd wr mr mw me gd ac\n";

static void test_smaps_flags(void **state) {
        struct map_entry *m;
        size_t n;
        assert_int_equal(maps_parse(SMAPS, strlen(SMAPS), &m, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(m[0].rss_kb, 8);
        assert_int_equal(m[1].rss_kb, 20);
        assert_int_equal(m[0].swap_kb, -1);
        assert_int_equal(m[1].swap_kb, 4);
        assert_true(map_has_flag(&m[0], "dd"));
        assert_true(map_has_flag(&m[0], "lo"));
        assert_true(map_has_flag(&m[0], "sd"));
        assert_false(map_has_flag(&m[1], "dd"));
        assert_false(map_has_flag(&m[1], "lo"));
        assert_false(map_has_flag(&m[1], "d")); /* whole flags only */
        assert_string_equal(m[1].path, "[stack]");
        free(m);
}

/* The kernel's own smaps text: libsodium's guarded allocation is marked
 * MADV_DONTDUMP ("dd"), a malloc'd buffer is not. */
static void test_smaps_live(void **state) {
        uint8_t *secret = sodium_malloc(64);
        uint8_t *plain = malloc(64);
        FILE *f = fopen("/proc/self/smaps", "re");
        char *text = NULL;
        size_t cap = 0, n;
        struct map_entry *m;
        assert_non_null(secret);
        assert_non_null(f);
        FILE *mem = open_memstream(&text, &cap);
        char buf[4096];
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, mem);
        fclose(f);
        fclose(mem);
        assert_int_equal(maps_parse(text, cap, &m, &n), 0);
        assert_true(n > 5);
        const struct map_entry *ms = maps_find(m, n, (uint64_t)(uintptr_t)secret);
        const struct map_entry *mp = maps_find(m, n, (uint64_t)(uintptr_t)plain);
        assert_non_null(ms);
        assert_non_null(mp);
        assert_true(map_has_flag(ms, "dd"));
        assert_false(map_has_flag(mp, "dd"));
        assert_true(ms->rss_kb >= 0);
        free(m);
        free(text);
        free(plain);
        sodium_free(secret);
}

/* Where a hit goes: a tenant's own canary is tolerated where allowed, an
 * ungranted one nowhere (except in the decrypting process), another
 * tenant's never; the decrypting process's plaintext must sit in dd+lo pages. */
static void test_sink_rules(void **state) {
        static struct lt lt;
        struct report rep = { 0 };
        memset(&lt, 0, sizeof lt);
        int a = lt_owner_new(&lt, "a", "lt-a"), b = lt_owner_new(&lt, "b", "lt-b");
        int ca = lt_canary_new(&lt, a, "tok", false), cn = lt_canary_new(&lt, a, "ungranted", false);
        int cb = lt_canary_new(&lt, b, "tok", true);
        assert_true(ca >= 0 && cn >= 0 && cb >= 0);
        lt.nowhere[cn] = true;
        assert_int_equal(lt_scanner_build(&lt), 0);
        assert_int_equal(lt.canaries[cb].len, CANARY_BIN_LEN);
        assert_string_equal(lt.canaries[ca].label, "a/tok");

        uint8_t buf[256];
        memset(buf, '.', sizeof buf);
        memcpy(buf + 10, lt.canaries[ca].val, lt.canaries[ca].len);
        memcpy(buf + 60, lt.canaries[cn].val, lt.canaries[cn].len);
        memcpy(buf + 120, lt.canaries[cb].val, lt.canaries[cb].len);

        struct row *r = report_add(&rep, 3, V_PASS, "payload memory");
        struct sink k;
        sink_init(&k, &lt, r, 42, "payload mem", NULL, a);
        sink_scan(&k, buf, sizeof buf);
        assert_int_equal(k.allowed, 1);   /* its own */
        assert_int_equal(k.forbidden, 2); /* the ungranted one and b's */
        assert_int_equal(r->v, V_FAIL);
        assert_int_equal(r->n_places, 2);
        assert_int_equal(r->places[0].pid, 42);
        assert_int_equal(r->places[0].offset, 60);
        assert_string_equal(r->places[0].cred, "a/ungranted");
        assert_string_equal(r->places[1].cred, "b/tok");
        assert_string_equal(r->places[1].enc, "raw");
        assert_int_equal(lt.forbidden[cn], 1);
        assert_int_equal(lt.forbidden[ca], 0);
        assert_int_equal(lt.owners[b].hits, 1);

        /* the decrypting process: the ungranted one is allowed, but only in dd+lo pages */
        struct row *dd = report_add(&rep, 4, V_PASS, "dd"), *lo = report_add(&rep, 7, V_PASS, "lo");
        struct row *r2 = report_add(&rep, 3, V_PASS, "decrypter");
        struct map_entry maps[2] = { { .start = 0, .end = 100, .perms = "rw-p", .flags = "rd wr lo dd" },
                                     { .start = 100, .end = 256, .perms = "rw-p", .flags = "rd wr" } };
        sink_init(&k, &lt, r2, 7, "decrypting process mem", NULL, a);
        k.allow_nowhere = true;
        k.row_dd = dd;
        k.row_lo = lo;
        k.maps = maps;
        k.n_maps = 2;
        sink_scan(&k, buf, sizeof buf);
        assert_int_equal(k.allowed, 2);
        assert_int_equal(dd->n_places, 0); /* both at 10 and 60: in the dd+lo mapping */
        assert_int_equal(r2->n_places, 1); /* b's canary */
        memcpy(buf + 200, lt.canaries[ca].val, lt.canaries[ca].len);
        sink_scan(&k, buf, sizeof buf);
        assert_int_equal(dd->n_places, 1); /* the copy at 200 lies in plain pages */
        assert_int_equal(lo->n_places, 1);
        assert_int_equal(dd->places[0].offset, 200);
        assert_int_equal(dd->v, V_FAIL);
        report_free(&rep);
        lt_free(&lt);
}

/* A place that names a file called after a canary is cut before printing,
 * and the printed report never holds one. */
static void test_redact_and_print(void **state) {
        static struct lt lt;
        struct report rep = { 0 };
        memset(&lt, 0, sizeof lt);
        int a = lt_owner_new(&lt, "a", "lt-a");
        int c = lt_canary_new(&lt, a, "tok", false);
        assert_int_equal(lt_scanner_build(&lt), 0);
        uint8_t hex[ENC_OUT_MAX(64)];
        size_t hn = enc_render(ENC_HEX_LC, lt.canaries[c].val, lt.canaries[c].len, hex);
        struct row *r = report_add(&rep, 6, V_PASS, "files in /tmp");
        struct place p = { .offset = 0 };
        snprintf(p.what, sizeof p.what, "file name");
        snprintf(p.file, sizeof p.file, "/tmp/x-%.*s.log", (int)hn, hex);
        row_fail_place(r, &p);
        lt_redact_report(&lt, &rep);
        assert_string_equal(r->places[0].file, "/tmp/x-[a/tok as hex].log");
        char *text = NULL;
        size_t tl = 0;
        FILE *m = open_memstream(&text, &tl);
        report_print_json(m, &rep);
        report_print_table(m, &rep);
        fclose(m);
        assert_int_equal(scan_buffer(&lt.scanner, (const uint8_t *)text, tl, 0, NULL, NULL), 0);
        assert_non_null(strstr(text, "\"result\":\"FAIL\""));
        assert_non_null(strstr(text, "=> FAIL"));
        assert_int_equal(report_failed(&rep), 1);
        free(text);
        report_free(&rep);
        lt_free(&lt);
}

/* Vector 11 reading unit files: a hardened pool unit passes; a secret-looking
 * Environment= variable or a SetCredential= with a value fails, naming the
 * variable and never its value; a path-valued *_KEY is not a secret. */
static void units_case(const char *text, size_t want_places, const char *want_what) {
        static struct lt lt;
        static struct fleet f;
        struct report rep = { 0 };
        char dir[] = "/tmp/test-leaktest-units.XXXXXX", path[128];
        memset(&lt, 0, sizeof lt);
        memset(&f, 0, sizeof f);
        f.lt = &lt;
        fleet_rows(&f, &rep);
        lt_owner_new(&lt, "a", "lt-a");
        assert_int_equal(lt_scanner_build(&lt), 0);
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/sealrun-pool@.service", dir);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(text, fp);
        fclose(fp);
        const char *dirs[] = { dir, NULL };
        verdict_units(&f, dirs, false);
        assert_int_equal(f.exercised[R_UNITS], 1);
        assert_int_equal(f.rows[R_UNITS]->n_places, want_places);
        if (want_what) {
                assert_non_null(strstr(f.rows[R_UNITS]->places[0].what, want_what));
                assert_null(strstr(f.rows[R_UNITS]->places[0].what, "hunter2"));
        }
        unlink(path);
        rmdir(dir);
        report_free(&rep);
        lt_free(&lt);
}

static void test_units(void **state) {
        units_case("[Service]\nUser=sealrun-%i\nLoadCredentialEncrypted=pool.key:/etc/credstore.encrypted/"
                   "sealrun-pool-%i.key\n"
                   "Environment=LANG=C \"SEALRUN_POOL_KEY=/run/credentials/pool.key\"\nLimitCORE=0\n",
                   0, NULL);
        units_case("[Service]\nEnvironment=LANG=C GITHUB_TOKEN=hunter2\n", 1, "GITHUB_TOKEN");
        units_case("[Service]\nEnvironment=\"DB_PASSWORD=hunter2 x\"\n", 1, "DB_PASSWORD");
        units_case("[Service]\nSetCredential=pool.key:hunter2\n", 1, "SetCredential=pool.key");
        units_case("[Service]\nSetCredentialEncrypted=pool.key: k4BlobOfCiphertext\n", 0, NULL);

        /* nothing installed: not applicable, with where it looked */
        static struct fleet f;
        struct report rep = { 0 };
        memset(&f, 0, sizeof f);
        fleet_rows(&f, &rep);
        const char *none[] = { "/nonexistent-dir", NULL };
        verdict_units(&f, none, false);
        assert_int_equal(f.exercised[R_UNITS], 0);
        assert_non_null(strstr(f.why[R_UNITS], "not applicable"));
        assert_non_null(strstr(f.why[R_UNITS], "/nonexistent-dir"));
        report_free(&rep);
}

/* Every row of the normal run has an id: unique, "vector.words", the part
 * before the dot the row's vector name; ids never change (CI keys on them). */
static void test_row_ids(void **state) {
        static struct fleet f;
        struct report rep = { 0 };
        memset(&f, 0, sizeof f);
        fleet_rows(&f, &rep);
        for (size_t i = 0; i < rep.n; i++) {
                const char *id = rep.rows[i].id, *dot = strchr(id, '.');
                if (!dot || strncmp(id, vector_name(rep.rows[i].vector), (size_t)(dot - id)) != 0 ||
                    strlen(vector_name(rep.rows[i].vector)) != (size_t)(dot - id))
                        fail_msg("row %zu: id \"%s\" does not start with its vector \"%s.\"", i, id,
                                 vector_name(rep.rows[i].vector));
                for (const char *c = id; *c; c++)
                        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
                                fail_msg("id \"%s\": character '%c'", id, *c);
                for (size_t k = 0; k < i; k++)
                        if (strcmp(rep.rows[k].id, id) == 0)
                                fail_msg("id \"%s\" twice", id);
        }
        /* the ones documented in sealrun-leaktest(1) */
        assert_string_equal(f.rows[R_ENV_OTHER]->id, "environ.other-uid");
        assert_string_equal(f.rows[R_FC_REVOKED]->id, "fail-closed.revoked");
        assert_string_equal(f.rows[R_CORE_DD]->id, "core.dontdump");
        /* the brokered exchange and the tripwire (docs/leaktest.md) */
        assert_string_equal(f.rows[R_DELIV_BROKER_TLS]->id, "delivery.brokered-tls");
        assert_string_equal(f.rows[R_TRIP_UNBOUND]->id, "tripwire.unbound-host");
        assert_string_equal(f.rows[R_TRIP_PLAIN]->id, "tripwire.plain-http");
        assert_string_equal(f.rows[R_TRIP_BODY]->id, "tripwire.body");
        assert_int_equal(f.rows[R_TRIP_BODY]->vector, 14);
        /* a second row asking for an id gets a suffix */
        struct row *x = report_add(&rep, 13, V_PASS, "x"), *y = report_add(&rep, 13, V_PASS, "y");
        row_id(&rep, x, "self-test.environ.worker");
        row_id(&rep, y, "self-test.environ.worker");
        assert_string_equal(y->id, "self-test.environ.worker-2");
        report_free(&rep);
}

/* Details are never cut mid-word: a long one keeps whole words and says it was cut. */
static void test_detail_words(void **state) {
        char buf[32] = "";
        lt_append(buf, sizeof buf, "; ", "alpha beta");
        lt_append(buf, sizeof buf, "; ", "gamma delta epsilon zeta eta");
        assert_string_equal(buf, "alpha beta; gamma delta [...]");
        lt_append(buf, sizeof buf, "; ", "more");
        assert_string_equal(buf, "alpha beta; gamma delta [...]");
        struct report rep = { 0 };
        struct row *r = report_add(&rep, 1, V_PASS, "c");
        char word[64];
        for (int i = 0; i < 300; i++) {
                snprintf(word, sizeof word, "word%03d", i);
                row_detail(r, "%s", word);
        }
        /* 300 words of 7 plus separators is over 2 KiB: cut between words */
        size_t n = strlen(r->detail);
        assert_true(n < sizeof r->detail);
        assert_string_equal(r->detail + n - 6, " [...]");
        assert_true(strncmp(r->detail + n - 13, "word", 4) == 0);
        /* what fits is whole: 400 bytes (the old limit) of words are kept as they are */
        struct row *r2 = report_add(&rep, 1, V_PASS, "c");
        char long_text[1200];
        memset(long_text, 'x', sizeof long_text - 1);
        long_text[sizeof long_text - 1] = 0;
        row_detail(r2, "%s", long_text);
        assert_int_equal(strlen(r2->detail), sizeof long_text - 1);
        report_free(&rep);
        rep.rows = NULL;
}

/* JSON carries ids and the meta block; JUnit is well formed enough for CI:
 * one testcase per row, failures and skips, escaped text. */
static void test_json_junit_meta(void **state) {
        struct report rep = { .mode = "run", .sealrun = "/x/sealrun" };
        meta_time(&rep.meta, 0);
        meta_host(&rep.meta, "/bin/true");
        meta_policy(&rep.meta, "test <policy> & co", "/etc/hostname");
        meta_time(&rep.meta, 1);
        struct row *a = report_add(&rep, 1, V_PASS, "environ of \"x\"");
        row_id(&rep, a, "environ.x");
        struct row *b = report_add(&rep, 6, V_FAIL, "files");
        row_id(&rep, b, "files.tmp");
        row_detail(b, "found <1> & \"2\"");
        struct place p = { .pid = 7, .offset = 16 };
        snprintf(p.what, sizeof p.what, "file");
        snprintf(p.file, sizeof p.file, "/tmp/a&b");
        row_place(b, &p);
        struct row *c = report_add(&rep, 11, V_NA, "units");
        row_id(&rep, c, "unit-env.pool-units");
        row_detail(c, "not applicable: none installed");
        char *text = NULL;
        size_t tl = 0;
        FILE *m = open_memstream(&text, &tl);
        report_print_json(m, &rep);
        fclose(m);
        assert_non_null(strstr(text, "{\"id\":\"environ.x\",\"vector\":1,"));
        assert_non_null(strstr(text, "\"meta\":{\"started\":\"20"));
        assert_non_null(strstr(text, "\"kernel\":\"Linux "));
        assert_non_null(strstr(text, "\"policy\":\"test <policy> & co\",\"policy_blake2b\":\""));
        free(text);
        m = open_memstream(&text, &tl);
        report_print_junit(m, &rep);
        fclose(m);
        assert_non_null(
                strstr(text, "<testsuites name=\"sealrun-leaktest\" tests=\"3\" failures=\"1\" skipped=\"1\">"));
        assert_non_null(strstr(text, "<testcase classname=\"sealrun-leaktest.environ\" name=\"environ.x\">"));
        assert_non_null(strstr(text, "<failure message=\"found &lt;1&gt; &amp; &quot;2&quot;\" "
                                     "type=\"leak\">files&#10;at pid 7 file /tmp/a&amp;b"));
        assert_non_null(strstr(text, "<skipped message=\"not applicable: none installed\"/>"));
        assert_non_null(strstr(text, "<property name=\"policy\" value=\"test &lt;policy&gt; &amp; co\"/>"));
        assert_null(strstr(text, "& "));
        free(text);
        m = open_memstream(&text, &tl);
        report_print_table(m, &rep);
        fclose(m);
        assert_non_null(strstr(text, "[files.tmp]"));
        assert_non_null(strstr(text, "; kernel Linux "));
        free(text);
        report_free(&rep);
}

/* The brokered exchange's verdict from the payload's lines, the server's
 * records and the status JSON: all as they should be passes; a request the
 * server saw that it must not have, or a wrong header, fails its row. */
static const char EG_REP[] = "egress bound-1 200 placeholder -\negress bound-2 200 placeholder -\n"
                             "egress control-unbound 200 - -\negress trip-unbound-1 403 - -\n"
                             "egress trip-unbound-2 403 - -\negress trip-unbound-3 403 - -\n"
                             "egress control-plain 200 - -\negress trip-plain-1 403 - -\n"
                             "egress trip-plain-2 403 - -\negress trip-plain-3 403 - -\n"
                             "egress control-body 200 - -\negress trip-body-1 403 - -\n"
                             "egress trip-body-2 403 - -\negress trip-body-3 403 - -\n";
static const char EG_RECS[] = "req 1 api.lt.test:4433 /lt/bound-1 match 0\nreq 1 api.lt.test:4433 /lt/bound-2 match 0\n"
                              "req 1 other.lt.test:4433 /lt/control-unbound mismatch 0\n"
                              "req 0 api.lt.test:4433 /lt/control-plain mismatch 0\n"
                              "req 1 other.lt.test:4433 /lt/control-body none 0\n";

static void eg_case(const char *recs, const char *rep, struct fleet *f, struct report *rep_out, char *status_path) {
        static struct task t;
        memset(f, 0, sizeof *f);
        memset(&t, 0, sizeof t);
        fleet_rows(f, rep_out);
        f->srv_ready = true;
        f->srv.port = 4433;
        f->srv.recs = strdup(recs);
        t.exited = true;
        t.proxy = true;
        t.trip_denies = 2;
        t.rep = strdup(rep);
        snprintf(t.id, sizeof t.id, "lt-a-brokered");
        snprintf(t.status, sizeof t.status, "%s", status_path);
        verdict_egress(f, &t);
        free(t.rep);
        free(f->srv.recs);
}

static void test_verdict_egress(void **state) {
        static struct fleet f;
        char path[] = "/tmp/test-leaktest-status.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char *st = "{\"pid\":1}\n{\"credentials\":{\"injections\":[{\"name\":\"GH_BROKERED\",\"host\":"
                         "\"api.lt.test\",\"requests\":2}]},\"egress\":{\"denied\":["
                         "{\"host\":\"other.lt.test\",\"port\":4433,\"reason\":\"placeholder-misdirected\","
                         "\"credential\":\"GH_BROKERED\"},{\"host\":\"api.lt.test\",\"port\":4433,\"reason\":"
                         "\"placeholder-misdirected\",\"credential\":\"GH_BROKERED\"}]}}\n";
        assert_int_equal(write_all(fd, st, strlen(st)), 0);
        close(fd);
        static const enum rid rows[] = { R_DELIV_BROKER_TLS, R_TRIP_UNBOUND, R_TRIP_PLAIN, R_TRIP_BODY };

        struct report r1 = { 0 };
        eg_case(EG_RECS, EG_REP, &f, &r1, path);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                assert_int_equal(f.rows[rows[i]]->n_places, 0);
                assert_true(f.exercised[rows[i]] > 0);
        }
        report_free(&r1);

        /* the body forwarded once, a wrong header at the bound server */
        char recs[2048];
        snprintf(recs, sizeof recs, "%sreq 1 other.lt.test:4433 /lt/trip-body-2 none 1\n", EG_RECS);
        char *m = strstr(recs, "/lt/bound-2 match");
        memcpy(m, "/lt/bound-2 nomat", 17);
        struct report r2 = { 0 };
        eg_case(recs, EG_REP, &f, &r2, path);
        assert_int_equal(f.rows[R_TRIP_UNBOUND]->n_places, 0);
        assert_int_equal(f.rows[R_TRIP_BODY]->n_places, 1);
        assert_non_null(strstr(f.rows[R_TRIP_BODY]->places[0].what, "trip-body-2: forwarded"));
        assert_int_equal(f.rows[R_DELIV_BROKER_TLS]->n_places, 1);
        assert_non_null(strstr(f.rows[R_DELIV_BROKER_TLS]->places[0].what, "bound-2"));
        report_free(&r2);

        /* no control reached the server: the tripwire rows are not checked (a refusal proves nothing) */
        struct report r3 = { 0 };
        eg_case("req 1 api.lt.test:4433 /lt/bound-1 match 0\n", EG_REP, &f, &r3, path);
        assert_int_equal(f.exercised[R_TRIP_PLAIN], 0);
        assert_non_null(strstr(f.why[R_TRIP_PLAIN], "control"));
        report_free(&r3);
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encodings_fixed),
                cmocka_unit_test(test_canary_text_shape),
                cmocka_unit_test(test_base64_every_alignment),
                cmocka_unit_test(test_scanner_every_encoding),
                cmocka_unit_test(test_stream_chunks),
                cmocka_unit_test(test_scan_stop),
                cmocka_unit_test(test_maps_parse),
                cmocka_unit_test(test_smaps_flags),
                cmocka_unit_test(test_smaps_live),
                cmocka_unit_test(test_sink_rules),
                cmocka_unit_test(test_units),
                cmocka_unit_test(test_redact_and_print),
                cmocka_unit_test(test_row_ids),
                cmocka_unit_test(test_detail_words),
                cmocka_unit_test(test_json_junit_meta),
                cmocka_unit_test(test_verdict_egress),
        };
        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
