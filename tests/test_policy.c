/* Unit tests for policy/policy.c and policy/jsonx.c: every field, every error path, limits, stock policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/policy.h"

#define NAME "t.json"

static struct sr_error e;

/* JSON written with single quotes in C source, turned into double quotes. */
static char *J(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *J(const char *fmt, ...) {
        va_list ap;
        char *s;
        va_start(ap, fmt);
        assert_true(vasprintf(&s, fmt, ap) >= 0);
        va_end(ap);
        for (char *c = s; *c; c++)
                if (*c == '\'')
                        *c = '"';
        return s;
}

static struct policy *ok_(int line, char *json) {
        struct policy *p = NULL;
        memset(&e, 0, sizeof e);
        int r = policy_parse(NAME, json, strlen(json), &p, &e);
        if (r < 0)
                fail_msg("line %d: expected the policy to parse, got %d: %s\n  policy: %s", line, r, e.msg, json);
        free(json);
        assert_non_null(p);
        return p;
}
#define OK(...) ok_(__LINE__, J(__VA_ARGS__))
#define OK_FREE(...) policy_free(ok_(__LINE__, J(__VA_ARGS__)))

/* Must fail with 125 and "t.json: PATH: ...WHAT...". */
static void bad_(int line, const char *path, const char *what, char *json) {
        struct policy *p = NULL;
        char want[600];
        memset(&e, 0, sizeof e);
        int r = policy_parse(NAME, json, strlen(json), &p, &e);
        if (r >= 0)
                fail_msg("line %d: expected an error at %s, the policy parsed: %s", line, path, json);
        assert_null(p);
        if (e.exit_code != SR_EXIT_LAUNCHER)
                fail_msg("line %d: exit code %d, expected 125 (%s)", line, e.exit_code, e.msg);
        /* "line N column M" for syntax errors, a JSON path otherwise */
        snprintf(want, sizeof want, "%s: %s", NAME, path);
        if (strncmp(e.msg, want, strlen(want)) != 0 || !strchr(": ", e.msg[strlen(want)]) || !e.msg[strlen(want)])
                fail_msg("line %d: message \"%s\" does not start with \"%s\"", line, e.msg, want);
        if (what && !strstr(e.msg, what))
                fail_msg("line %d: message \"%s\" does not say \"%s\"", line, e.msg, what);
        if (strchr(e.msg, '\n'))
                fail_msg("line %d: message is not one line: \"%s\"", line, e.msg);
        free(json);
}
#define BAD(path, what, ...) bad_(__LINE__, path, what, J(__VA_ARGS__))

/* A valid document with extra top-level members spliced in. */
#define DOC(extra) "{'version':1,'mounts':[{'type':'proc','dst':'/proc'}]" extra "}"
/* A document whose third mount (index 2) is ENTRY. */
#define MDOC(entry) "{'version':1,'mounts':[{'type':'proc','dst':'/proc'},{'type':'dev','dst':'/dev'}," entry "]}"
#define MOUNT_OK(entry, ...) policy_free(ok_(__LINE__, J(MDOC(entry), ##__VA_ARGS__)))
#define MOUNT_BAD(key, what, entry, ...) bad_(__LINE__, "$.mounts[2]" key, what, J(MDOC(entry), ##__VA_ARGS__))

static void test_minimal_defaults(void **state) {
        struct policy *p = OK("{'version':1,'mounts':[]}");
        assert_int_equal(p->version, 1);
        assert_string_equal(p->file, NAME);
        assert_null(p->tenant);
        assert_true(p->ns_net);
        assert_true(p->ns_ipc);
        assert_true(p->ns_uts);
        assert_true(p->ns_cgroup);
        assert_string_equal(p->hostname, "sandbox");
        assert_int_equal(p->uid, 1000);
        assert_int_equal(p->gid, 1000);
        assert_int_equal(p->host_uid, 65534); /* never host root */
        assert_int_equal(p->host_gid, 65534);
        assert_int_equal(p->n_mounts, 0);
        assert_true(p->root_readonly);
        assert_false(p->allow_extra_binds);
        assert_false(p->allow_tty);
        assert_null(p->chdir);
        assert_int_equal(p->n_env_pass, 0);
        assert_int_equal(p->n_env_set, 0);
        assert_int_equal(p->network.mode, NET_NONE);
        assert_int_equal(p->limits.timeout_s, 0);
        assert_int_equal(p->limits.kill_grace_ms, 2000);
        for (int i = 0; i < RL_COUNT; i++)
                assert_false(p->limits.rlimit_set[i]);
        policy_free(p);
}

static void test_every_field(void **state) {
        struct policy *p = OK(
                "{'version':1,'description':'d','tenant':'acme','hostname':'box','uid':0,'gid':0,"
                "'host_uid':100000,'host_gid':100001,'root_readonly':false,'allow_extra_binds':true,"
                "'allow_tty':true,'chdir':'/work',"
                "'namespaces':{'user':true,'mount':true,'pid':true,'net':true,'ipc':false,'uts':false,'cgroup':false},"
                "'env':{'pass':['TERM','LANG'],'set':{'PATH':'/usr/bin','EMPTY':''}},"
                "'limits':{'timeout_s':30,'kill_grace_ms':500,'rlimits':{'core':0,'nofile':64,'nproc':100,"
                "'fsize':1048576,'stack':8388608,'as':1073741824}},"
                "'network':{'mode':'none'},'credentials':{},'audit':{},'seccomp':{'profile':'default'},'landlock':{'fs'"
                ":[]},'capabilities':[],"
                "'mounts':["
                "{'type':'ro-bind','src':'/usr','dst':'/usr'},"
                "{'type':'bind','src':'/var/tmp','dst':'/scratch','optional':true},"
                "{'type':'tmpfs','dst':'/tmp','mode':'1777','size':4096},"
                "{'type':'proc','dst':'/proc'},"
                "{'type':'dev','dst':'/dev'},"
                "{'type':'dir','dst':'/run','mode':'0755'},"
                "{'type':'symlink','dst':'/bin','target':'usr/bin'},"
                "{'type':'file','dst':'/etc/hostname','content':'box\\n','mode':'0644'}]}");
        assert_string_equal(p->tenant, "acme");
        assert_string_equal(p->hostname, "box");
        assert_int_equal(p->uid, 0);
        assert_int_equal(p->gid, 0);
        assert_int_equal(p->host_uid, 100000);
        assert_int_equal(p->host_gid, 100001);
        assert_false(p->root_readonly);
        assert_true(p->allow_extra_binds);
        assert_true(p->allow_tty);
        assert_string_equal(p->chdir, "/work");
        assert_true(p->ns_net);
        assert_false(p->ns_ipc);
        assert_false(p->ns_uts);
        assert_false(p->ns_cgroup);
        assert_int_equal(p->n_env_pass, 2);
        assert_string_equal(p->env_pass[1], "LANG");
        assert_int_equal(p->n_env_set, 2);
        for (size_t i = 0; i < p->n_env_set; i++) {
                if (strcmp(p->env_set[i].name, "PATH") == 0)
                        assert_string_equal(p->env_set[i].value, "/usr/bin");
                else
                        assert_string_equal(p->env_set[i].value, "");
        }
        assert_int_equal(p->limits.timeout_s, 30);
        assert_int_equal(p->limits.kill_grace_ms, 500);
        assert_true(p->limits.rlimit_set[RL_NOFILE]);
        assert_int_equal(p->limits.rlimit[RL_NOFILE], 64);
        assert_int_equal(p->limits.rlimit[RL_NPROC], 100);
        assert_int_equal(p->limits.rlimit[RL_FSIZE], 1048576);
        assert_int_equal(p->limits.rlimit[RL_STACK], 8388608);
        assert_int_equal(p->limits.rlimit[RL_AS], 1073741824);
        assert_int_equal(p->n_mounts, 8);
        assert_int_equal(p->mounts[0].type, MNT_RO_BIND);
        assert_string_equal(p->mounts[0].src, "/usr");
        assert_string_equal(p->mounts[0].dst, "/usr");
        assert_false(p->mounts[0].optional);
        assert_false(p->mounts[0].from_cli);
        assert_int_equal(p->mounts[1].type, MNT_BIND);
        assert_true(p->mounts[1].optional);
        assert_int_equal(p->mounts[2].type, MNT_TMPFS);
        assert_int_equal(p->mounts[2].mode, 01777);
        assert_int_equal(p->mounts[2].size, 4096);
        assert_int_equal(p->mounts[3].type, MNT_PROC);
        assert_null(p->mounts[3].src);
        assert_int_equal(p->mounts[4].type, MNT_DEV);
        assert_int_equal(p->mounts[5].type, MNT_DIR);
        assert_int_equal(p->mounts[5].mode, 0755);
        assert_int_equal(p->mounts[6].type, MNT_SYMLINK);
        assert_string_equal(p->mounts[6].src, "usr/bin"); /* the link target */
        assert_int_equal(p->mounts[7].type, MNT_FILE);
        assert_string_equal(p->mounts[7].content, "box\n");
        assert_int_equal(p->mounts[7].content_len, 4);
        assert_int_equal(p->mounts[7].mode, 0644);
        policy_free(p);
}

static void test_not_json(void **state) {
        BAD("line 1", "invalid JSON", "{");
        BAD("line 1", "invalid JSON", "version: 1");
        BAD("line 1", "invalid JSON", "%s", "");
        BAD("line 1", "invalid JSON", "{'version':1,'mounts':[]} trailing");
        BAD("line 1", "invalid JSON", "{'version':1,'mounts':[],}");
        /* the top level must be an object */
        BAD("$", "expected an object", "[]");
        /* jansson reads only an object or array at the top */
        BAD("line 1", "invalid JSON", "42");
        BAD("line 1", "invalid JSON", "'policy'");
        BAD("line 1", "invalid JSON", "null");
}

static void test_unknown_keys_everywhere(void **state) {
        BAD("$.frobnicate", "unknown key", DOC(",'frobnicate':1"));
        BAD("$.Version", "unknown key", DOC(",'Version':1"));
        BAD("$.namespaces.nett", "unknown key", DOC(",'namespaces':{'nett':false}"));
        BAD("$.env.sett", "unknown key", DOC(",'env':{'sett':{}}"));
        BAD("$.mounts[0].ro", "unknown key", "{'version':1,'mounts':[{'type':'proc','dst':'/proc','ro':true}]}");
        BAD("$.mounts[2].options", "unknown key", MDOC("{'type':'tmpfs','dst':'/tmp','options':'noexec'}"));
        BAD("$.limits.timeout", "unknown key", DOC(",'limits':{'timeout':5}"));
        BAD("$.limits.rlimits.cpu", "unknown key", DOC(",'limits':{'rlimits':{'cpu':5}}"));
        BAD("$.network.ip", "unknown key", DOC(",'network':{'ip':'10.0.0.1'}"));
        BAD("$.credentials.x", "unknown key", DOC(",'credentials':{'x':1}"));
        BAD("$.audit.x", "unknown key", DOC(",'audit':{'x':1}"));
        BAD("$.seccomp.x", "unknown key", DOC(",'seccomp':{'x':1}"));
        BAD("$.landlock.x", "unknown key", DOC(",'landlock':{'x':1}"));
        BAD("$.capabilities[0]", "unknown capability", DOC(",'capabilities':['x']"));
}

static void test_wrong_types(void **state) {
        BAD("$.version", "expected an integer, got a string", "{'version':'1','mounts':[]}");
        BAD("$.version", "expected an integer, got a number", "{'version':1.0,'mounts':[]}");
        BAD("$.version", "expected an integer, got null", "{'version':null,'mounts':[]}");
        BAD("$.mounts", "expected an array, got an object", "{'version':1,'mounts':{}}");
        BAD("$.description", "expected a string, got an integer", DOC(",'description':5"));
        BAD("$.tenant", "expected a string, got a boolean", DOC(",'tenant':true"));
        BAD("$.hostname", "expected a string, got an array", DOC(",'hostname':['a']"));
        BAD("$.chdir", "expected a string", DOC(",'chdir':1"));
        BAD("$.uid", "expected an integer, got a string", DOC(",'uid':'1000'"));
        BAD("$.gid", "expected an integer, got a number", DOC(",'gid':1000.5"));
        BAD("$.host_uid", "expected an integer", DOC(",'host_uid':'65534'"));
        BAD("$.host_gid", "expected an integer", DOC(",'host_gid':false"));
        BAD("$.root_readonly", "expected a boolean, got a string", DOC(",'root_readonly':'yes'"));
        BAD("$.allow_extra_binds", "expected a boolean, got an integer", DOC(",'allow_extra_binds':1"));
        BAD("$.allow_tty", "expected a boolean, got null", DOC(",'allow_tty':null"));
        BAD("$.namespaces", "expected an object, got an array", DOC(",'namespaces':[]"));
        BAD("$.namespaces.net", "expected a boolean", DOC(",'namespaces':{'net':'off'}"));
        BAD("$.namespaces.user", "expected true or \"optional\"", DOC(",'namespaces':{'user':1}"));
        BAD("$.env", "expected an object", DOC(",'env':['PATH']"));
        BAD("$.env.pass", "expected an array", DOC(",'env':{'pass':'TERM'}"));
        BAD("$.env.set", "expected an object", DOC(",'env':{'set':['A=B']}"));
        BAD("$.limits", "expected an object", DOC(",'limits':5"));
        BAD("$.limits.timeout_s", "expected an integer", DOC(",'limits':{'timeout_s':'5'}"));
        BAD("$.limits.rlimits", "expected an object", DOC(",'limits':{'rlimits':[]}"));
        BAD("$.limits.rlimits.nofile", "expected an integer", DOC(",'limits':{'rlimits':{'nofile':'64'}}"));
        BAD("$.network", "expected an object", DOC(",'network':'none'"));
        BAD("$.network.mode", "expected a string", DOC(",'network':{'mode':0}"));
        BAD("$.credentials", "expected an object", DOC(",'credentials':[]"));
        BAD("$.audit", "expected an object", DOC(",'audit':'required'"));
        BAD("$.seccomp", "expected an object", DOC(",'seccomp':true"));
        BAD("$.landlock", "expected an object", DOC(",'landlock':null"));
        BAD("$.capabilities", "expected an array", DOC(",'capabilities':{}"));
        BAD("$.mounts[0]", "expected an object, got an integer", "{'version':1,'mounts':[5]}");
        BAD("$.mounts[1]", "expected an object, got a string",
            "{'version':1,'mounts':[{'type':'proc','dst':'/proc'},'x']}");
}

static void test_required_and_version(void **state) {
        BAD("$.version", "missing required key", "{'mounts':[]}");
        BAD("$.mounts", "missing required key", "{'version':1}");
        BAD("$.version", "missing required key", "{}");
        BAD("$.version", "unsupported policy version 2", "{'version':2,'mounts':[]}");
        BAD("$.version", "between 1 and", "{'version':0,'mounts':[]}");
        BAD("$.version", "between 1 and", "{'version':-1,'mounts':[]}");
        BAD("$.version", "between 1 and", "{'version':99999999999,'mounts':[]}");
}

static void test_ids(void **state) {
        OK_FREE(DOC(",'uid':65533,'gid':65533,'host_uid':1,'host_gid':1"));
        OK_FREE(DOC(",'host_uid':4294967294,'host_gid':4294967294"));
        BAD("$.uid", "between 0 and 65533", DOC(",'uid':65534"));
        BAD("$.uid", "between", DOC(",'uid':-1"));
        BAD("$.gid", "between", DOC(",'gid':70000"));
        /* the host ids are never host root and never the overflow id (uid_t)-1 */
        BAD("$.host_uid", "between 1 and", DOC(",'host_uid':0"));
        BAD("$.host_gid", "between 1 and", DOC(",'host_gid':0"));
        BAD("$.host_uid", "between", DOC(",'host_uid':4294967295"));
        BAD("$.host_gid", "between", DOC(",'host_gid':-5"));
}

static void test_strings(void **state) {
        char h64[65], *doc;
        memset(h64, 'h', 64);
        h64[64] = 0;
        struct policy *p = OK(DOC(",'hostname':'%s'"), h64);
        assert_string_equal(p->hostname, h64);
        policy_free(p);
        BAD("$.hostname", "1 to 64", DOC(",'hostname':'%sx'"), h64);
        BAD("$.hostname", "1 to 64", DOC(",'hostname':''"));
        BAD("$.hostname", "without '/'", DOC(",'hostname':'a/b'"));
        BAD("$.tenant", "slug", DOC(",'tenant':'Acme'"));
        BAD("$.tenant", "slug", DOC(",'tenant':'a'"));
        BAD("$.tenant", "slug", DOC(",'tenant':'-acme'"));
        p = OK(DOC(",'tenant':'acme-2'"));
        assert_string_equal(p->tenant, "acme-2");
        policy_free(p);
        BAD("$.chdir", "absolute", DOC(",'chdir':'work'"));
        BAD("$.chdir", "absolute", DOC(",'chdir':'/a/../b'"));
        BAD("$.chdir", "absolute", DOC(",'chdir':'/work/'"));
        /* NUL inside a string can never truncate a value silently: the reader
         * refuses \\u0000 anywhere (jansson without JSON_ALLOW_NUL) */
        BAD("line 1", "\\u0000 is not allowed", DOC(",'hostname':'box\\u0000evil'"));
        BAD("line 1", "\\u0000 is not allowed", DOC(",'chdir':'/work\\u0000/x'"));
        BAD("line 1", "\\u0000 is not allowed", DOC(",'tenant':'acme\\u0000x'"));
        BAD("line 1", "\\u0000 is not allowed", DOC(",'description':'\\u0000'"));
        BAD("line 1", "\\u0000 is not allowed", MDOC("{'type':'dir','dst':'/a\\u0000/b'}"));
        BAD("line 1", "\\u0000 is not allowed", MDOC("{'type':'ro-bind','src':'/usr\\u0000x','dst':'/usr'}"));
        BAD("line 1", "\\u0000 is not allowed", MDOC("{'type':'symlink','target':'usr\\u0000','dst':'/bin'}"));
        BAD("line 1", "\\u0000 is not allowed", MDOC("{'type':'file','content':'a\\u0000b','dst':'/f'}"));
        BAD("line 1", "\\u0000 is not allowed", MDOC("{'type':'proc\\u0000','dst':'/proc2'}"));
        /* a NUL in an object key is refused by the parser itself */
        doc = J(DOC(",'env':{'set':{'A\\u0000B':'x'}}"));
        memset(&e, 0, sizeof e);
        p = NULL;
        assert_true(policy_parse(NAME, doc, strlen(doc), &p, &e) < 0);
        assert_null(p);
        assert_int_equal(strncmp(e.msg, NAME ": ", strlen(NAME) + 2), 0);
        free(doc);
}

static void test_mount_types(void **state) {
        BAD("$.mounts[2].type", "unknown mount type \"overlay\"", MDOC("{'type':'overlay','dst':'/x'}"));
        BAD("$.mounts[2].type", "unknown mount type", MDOC("{'type':'RO-BIND','src':'/a','dst':'/x'}"));
        BAD("$.mounts[2].type", "missing required key", MDOC("{'dst':'/x'}"));
        BAD("$.mounts[2].type", "expected a string", MDOC("{'type':1,'dst':'/x'}"));
        BAD("$.mounts[2].dst", "missing required key", MDOC("{'type':'proc'}"));
        BAD("$.mounts[2].dst", "expected a string", MDOC("{'type':'proc','dst':['/proc']}"));
}

static void test_mount_dst(void **state) {
        static const char *const bad[] = { "proc", "",     "/",    "/proc/", "//proc", "/a//b",    "/a/../b",
                                           "/..",  "/a/.", "/./a", "/a\\nb", "/a\\tb", "/a\\u0001" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                MOUNT_BAD(".dst", NULL, "{'type':'dir','dst':'%s'}", bad[i]);
        MOUNT_BAD(".dst", "sandbox root", "{'type':'tmpfs','dst':'/'}");
        MOUNT_BAD(".dst", "absolute normalised", "{'type':'tmpfs','dst':'/a/../etc'}");
        MOUNT_OK("{'type':'dir','dst':'/a/b/c'}");
        MOUNT_OK("{'type':'dir','dst':'/..x'}");
}

static void test_mount_binds(void **state) {
        static const char *const kinds[] = { "ro-bind", "bind" };
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                const char *t = kinds[k];
                struct policy *p = OK(MDOC("{'type':'%s','src':'/usr','dst':'/usr','optional':true}"), t);
                assert_int_equal(p->mounts[2].type, k == 0 ? MNT_RO_BIND : MNT_BIND);
                assert_true(p->mounts[2].optional);
                policy_free(p);
                MOUNT_OK("{'type':'%s','src':'/','dst':'/host','optional':false}", t);
                MOUNT_BAD(".src", "missing required key", "{'type':'%s','dst':'/usr'}", t);
                MOUNT_BAD(".src", "absolute normalised", "{'type':'%s','src':'usr','dst':'/usr'}", t);
                MOUNT_BAD(".src", "absolute normalised", "{'type':'%s','src':'/usr/../etc','dst':'/usr'}", t);
                MOUNT_BAD(".src", "absolute normalised", "{'type':'%s','src':'','dst':'/usr'}", t);
                MOUNT_BAD(".src", "expected a string", "{'type':'%s','src':5,'dst':'/usr'}", t);
                MOUNT_BAD(".mode", "only tmpfs, dir and file", "{'type':'%s','src':'/usr','dst':'/usr','mode':'0755'}",
                          t);
                MOUNT_BAD(".size", "only tmpfs", "{'type':'%s','src':'/usr','dst':'/usr','size':4096}", t);
                MOUNT_BAD(".content", "only file", "{'type':'%s','src':'/usr','dst':'/usr','content':'x'}", t);
                MOUNT_BAD(".target", "only symlink", "{'type':'%s','src':'/usr','dst':'/usr','target':'x'}", t);
                MOUNT_BAD(".optional", "expected a boolean", "{'type':'%s','src':'/usr','dst':'/usr','optional':'yes'}",
                          t);
        }
}

/* "landlock": false opts a mount out of its implied Landlock access; an
 * explicit rule must still reach its dst. */
static void test_mount_landlock_optout(void **state) {
        struct policy *p = OK(MDOC("{'type':'bind','src':'/srv','dst':'/data','landlock':false}"));
        assert_true(p->mounts[2].no_landlock);
        assert_false(p->mounts[0].no_landlock);
        policy_free(p);
        MOUNT_OK("{'type':'tmpfs','dst':'/data','landlock':true}");
        MOUNT_BAD(".landlock", "only bind, ro-bind and tmpfs", "{'type':'dir','dst':'/data','landlock':false}");
        MOUNT_BAD(".landlock", "expected a boolean", "{'type':'tmpfs','dst':'/data','landlock':'no'}");
        /* under a Landlock fs section, an opted-out mount no rule reaches is an error */
        BAD("$.mounts[0].landlock", "no $.landlock.fs rule grants anything at /data",
            "{'version':1,'mounts':[{'type':'bind','src':'/srv','dst':'/data','landlock':false}],"
            "'landlock':{'fs':[{'path':'/usr','access':['read']},{'path':'/dat','access':['read']}]}}");
        OK_FREE("{'version':1,'mounts':[{'type':'bind','src':'/srv','dst':'/data/x','landlock':false}],"
                "'landlock':{'fs':[{'path':'/data','access':['read']}]}}");
        OK_FREE("{'version':1,'mounts':[{'type':'ro-bind','src':'/srv','dst':'/data','landlock':false}],"
                "'landlock':{'fs':[{'path':'/','access':['read']}]}}");
}

static void test_workdir_section(void **state) {
        struct policy *p = OK(DOC(",'workdir':{'path':'/work','sources':['/srv/work','/home']}"));
        assert_string_equal(p->workdir.path, "/work");
        assert_int_equal(p->workdir.n_sources, 2);
        assert_string_equal(p->workdir.sources[1], "/home");
        policy_free(p);
        p = OK(DOC(""));
        assert_null(p->workdir.path);
        policy_free(p);
        BAD("$.workdir.path", "missing", DOC(",'workdir':{}"));
        BAD("$.workdir.path", "not \"/\"", DOC(",'workdir':{'path':'/'}"));
        BAD("$.workdir.path", "absolute normalised", DOC(",'workdir':{'path':'work'}"));
        BAD("$.workdir.sources[0]", "absolute normalised host path", DOC(",'workdir':{'path':'/w','sources':['a']}"));
        BAD("$.workdir.bogus", NULL, DOC(",'workdir':{'path':'/w','bogus':1}"));
}

static void test_network_modes(void **state) {
        struct policy *p =
                OK(DOC(",'network':{'mode':'none','modes':['veth','proxy'],'veth':{'pools':['10.250.0.0/24']},"
                       "'egress':{'allow':[{'host':'example.com'}]}}"));
        assert_true(pol_network_mode_allowed(&p->network, NET_VETH));
        assert_true(pol_network_mode_allowed(&p->network, NET_PROXY));
        assert_true(pol_network_mode_allowed(&p->network, NET_NONE));
        assert_false(pol_network_mode_allowed(&p->network, NET_HOST));
        policy_free(p);
        BAD("$.network.modes[0]", "cannot be chosen per task", DOC(",'network':{'modes':['host']}"));
        BAD("$.network.modes[1]", "listed twice",
            DOC(",'network':{'modes':['veth','veth'],'veth':{'pools':['10.250.0.0/24']}}"));
        BAD("$.network.modes[0]", "expected", DOC(",'network':{'modes':['wifi']}"));
        BAD("$.network.veth", "missing", DOC(",'network':{'modes':['veth']}"));
        BAD("$.network.veth", "only mode", DOC(",'network':{'veth':{'pools':['10.250.0.0/24']}}"));
        BAD("$.network.egress", "missing", DOC(",'network':{'modes':['proxy']}"));
}

static void test_mount_tmpfs(void **state) {
        struct policy *p = OK(MDOC("{'type':'tmpfs','dst':'/tmp','mode':'1777','size':1099511627776}"));
        assert_int_equal(p->mounts[2].mode, 01777);
        assert_int_equal(p->mounts[2].size, 1ULL << 40);
        policy_free(p);
        MOUNT_OK("{'type':'tmpfs','dst':'/tmp'}");
        MOUNT_BAD(".size", "between 4096 and", "{'type':'tmpfs','dst':'/tmp','size':4095}");
        MOUNT_BAD(".size", "between 4096 and", "{'type':'tmpfs','dst':'/tmp','size':0}");
        MOUNT_BAD(".size", "between 4096 and", "{'type':'tmpfs','dst':'/tmp','size':1099511627777}");
        MOUNT_BAD(".size", "between", "{'type':'tmpfs','dst':'/tmp','size':-4096}");
        MOUNT_BAD(".size", "expected an integer", "{'type':'tmpfs','dst':'/tmp','size':'64M'}");
        MOUNT_BAD(".src", "only bind entries take a source", "{'type':'tmpfs','src':'/x','dst':'/tmp'}");
        MOUNT_BAD(".optional", "only bind entries", "{'type':'tmpfs','dst':'/tmp','optional':true}");
        MOUNT_BAD(".content", "only file", "{'type':'tmpfs','dst':'/tmp','content':''}");
        MOUNT_BAD(".target", "only symlink", "{'type':'tmpfs','dst':'/tmp','target':'/x'}");
}

static void test_mount_mode(void **state) {
        static const char *const bad[] = { "",   "abc",   "0755x",
                                           "8",  "0o755", "10000",
                                           "-1", "0x1ed", "99999999999999999999999" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                MOUNT_BAD(".mode", "octal", "{'type':'dir','dst':'/d','mode':'%s'}", bad[i]);
        MOUNT_BAD(".mode", "expected a string", "{'type':'dir','dst':'/d','mode':493}");
        /* setuid and setgid bits are refused on every type that takes a mode */
        MOUNT_BAD(".mode", "setuid/setgid", "{'type':'file','dst':'/f','content':'x','mode':'4755'}");
        MOUNT_BAD(".mode", "setuid/setgid", "{'type':'file','dst':'/f','content':'x','mode':'2755'}");
        MOUNT_BAD(".mode", "setuid/setgid", "{'type':'dir','dst':'/d','mode':'6777'}");
        MOUNT_BAD(".mode", "setuid/setgid", "{'type':'tmpfs','dst':'/t','mode':'2777'}");
        MOUNT_BAD(".mode", "setuid/setgid", "{'type':'file','dst':'/f','content':'x','mode':'07777'}");
        /* mode 0 would silently mean "the default" (0644/0755): refused */
        MOUNT_BAD(".mode", NULL, "{'type':'file','dst':'/f','content':'x','mode':'0000'}");
        MOUNT_BAD(".mode", NULL, "{'type':'dir','dst':'/d','mode':'0'}");
        MOUNT_BAD(".mode", NULL, "{'type':'tmpfs','dst':'/t','mode':'000'}");
        /* the sticky bit is fine (/tmp) */
        MOUNT_OK("{'type':'dir','dst':'/d','mode':'1777'}");
        MOUNT_OK("{'type':'file','dst':'/f','content':'x','mode':'0400'}");
        MOUNT_OK("{'type':'tmpfs','dst':'/t','mode':'700'}");
}

static void test_mount_other_types(void **state) {
        /* proc, dev: dst only */
        static const char *const plain[] = { "proc", "dev" };
        for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
                const char *t = plain[i];
                MOUNT_OK("{'type':'%s','dst':'/x'}", t);
                MOUNT_BAD(".src", "only bind", "{'type':'%s','src':'/proc','dst':'/x'}", t);
                MOUNT_BAD(".mode", "only tmpfs, dir and file", "{'type':'%s','dst':'/x','mode':'0755'}", t);
                MOUNT_BAD(".size", "only tmpfs", "{'type':'%s','dst':'/x','size':4096}", t);
                MOUNT_BAD(".content", "only file", "{'type':'%s','dst':'/x','content':'x'}", t);
                MOUNT_BAD(".target", "only symlink", "{'type':'%s','dst':'/x','target':'x'}", t);
                MOUNT_BAD(".optional", "only bind", "{'type':'%s','dst':'/x','optional':true}", t);
        }
        /* dir */
        MOUNT_BAD(".src", "only bind", "{'type':'dir','src':'/a','dst':'/d'}");
        MOUNT_BAD(".size", "only tmpfs", "{'type':'dir','dst':'/d','size':8192}");
        MOUNT_BAD(".content", "only file", "{'type':'dir','dst':'/d','content':''}");
        /* symlink: target required, anything non-empty (relative or absolute) */
        struct policy *p = OK(MDOC("{'type':'symlink','dst':'/etc/localtime','target':'/usr/share/zoneinfo/UTC'}"));
        assert_string_equal(p->mounts[2].src, "/usr/share/zoneinfo/UTC");
        assert_null(p->mounts[2].content);
        policy_free(p);
        MOUNT_OK("{'type':'symlink','dst':'/lib','target':'../x/./y'}");
        MOUNT_BAD(".target", "missing required key", "{'type':'symlink','dst':'/bin'}");
        MOUNT_BAD(".target", "non-empty", "{'type':'symlink','dst':'/bin','target':''}");
        MOUNT_BAD(".target", "expected a string", "{'type':'symlink','dst':'/bin','target':null}");
        MOUNT_BAD(".src", "only bind", "{'type':'symlink','dst':'/bin','src':'/usr/bin','target':'x'}");
        MOUNT_BAD(".mode", "only tmpfs, dir and file", "{'type':'symlink','dst':'/bin','target':'x','mode':'0777'}");
        MOUNT_BAD(".content", "only file", "{'type':'symlink','dst':'/bin','target':'x','content':'x'}");
        /* file: content required, may be empty */
        p = OK(MDOC("{'type':'file','dst':'/etc/empty','content':''}"));
        assert_string_equal(p->mounts[2].content, "");
        assert_int_equal(p->mounts[2].content_len, 0);
        policy_free(p);
        MOUNT_BAD(".content", "missing required key", "{'type':'file','dst':'/etc/passwd'}");
        MOUNT_BAD(".content", "expected a string", "{'type':'file','dst':'/f','content':['a']}");
        MOUNT_BAD(".src", "only bind", "{'type':'file','dst':'/f','content':'x','src':'/etc/passwd'}");
        MOUNT_BAD(".target", "only symlink", "{'type':'file','dst':'/f','content':'x','target':'x'}");
        MOUNT_BAD(".size", "only tmpfs", "{'type':'file','dst':'/f','content':'x','size':4096}");
}

static void test_mount_count(void **state) {
        size_t n = 257, cap = 64 + n * 40;
        char *doc = malloc(cap), *w = doc;
        struct policy *p = NULL;
        assert_non_null(doc);
        for (size_t limit = 256; limit <= n; limit++) {
                w = doc + sprintf(doc, "{\"version\":1,\"mounts\":[");
                for (size_t i = 0; i < limit; i++)
                        w += sprintf(w, "%s{\"type\":\"dir\",\"dst\":\"/d%zu\"}", i ? "," : "", i);
                strcpy(w, "]}");
                memset(&e, 0, sizeof e);
                int r = policy_parse(NAME, doc, strlen(doc), &p, &e);
                if (limit == 256) {
                        assert_int_equal(r, 0);
                        assert_int_equal(p->n_mounts, 256);
                        policy_free(p);
                        p = NULL;
                } else {
                        assert_true(r < 0);
                        assert_non_null(strstr(e.msg, NAME ": $.mounts: too many entries"));
                }
        }
        free(doc);
}

static void test_namespaces(void **state) {
        static const char *const fixed[] = { "user", "mount", "pid" };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                char path[64];
                snprintf(path, sizeof path, "$.namespaces.%s", fixed[i]);
                BAD(path, "cannot be turned off", DOC(",'namespaces':{'%s':false}"), fixed[i]);
                OK_FREE(DOC(",'namespaces':{'%s':true}"), fixed[i]);
        }
        /* the user namespace: true, or "optional" (root may go on without it) */
        struct policy *p = OK(DOC(",'namespaces':{'user':'optional'}"));
        assert_true(p->userns_optional);
        policy_free(p);
        p = OK(DOC(",'namespaces':{'user':true}"));
        assert_false(p->userns_optional);
        policy_free(p);
        BAD("$.namespaces.user", "expected true or \"optional\"", DOC(",'namespaces':{'user':'Optional'}"));
        BAD("$.namespaces.user", "expected true or \"optional\"", DOC(",'namespaces':{'user':'off'}"));
        BAD("$.namespaces.user", "expected true or \"optional\"", DOC(",'namespaces':{'user':{'optional':true}}"));
        BAD("$.namespaces.user", "expected true or \"optional\"", DOC(",'namespaces':{'user':null}"));
        p = OK(DOC(",'namespaces':{'ipc':false}"));
        assert_false(p->ns_ipc);
        assert_true(p->ns_uts);
        assert_true(p->ns_net);
        policy_free(p);
        p = OK(DOC(",'namespaces':{}"));
        assert_true(p->ns_ipc && p->ns_uts && p->ns_cgroup && p->ns_net);
        policy_free(p);
        /* the network namespace goes only with network.mode "host", and "host"
         * only with the namespace off: the two can never disagree */
        BAD("$.namespaces.net", "requires", DOC(",'namespaces':{'net':false}"));
        BAD("$.namespaces.net", "requires", DOC(",'namespaces':{'net':false},'network':{'mode':'none'}"));
        BAD("$.network.mode", "requires", DOC(",'network':{'mode':'host'}"));
        p = OK(DOC(",'namespaces':{'net':false},'network':{'mode':'host'}"));
        assert_false(p->ns_net);
        assert_int_equal(p->network.mode, NET_HOST);
        policy_free(p);
        BAD("$.network.mode", "unknown mode", DOC(",'network':{'mode':'bridge'}"));
        OK_FREE(DOC(",'network':{}"));
}

