/* Unit tests for policy/policy_extends.c: merge rules, extends chains, cycles, depth, fd sources, --print-policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/policy.h"

static struct sr_error e;
static char dir[64];

/* JSON with single quotes in C source */
static char *J(const char *s) {
        char *d = strdup(s);
        assert_non_null(d);
        for (char *c = d; *c; c++)
                if (*c == '\'')
                        *c = '"';
        return d;
}

static const char *put(const char *name, const char *json) {
        static char path[8][128];
        static int next;
        char *p = path[next++ % 8], *body = J(json);
        FILE *f;
        snprintf(p, 128, "%s/%s", dir, name);
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(body, f);
        fclose(f);
        free(body);
        return p;
}

static int setup(void **state) {
        snprintf(dir, sizeof dir, "/tmp/sealrun-test-extends.XXXXXX");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd);
}

static json_t *js(const char *s) {
        char *b = J(s);
        json_t *j = json_loads(b, 0, NULL);
        free(b);
        assert_non_null(j);
        return j;
}

static void test_merge_rules(void **state) {
        json_t *base = js("{'version':1,'hostname':'a','limits':{'timeout_s':10,'pids':{'max':5}},"
                          "'env':{'pass':['A','B'],'set':{'X':'1','Y':'2'}},"
                          "'mounts':[{'type':'proc','dst':'/proc'},{'type':'tmpfs','dst':'/tmp'}]}");
        json_t *over = js("{'hostname':'b','limits':{'timeout_s':20},'env':{'pass':['C'],'set':{'Y':null,'Z':'3'}},"
                          "'mounts':[{'type':'tmpfs','dst':'/tmp','size':8192},{'type':'dir','dst':'/work'}]}");
        json_t *want = js("{'version':1,'hostname':'b','limits':{'timeout_s':20,'pids':{'max':5}},"
                          "'env':{'pass':['C'],'set':{'X':'1','Z':'3'}},"
                          "'mounts':[{'type':'proc','dst':'/proc'},{'type':'tmpfs','dst':'/tmp','size':8192},"
                          "{'type':'dir','dst':'/work'}]}");
        assert_int_equal(policy_merge(base, over), 0);
        if (!json_equal(base, want)) {
                char *got = json_dumps(base, JSON_COMPACT);
                fail_msg("merged: %s", got);
        }
        /* "mounts" appends only at the top level; elsewhere arrays replace */
        json_t *b2 = js("{'x':{'mounts':[1]}}"), *o2 = js("{'x':{'mounts':[2]}}");
        assert_int_equal(policy_merge(b2, o2), 0);
        assert_int_equal(json_array_size(json_object_get(json_object_get(b2, "x"), "mounts")), 1);
        json_t *arr = json_array();
        assert_int_equal(policy_merge(b2, arr), -EINVAL);
        json_decref(arr);
        json_decref(b2);
        json_decref(o2);
        json_decref(base);
        json_decref(over);
        json_decref(want);
}

static void test_extends_file(void **state) {
        const char *base = put("base.json", "{'version':1,'hostname':'base','allow_tty':true,"
                                            "'mounts':[{'type':'proc','dst':'/proc'}],'limits':{'timeout_s':30}}");
        char child[512];
        struct policy *p = NULL;
        snprintf(child, sizeof child,
                 "{'extends':'%s','hostname':'child','limits':{'kill_grace_ms':100},"
                 "'mounts':[{'type':'tmpfs','dst':'/tmp'}]}",
                 base);
        const char *c = put("child.json", child);
        memset(&e, 0, sizeof e);
        if (policy_load(c, &p, &e) < 0)
                fail_msg("%s", e.msg);
        assert_string_equal(p->hostname, "child");
        assert_true(p->allow_tty);
        assert_int_equal(p->limits.timeout_s, 30);
        assert_int_equal(p->limits.timeout_ms, 30000);
        assert_int_equal(p->limits.kill_grace_ms, 100);
        assert_int_equal(p->n_mounts, 2);
        assert_int_equal(p->mounts[1].type, MNT_TMPFS);
        assert_string_equal(p->file, c);
        policy_free(p);

        /* --print-policy: the resolved document, which reads back the same */
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_int_equal(policy_print(c, f, &e), 0);
        fclose(f);
        assert_null(strstr(out, "extends"));
        assert_non_null(strstr(out, "\"hostname\": \"child\""));
        p = NULL;
        assert_int_equal(policy_parse("printed", out, len, &p, &e), 0);
        assert_int_equal(p->n_mounts, 2);
        policy_free(p);
        free(out);
}

static void bad_load(int line, const char *path, const char *needle) {
        struct policy *p = NULL;
        memset(&e, 0, sizeof e);
        if (policy_load(path, &p, &e) >= 0)
                fail_msg("line %d: %s loaded", line, path);
        assert_null(p);
        if (e.exit_code != SR_EXIT_LAUNCHER || !strstr(e.msg, needle) || strchr(e.msg, '\n'))
                fail_msg("line %d: exit %d, message \"%s\" (want \"%s\")", line, e.exit_code, e.msg, needle);
}
#define BAD_LOAD(path, needle) bad_load(__LINE__, path, needle)