static void test_env(void **state) {
        struct policy *p = OK(DOC(",'env':{}"));
        assert_int_equal(p->n_env_pass, 0);
        assert_int_equal(p->n_env_set, 0);
        policy_free(p);
        p = OK(DOC(",'env':{'pass':[],'set':{}}"));
        policy_free(p);
        BAD("$.env.pass[1]", "environment variable name", DOC(",'env':{'pass':['TERM',5]}"));
        BAD("$.env.pass[0]", "environment variable name", DOC(",'env':{'pass':['1TERM']}"));
        BAD("$.env.pass[0]", "environment variable name", DOC(",'env':{'pass':['A=B']}"));
        BAD("$.env.pass[0]", "environment variable name", DOC(",'env':{'pass':['']}"));
        BAD("$.env.pass[0]", "environment variable name", DOC(",'env':{'pass':[null]}"));
        /* "PATH\0X" must not turn into "PATH" */
        BAD("line 1", "\\u0000 is not allowed", DOC(",'env':{'pass':['PATH\\u0000X']}"));
        BAD("$.env.set.1A", "not a valid environment variable name", DOC(",'env':{'set':{'1A':'x'}}"));
        BAD("$.env.set.A=B", "not a valid", DOC(",'env':{'set':{'A=B':'x'}}"));
        BAD("$.env.set.A", "expected a string", DOC(",'env':{'set':{'A':5}}"));
        BAD("$.env.set.A", "expected a string", DOC(",'env':{'set':{'A':null}}"));
        BAD("line 1", "\\u0000 is not allowed", DOC(",'env':{'set':{'A':'x\\u0000y'}}"));
}

static void test_limits(void **state) {
        struct policy *p = OK(DOC(",'limits':{'timeout_s':0,'kill_grace_ms':0,'rlimits':{'core':0}}"));
        assert_int_equal(p->limits.timeout_s, 0);
        assert_int_equal(p->limits.kill_grace_ms, 0);
        policy_free(p);
        OK_FREE(DOC(",'limits':{'timeout_s':604800,'kill_grace_ms':60000}"));
        BAD("$.limits.timeout_s", "between", DOC(",'limits':{'timeout_s':604801}"));
        BAD("$.limits.timeout_s", "between", DOC(",'limits':{'timeout_s':-1}"));
        BAD("$.limits.kill_grace_ms", "between", DOC(",'limits':{'kill_grace_ms':60001}"));
        /* RLIMIT_CORE is always 0 */
        BAD("$.limits.rlimits.core", "core dumps are always disabled", DOC(",'limits':{'rlimits':{'core':1}}"));
        BAD("$.limits.rlimits.core", "core dumps", DOC(",'limits':{'rlimits':{'core':-1}}"));
        BAD("$.limits.rlimits.nofile", "between", DOC(",'limits':{'rlimits':{'nofile':-1}}"));
        BAD("$.limits.rlimits.as", "between", DOC(",'limits':{'rlimits':{'as':1125899906842625}}"));
        BAD("$.limits.rlimits.nproc", "expected an integer", DOC(",'limits':{'rlimits':{'nproc':true}}"));
        BAD("$.limits.rlimits.stack", "expected an integer", DOC(",'limits':{'rlimits':{'stack':null}}"));
}