static void test_extends_errors(void **state) {
        char buf[512], want[512];
        const char *a, *c;

        /* a cycle of two and a file extending itself: named as a cycle, in the file that closes it */
        snprintf(buf, sizeof buf, "{'extends':'%s/cb.json','version':1,'mounts':[]}", dir);
        a = put("ca.json", buf);
        snprintf(buf, sizeof buf, "{'extends':'%s/ca.json'}", dir);
        put("cb.json", buf);
        snprintf(want, sizeof want, "%s/cb.json: $.extends: \"%s\" leads back to %s (a cycle)", dir, a, a);
        BAD_LOAD(a, want);
        snprintf(buf, sizeof buf, "{'extends':'%s/self.json'}", dir);
        a = put("self.json", buf);
        BAD_LOAD(a, "(a cycle)");

        /* depth: a chain of 10 */
        for (int i = 0; i < 10; i++) {
                char name[32];
                snprintf(name, sizeof name, "d%d.json", i);
                if (i == 9)
                        put(name, "{'version':1,'mounts':[]}");
                else {
                        snprintf(buf, sizeof buf, "{'extends':'%s/d%d.json'}", dir, i + 1);
                        put(name, buf);
                }
        }
        snprintf(buf, sizeof buf, "%s/d0.json", dir);
        BAD_LOAD(buf, "$.extends: chain deeper than 8 policies");
        snprintf(buf, sizeof buf, "%s/d1.json", dir);
        struct policy *p = NULL;
        assert_int_equal(policy_load(buf, &p, &e), 0);
        policy_free(p);

        /* what extends may name */
        c = put("rel.json", "{'extends':'base.json'}");
        BAD_LOAD(c, "rel.json: $.extends: \"base.json\" is neither a stock policy name (default, agent) nor an "
                    "absolute path");
        c = put("num.json", "{'extends':1}");
        BAD_LOAD(c, "num.json: $.extends: expected a string");
        c = put("missing.json", "{'extends':'/nonexistent/x.json'}");
        BAD_LOAD(c, "missing.json: $.extends: /nonexistent/x.json: cannot open policy");
        c = put("nostock.json", "{'extends':'no-such-stock-policy'}");
        BAD_LOAD(c, "nostock.json: $.extends: no-such-stock-policy: no stock policy of that name");
        snprintf(buf, sizeof buf, "{'extends':'%s/arr.json'}", dir);
        put("arr.json", "[1]");
        c = put("toarr.json", buf);
        BAD_LOAD(c, "is not a JSON object");
        /* an error of the merged document names the file given */
        snprintf(buf, sizeof buf, "{'extends':'%s/d9.json','hostnme':'x'}", dir);
        c = put("typo.json", buf);
        BAD_LOAD(c, "typo.json: $.hostnme: unknown key");
        /* "extends" is followed only by the loader, not by policy_parse */
        memset(&e, 0, sizeof e);
        assert_true(policy_parse("t.json", "{\"extends\":\"agent\"}", 20, &p, &e) < 0);
}

static void test_fd_sources(void **state) {
        int pfd[2];
        char arg[32];
        struct policy *p = NULL;
        const char *doc = "{\"version\":1,\"mounts\":[],\"hostname\":\"frompipe\"}";
        assert_int_equal(pipe(pfd), 0);
        assert_int_equal(write(pfd[1], doc, strlen(doc)), (ssize_t)strlen(doc));
        close(pfd[1]);
        snprintf(arg, sizeof arg, "/dev/fd/%d", pfd[0]);
        memset(&e, 0, sizeof e);
        if (policy_load(arg, &p, &e) < 0)
                fail_msg("%s", e.msg);
        assert_string_equal(p->hostname, "frompipe");
        assert_string_equal(p->file, arg);
        policy_free(p);
        /* read once: the pipe is drained, a second read finds nothing */
        BAD_LOAD(arg, arg);
        close(pfd[0]);
        /* a closed fd */
        BAD_LOAD("/dev/fd/999", "/dev/fd/999: cannot read policy");
        /* a path to a pipe is still refused (a FIFO must not block the launcher) */
        BAD_LOAD("/dev/null", "/dev/null: policy is not a regular file");
        /* a directory through an fd */
        int d = open("/", O_RDONLY | O_DIRECTORY);
        snprintf(arg, sizeof arg, "/dev/fd/%d", d);
        BAD_LOAD(arg, "policy is not a regular file, pipe or socket");
        close(d);
}

static void test_stock_names(void **state) {
        assert_true(policy_stock_name_valid("agent"));
        assert_true(policy_stock_name_valid("default"));
        assert_true(policy_stock_name_valid("a-b_c9"));
        assert_false(policy_stock_name_valid("agent.json"));
        assert_false(policy_stock_name_valid("./agent"));
        assert_false(policy_stock_name_valid("Agent"));
        assert_false(policy_stock_name_valid("-x"));
        assert_false(policy_stock_name_valid(""));
        assert_false(policy_stock_name_valid(NULL));
        BAD_LOAD("no-such-stock-policy", "no-such-stock-policy: no stock policy of that name");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge_rules),    cmocka_unit_test(test_extends_file),
                cmocka_unit_test(test_extends_errors), cmocka_unit_test(test_fd_sources),
                cmocka_unit_test(test_stock_names),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