static void test_duplicate_keys(void **state) {
        BAD("line 1", "duplicate", "{'version':1,'version':1,'mounts':[]}");
        BAD("line 1", "duplicate", DOC(",'namespaces':{'net':true,'net':true}"));
        BAD("line 1", "duplicate", MDOC("{'type':'dir','dst':'/a','dst':'/b'}"));
        BAD("line 1", "duplicate", DOC(",'env':{'set':{'A':'1','A':'2'}}"));
}

/* '[' * n ... ']' * n as the description's value. */
static char *nested(size_t n, char open, char close) {
        size_t len = n * 2 + 128;
        char *doc = malloc(len), *w;
        assert_non_null(doc);
        w = doc + sprintf(doc, "{\"version\":1,\"mounts\":[],\"description\":");
        memset(w, open, n);
        w += n;
        memset(w, close, n);
        w += n;
        strcpy(w, "}");
        return doc;
}

static int parse_raw(const char *doc) {
        struct policy *p = NULL;
        memset(&e, 0, sizeof e);
        int r = policy_parse(NAME, doc, strlen(doc), &p, &e);
        policy_free(p);
        return r;
}

static void test_deep_nesting(void **state) {
        /* 31 levels below the root object (32 in all) are still read: the
         * error is the description's type, not the depth */
        char *doc = nested(31, '[', ']');
        assert_true(parse_raw(doc) < 0);
        assert_non_null(strstr(e.msg, "$.description: expected a string"));
        free(doc);
        static const size_t deep[] = { 32, 1000, 100000, 1000000 };
        for (size_t i = 0; i < ELEMENTSOF(deep); i++) {
                doc = nested(deep[i], i % 2 ? '{' : '[', i % 2 ? '}' : ']');
                assert_true(parse_raw(doc) < 0);
                if (!strstr(e.msg, NAME ": $: document nested deeper than"))
                        fail_msg("%zu levels: \"%s\"", deep[i], e.msg);
                free(doc);
        }
        /* unbalanced: deep opening only */
        doc = nested(100000, '[', ' ');
        assert_true(parse_raw(doc) < 0);
        assert_non_null(strstr(e.msg, "nested deeper"));
        free(doc);
        /* brackets inside strings do not count, escaped quotes do not end them */
        doc = malloc(300000);
        assert_non_null(doc);
        char *w = doc + sprintf(doc, "{\"version\":1,\"mounts\":[],\"description\":\"\\\"\\\\");
        memset(w, '[', 200000);
        strcpy(w + 200000, "\"}");
        assert_int_equal(parse_raw(doc), 0);
        free(doc);
}

static char *src_path(const char *rel) {
        static char buf[4096];
        const char *src = getenv("SEALRUN_SRC");
        char file[] = __FILE__;
        if (!src)
                src = dirname(dirname(file));
        snprintf(buf, sizeof buf, "%s/%s", *src ? src : ".", rel);
        return buf;
}

static int write_tmp(char *tmpl, const char *head, size_t fill, char c, const char *tail) {
        int fd = mkstemp(tmpl);
        char *buf;
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, head, strlen(head)), 0);
        buf = malloc(fill);
        assert_non_null(buf);
        memset(buf, c, fill);
        assert_int_equal(write_all(fd, buf, fill), 0);
        free(buf);
        assert_int_equal(write_all(fd, tail, strlen(tail)), 0);
        close(fd);
        return 0;
}

static void test_huge_documents(void **state) {
        static const char head[] = "{\"version\":1,\"mounts\":[],\"description\":\"";
        static const char tail[] = "\"}";
        char path[] = "/tmp/sealrun-test-policy.XXXXXX";
        struct policy *p = NULL;
        size_t fill = POLICY_MAX_BYTES - strlen(head) - strlen(tail);

        /* exactly the limit: read and parsed */
        write_tmp(path, head, fill, 'a', tail);
        memset(&e, 0, sizeof e);
        if (policy_load(path, &p, &e) < 0)
                fail_msg("a policy of exactly %u bytes was refused: %s", POLICY_MAX_BYTES, e.msg);
        assert_string_equal(p->file, path);
        policy_free(p);
        p = NULL;
        unlink(path);

        /* one byte over: refused before parsing, naming the file */
        strcpy(path, "/tmp/sealrun-test-policy.XXXXXX");
        write_tmp(path, head, fill + 1, 'a', tail);
        memset(&e, 0, sizeof e);
        assert_true(policy_load(path, &p, &e) < 0);
        assert_null(p);
        assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
        assert_int_equal(strncmp(e.msg, path, strlen(path)), 0);
        assert_non_null(strstr(e.msg, "larger than"));
        unlink(path);

        /* far over (16 MiB) */
        strcpy(path, "/tmp/sealrun-test-policy.XXXXXX");
        write_tmp(path, head, 16u << 20, 'a', tail);
        memset(&e, 0, sizeof e);
        assert_true(policy_load(path, &p, &e) < 0);
        assert_non_null(strstr(e.msg, "larger than"));
        unlink(path);

        /* a large value under the limit is read whole */
        strcpy(path, "/tmp/sealrun-test-policy.XXXXXX");
        write_tmp(path, "{\"version\":1,\"mounts\":[],\"env\":{\"set\":{\"A\":\"", 3u << 20, 'b', "\"}}}");
        memset(&e, 0, sizeof e);
        assert_int_equal(policy_load(path, &p, &e), 0);
        assert_int_equal(strlen(p->env_set[0].value), 3u << 20);
        policy_free(p);
        unlink(path);
}

static void test_load_errors(void **state) {
        struct policy *p = NULL;
        memset(&e, 0, sizeof e);
        assert_true(policy_load("/nonexistent/policy.json", &p, &e) < 0);
        assert_int_equal(e.exit_code, SR_EXIT_LAUNCHER);
        assert_non_null(strstr(e.msg, "/nonexistent/policy.json: cannot open policy"));
        memset(&e, 0, sizeof e);
        assert_true(policy_load("/tmp", &p, &e) < 0);
        assert_non_null(strstr(e.msg, "/tmp: policy is not a regular file"));
        memset(&e, 0, sizeof e);
        assert_true(policy_load("/dev/null", &p, &e) < 0);
        assert_non_null(strstr(e.msg, "/dev/null: policy is not a regular file"));
        assert_null(p);
        /* a FIFO is refused, not waited on forever (the alarm fails the test) */
        char dir[] = "/tmp/sealrun-test-fifo.XXXXXX", fifo[64];
        assert_non_null(mkdtemp(dir));
        snprintf(fifo, sizeof fifo, "%s/p", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        memset(&e, 0, sizeof e);
        alarm(10);
        int r = policy_load(fifo, &p, &e);
        alarm(0);
        unlink(fifo);
        rmdir(dir);
        assert_true(r < 0);
        assert_non_null(strstr(e.msg, "not a regular file"));
}

static void load_file(const char *rel, bool may_be_missing) {
        const char *path = src_path(rel);
        struct policy *p = NULL;
        if (may_be_missing && access(path, F_OK) < 0) {
                print_message("%s does not exist yet: skipped\n", path);
                skip();
        }
        memset(&e, 0, sizeof e);
        if (policy_load(path, &p, &e) < 0)
                fail_msg("%s: %s", path, e.msg);
        /* what every shipped policy promises: full isolation, no host root,
         * a fresh /proc, no extra privileges */
        assert_true(p->ns_net && p->ns_ipc && p->ns_uts && p->ns_cgroup);
        assert_true(p->host_uid != 0 && p->host_gid != 0);
        bool has_proc = false;
        for (size_t i = 0; i < p->n_mounts; i++)
                if (p->mounts[i].type == MNT_PROC && strcmp(p->mounts[i].dst, "/proc") == 0)
                        has_proc = true;
        assert_true(has_proc);
        policy_free(p);
}

static void test_stock_default(void **state) {
        load_file("policy/stock/default.json", false);
}
static void test_stock_agent(void **state) {
        load_file("policy/stock/agent.json", true);
}
static void test_integration_policy(void **state) {
        load_file("integration/policies/test.json", false);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_minimal_defaults),
                cmocka_unit_test(test_every_field),
                cmocka_unit_test(test_not_json),
                cmocka_unit_test(test_unknown_keys_everywhere),
                cmocka_unit_test(test_wrong_types),
                cmocka_unit_test(test_required_and_version),
                cmocka_unit_test(test_ids),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_mount_types),
                cmocka_unit_test(test_mount_dst),
                cmocka_unit_test(test_mount_binds),
                cmocka_unit_test(test_mount_tmpfs),
                cmocka_unit_test(test_mount_landlock_optout),
                cmocka_unit_test(test_workdir_section),
                cmocka_unit_test(test_network_modes),
                cmocka_unit_test(test_mount_mode),
                cmocka_unit_test(test_mount_other_types),
                cmocka_unit_test(test_mount_count),
                cmocka_unit_test(test_namespaces),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_deep_nesting),
                cmocka_unit_test(test_huge_documents),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_stock_default),
                cmocka_unit_test(test_stock_agent),
                cmocka_unit_test(test_integration_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
