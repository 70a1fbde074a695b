/* Unit tests of the network module: policy section (every error path), CIDR
 * math, slot → /30 allocation with locks, generated /etc files, net_prepare. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>

#include "launcher/mounts.h"
#include "launcher/net.h"
#include "policy/policy.h"

static struct sr_error err;

/* Parse a policy whose "network" section (and extra top-level keys) are given. */
static int parse_with(const char *extra, struct policy **ret) {
        char buf[8192];
        snprintf(buf, sizeof buf, "{\"version\":1,\"mounts\":[]%s%s}", extra && *extra ? "," : "", extra ? extra : "");
        memset(&err, 0, sizeof err);
        return policy_parse("t.json", buf, strlen(buf), ret, &err);
}

static int parse_net(const char *net, struct policy **ret) {
        char buf[8000];
        snprintf(buf, sizeof buf, "\"network\":%s", net);
        return parse_with(buf, ret);
}

/* net must be refused with exit 125 and a message naming path. */
static void bad(const char *net, const char *path) {
        struct policy *p = NULL;
        int r = parse_net(net, &p);
        if (r == 0 || err.exit_code != SR_EXIT_LAUNCHER || !strstr(err.msg, path) || strchr(err.msg, '\n'))
                print_error("input %s\n  r=%d exit=%d msg=%s\n  expected path %s\n", net, r, err.exit_code, err.msg,
                            path);
        assert_true(r < 0);
        assert_int_equal(err.exit_code, SR_EXIT_LAUNCHER);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "t.json: "));
        assert_null(strchr(err.msg, '\n'));
        assert_null(p);
}

static void test_parse_defaults(void **state) {
        struct policy *p = NULL;
        assert_int_equal(parse_with("", &p), 0);
        assert_int_equal(p->network.mode, NET_NONE);
        assert_int_equal(p->network.n_pools, 0);
        policy_free(p);
        assert_int_equal(parse_net("{}", &p), 0);
        assert_int_equal(p->network.mode, NET_NONE);
        policy_free(p);
        assert_int_equal(parse_with("\"network\":{\"mode\":\"host\"},\"namespaces\":{\"net\":false}", &p), 0);
        assert_int_equal(p->network.mode, NET_HOST);
        assert_string_equal(pol_network_mode_name(p->network.mode), "host");
        policy_free(p);
}

static void test_parse_full(void **state) {
        struct policy *p = NULL;
        int r = parse_net("{\"mode\":\"veth\",\"veth\":{\"pools\":[\"10.200.0.0/24\",\"192.168.77.0/30\"]},"
                          "\"hosts\":[{\"address\":\"10.1.2.3\",\"names\":[\"db\",\"db.internal\"]},"
                          "{\"address\":\"fd00:0::1\",\"names\":[\"v6\"]}],"
                          "\"dns\":{\"nameservers\":[\"10.200.0.1\",\"2001:db8::53\"],\"search\":[\"corp.example\"],"
                          "\"options\":[\"ndots:1\",\"edns0\"]}}",
                          &p);
        if (r < 0)
                print_error("%s\n", err.msg);
        assert_int_equal(r, 0);
        assert_int_equal(p->network.mode, NET_VETH);
        assert_int_equal(p->network.n_pools, 2);
        assert_int_equal(p->network.pools[0].addr, 0x0ac80000u);
        assert_int_equal(p->network.pools[0].prefix, 24);
        assert_int_equal(p->network.pools[1].addr, 0xc0a84d00u);
        assert_int_equal(p->network.n_hosts, 2);
        assert_string_equal(p->network.hosts[1].address, "fd00::1"); /* canonical form */
        assert_int_equal(p->network.hosts[0].n_names, 2);
        assert_int_equal(p->network.n_nameservers, 2);
        assert_int_equal(p->network.n_search, 1);
        assert_int_equal(p->network.n_options, 2);
        assert_int_equal(pol_network_slot_count(&p->network), 64 + 1);
        policy_free(p);
}

static void test_parse_errors_mode(void **state) {
        bad("[]", "$.network");
        bad("{\"nope\":1}", "$.network.nope");
        bad("{\"mode\":1}", "$.network.mode");
        bad("{\"mode\":\"bridge\"}", "$.network.mode");
        bad("{\"mode\":\"\"}", "$.network.mode");
        bad("{\"mode\":\"veth\"}", "$.network.veth");
        bad("{\"mode\":\"none\",\"veth\":{\"pools\":[\"10.0.0.0/24\"]}}", "$.network.veth");
        bad("{\"mode\":\"veth\",\"veth\":[]}", "$.network.veth");
        bad("{\"mode\":\"veth\",\"veth\":{\"pool\":\"10.0.0.0/24\"}}", "$.network.veth.pool");
        bad("{\"mode\":\"veth\",\"veth\":{}}", "$.network.veth.pools");
        bad("{\"mode\":\"veth\",\"veth\":{\"pools\":\"10.0.0.0/24\"}}", "$.network.veth.pools");
        bad("{\"mode\":\"veth\",\"veth\":{\"pools\":[]}}", "$.network.veth.pools");
        bad("{\"mode\":\"veth\",\"veth\":{\"pools\":[\"10.0.0.0/30\",\"10.0.0.4/30\",\"10.0.0.8/30\",\"10.0.0.12/30\","
            "\"10.0.0.16/30\",\"10.0.0.20/30\",\"10.0.0.24/30\",\"10.0.0.28/30\",\"10.0.0.32/30\",\"10.0.0.36/30\","
            "\"10.0.0.40/30\",\"10.0.0.44/30\",\"10.0.0.48/30\",\"10.0.0.52/30\",\"10.0.0.56/30\",\"10.0.0.60/30\","
            "\"10.0.0.64/30\"]}}",
            "$.network.veth.pools");
        /* host mode and namespaces.net must agree (checked by policy.c) */
        struct policy *p = NULL;
        assert_true(parse_net("{\"mode\":\"host\"}", &p) < 0);
        assert_non_null(strstr(err.msg, "$.network.mode"));
        assert_true(parse_with("\"namespaces\":{\"net\":false}", &p) < 0);
        assert_non_null(strstr(err.msg, "$.namespaces.net"));
}

static void bad_pool(const char *cidr, const char *why) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"mode\":\"veth\",\"veth\":{\"pools\":[\"10.9.0.0/24\",%s]}}", cidr);
        bad(buf, "$.network.veth.pools[1]");
        if (why && !strstr(err.msg, why))
                print_error("%s: %s lacks \"%s\"\n", cidr, err.msg, why);
        if (why)
                assert_non_null(strstr(err.msg, why));
}

static void test_parse_errors_pools(void **state) {
        bad_pool("5", "CIDR");
        bad_pool("\"10.0.0.0\"", "not an IPv4 CIDR");
        bad_pool("\"10.0.0.0/\"", "not an IPv4 CIDR");
        bad_pool("\"10.0.0.0/33\"", "not an IPv4 CIDR");
        bad_pool("\"10.0.0.0/024\"", "not an IPv4 CIDR");
        bad_pool("\"10.0.0.0/2a\"", "not an IPv4 CIDR");
        bad_pool("\"10.0.0/24\"", "not an IPv4 CIDR");
        bad_pool("\"010.0.0.0/24\"", "not an IPv4 CIDR");
        bad_pool("\" 10.0.0.0/24\"", "not an IPv4 CIDR");
        bad_pool("\"10.0.0.0/24 \"", "not an IPv4 CIDR");
        bad_pool("\"fd00::/64\"", "not an IPv4 CIDR");
        bad_pool("\"10.300.0.0/24\"", "not an IPv4 CIDR");
        bad_pool("\"10.1.0.1/24\"", "did you mean 10.1.0.0/24");
        bad_pool("\"10.1.0.0/31\"", "out of range");
        bad_pool("\"10.1.0.0/32\"", "out of range");
        bad_pool("\"10.0.0.0/7\"", "out of range");
        bad_pool("\"127.0.0.0/24\"", "loopback");
        bad_pool("\"0.1.0.0/16\"", "this network");
        bad_pool("\"224.0.0.0/24\"", "multicast");
        bad_pool("\"250.0.0.0/24\"", "reserved");
        bad_pool("\"10.9.0.0/24\"", "overlaps $.network.veth.pools[0] (10.9.0.0/24)");
        bad_pool("\"10.9.0.128/25\"", "overlaps $.network.veth.pools[0]");
        bad_pool("\"10.0.0.0/8\"", "overlaps $.network.veth.pools[0]");
        bad_pool("\"10.9.0.252/30\"", "overlaps");
}

static void test_parse_errors_hosts(void **state) {
        bad("{\"hosts\":{}}", "$.network.hosts");
        bad("{\"hosts\":[1]}", "$.network.hosts[0]");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[\"a\"],\"x\":1}]}", "$.network.hosts[0].x");
        bad("{\"hosts\":[{\"names\":[\"a\"]}]}", "$.network.hosts[0].address");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[\"a\"]},{\"address\":\"10.0.0\",\"names\":[\"a\"]}]}",
            "$.network.hosts[1].address");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1 evil\",\"names\":[\"a\"]}]}", "$.network.hosts[0].address");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\"}]}", "$.network.hosts[0].names");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[]}]}", "$.network.hosts[0].names");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":\"a\"}]}", "$.network.hosts[0].names");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[\"ok\",\"a b\"]}]}", "$.network.hosts[0].names[1]");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[\"a\\nb\"]}]}", "$.network.hosts[0].names[0]");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[\"-a\"]}]}", "$.network.hosts[0].names[0]");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[\"a..b\"]}]}", "$.network.hosts[0].names[0]");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[7]}]}", "$.network.hosts[0].names[0]");
        bad("{\"hosts\":[{\"address\":\"10.0.0.1\",\"names\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
            "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}]}",
            "$.network.hosts[0].names");
}

static void test_parse_errors_dns(void **state) {
        bad("{\"dns\":[]}", "$.network.dns");
        bad("{\"dns\":{\"servers\":[]}}", "$.network.dns.servers");
        bad("{\"dns\":{\"nameservers\":\"1.1.1.1\"}}", "$.network.dns.nameservers");
        bad("{\"dns\":{\"nameservers\":[\"1.1.1\"]}}", "$.network.dns.nameservers[0]");
        bad("{\"dns\":{\"nameservers\":[\"1.1.1.1\",\"localhost\"]}}", "$.network.dns.nameservers[1]");
        bad("{\"dns\":{\"nameservers\":[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\"]}}",
            "$.network.dns.nameservers");
        bad("{\"dns\":{\"search\":[\"ok.example\",\"bad domain\"]}}", "$.network.dns.search[1]");
        bad("{\"dns\":{\"search\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]}}", "$.network.dns.search");
        char buf[1200], lbl[64];
        memset(lbl, 'x', 60);
        lbl[60] = 0;
        snprintf(buf, sizeof buf, "{\"dns\":{\"search\":[\"%s.%s.%s\",\"%s.%s.%s\"]}}", lbl, lbl, lbl, lbl, lbl, lbl);
        bad(buf, "$.network.dns.search");
        bad("{\"dns\":{\"options\":[\"ndots:1\",\"ndots:\"]}}", "$.network.dns.options[1]");
        bad("{\"dns\":{\"options\":[\"Rotate\"]}}", "$.network.dns.options[0]");
        bad("{\"dns\":{\"options\":[\"ndots:1\\nnameserver 6.6.6.6\"]}}", "$.network.dns.options[0]");
        bad("{\"dns\":{\"options\":[\"timeout:1234\"]}}", "$.network.dns.options[0]");
}

static void test_cidr_math(void **state) {
        uint32_t a;
        unsigned len;
        char b[16];
        assert_int_equal(net_cidr_parse("10.200.0.0/24", &a, &len), 0);
        assert_int_equal(a, 0x0ac80000u);
        assert_int_equal(len, 24);
        assert_int_equal(net_cidr_parse("0.0.0.0/0", &a, &len), 0);
        assert_int_equal(len, 0);
        assert_int_equal(net_cidr_parse("10.200.0.5/30", &a, &len), -EDOM);
        assert_int_equal(a, 0x0ac80004u);
        assert_int_equal(net_cidr_parse("10.200.0.5/32", &a, &len), 0);
        assert_int_equal(net_cidr_parse("10.200.0.5", &a, &len), -EINVAL);
        assert_int_equal(net_cidr_parse("10.200.0.5/00", &a, &len), -EINVAL);
        assert_int_equal(net_cidr_parse("10.200.0.5/-1", &a, &len), -EINVAL);
        assert_int_equal(net_cidr_parse("/24", &a, &len), -EINVAL);
        assert_int_equal(net_prefix_mask(0), 0);
        assert_int_equal(net_prefix_mask(8), 0xff000000u);
        assert_int_equal(net_prefix_mask(30), 0xfffffffcu);
        assert_int_equal(net_prefix_mask(32), 0xffffffffu);
        assert_true(net_cidr_overlap(0x0a000000u, 8, 0x0ac80000u, 24));
        assert_true(net_cidr_overlap(0x0ac80000u, 24, 0x0a000000u, 8));
        assert_true(net_cidr_overlap(0x0ac80000u, 24, 0x0ac800fcu, 30));
        assert_false(net_cidr_overlap(0x0ac80000u, 24, 0x0ac80100u, 24));
        assert_false(net_cidr_overlap(0x0ac80000u, 30, 0x0ac80004u, 30));
        assert_string_equal(net_addr_str(0xc0a84d0du, b, sizeof b), "192.168.77.13");
        assert_string_equal(net_addr_str(0xffffffffu, b, sizeof b), "255.255.255.255");
}

static void test_slots(void **state) {
        struct policy_network n = { .mode = NET_VETH, .n_pools = 3 };
        uint32_t net;
        n.pools[0] = (struct net_pool){ 0x0ac80000u, 29 }; /* 2 slots */
        n.pools[1] = (struct net_pool){ 0xc0a80000u, 30 }; /* 1 slot */
        n.pools[2] = (struct net_pool){ 0xac100000u, 12 }; /* 2^18 slots */
        assert_int_equal(pol_network_slot_count(&n), 3 + (1u << 18));
        assert_int_equal(pol_network_slot(&n, 0, &net), 0);
        assert_int_equal(net, 0x0ac80000u);
        assert_int_equal(pol_network_slot(&n, 1, &net), 0);
        assert_int_equal(net, 0x0ac80004u);
        assert_int_equal(pol_network_slot(&n, 2, &net), 0);
        assert_int_equal(net, 0xc0a80000u);
        assert_int_equal(pol_network_slot(&n, 3, &net), 0);
        assert_int_equal(net, 0xac100000u);
        assert_int_equal(pol_network_slot(&n, 2 + (1u << 18), &net), 0);
        assert_int_equal(net, 0xac1ffffcu); /* last /30 of 172.16.0.0/12 */
        assert_int_equal(pol_network_slot(&n, 3 + (1u << 18), &net), -ERANGE);
        /* every slot is a distinct, aligned /30 inside its pool */
        for (uint64_t i = 0; i < 3; i++) {
                assert_int_equal(pol_network_slot(&n, i, &net), 0);
                assert_int_equal(net & 3, 0);
        }
        char name[16];
        net_host_ifname(0xffffffffu, name);
        assert_true(strlen(name) < 16);
        net_host_ifname(0x0ac80004u, name);
        assert_string_equal(name, "sr-0ac80004");
}

static void test_slot_locks(void **state) {
        char dir[] = "/tmp/test_network.XXXXXX";
        struct policy_network n = { .mode = NET_VETH, .n_pools = 2 };
        uint32_t a, b, c, d;
        int fa, fb, fc, fd;
        n.pools[0] = (struct net_pool){ 0x0ac80000u, 30 };
        n.pools[1] = (struct net_pool){ 0x0ac80100u, 30 };
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(net_slot_acquire(&n, dfd, &a, &fa), 0);
        assert_int_equal(net_slot_acquire(&n, dfd, &b, &fb), 0);
        assert_int_not_equal(a, b);
        assert_int_equal(a, 0x0ac80000u);
        assert_int_equal(b, 0x0ac80100u);
        /* all taken → EAGAIN (the caller turns it into exit 75) */
        assert_int_equal(net_slot_acquire(&n, dfd, &c, &fc), -EAGAIN);
        /* a released slot is handed out again */
        close(fa);
        assert_int_equal(net_slot_acquire(&n, dfd, &c, &fc), 0);
        assert_int_equal(c, a);
        /* a lock held by another process counts too */
        close(fc);
        pid_t pid = fork();
        if (pid == 0) {
                uint32_t x;
                int fx;
                _exit(net_slot_acquire(&n, dfd, &x, &fx) == 0 && x == a ? 0 : 1);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(WEXITSTATUS(st), 0);
        /* another policy whose pool overlaps by address shares the lock file */
        struct policy_network m = { .mode = NET_VETH, .n_pools = 1 };
        m.pools[0] = (struct net_pool){ 0x0ac80100u, 29 };
        assert_int_equal(net_slot_acquire(&m, dfd, &d, &fd), 0);
        assert_int_equal(d, 0x0ac80104u); /* .100/30 is held by fb */
        close(fb);
        close(fd);
        /* a symlink planted as a lock file is not followed */
        char path[256];
        snprintf(path, sizeof path, "%s/10.200.0.0.lock", dir);
        unlink(path);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_int_equal(net_slot_acquire(&n, dfd, &c, &fc), -ELOOP);
        unlink(path);
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        close(dfd);
        assert_int_equal(system(path), 0);
}

static void test_generated_files(void **state) {
        struct policy *p = NULL;
        char *s = NULL;
        assert_int_equal(parse_net("{\"hosts\":[{\"address\":\"10.1.2.3\",\"names\":[\"db\",\"db.internal\"]}],"
                                   "\"dns\":{\"nameservers\":[\"10.200.0.1\"],\"search\":[\"a.example\",\"b.example\"],"
                                   "\"options\":[\"ndots:1\"]}}",
                                   &p),
                         0);
        assert_int_equal(pol_network_hosts_file(&p->network, "box", &s), 0);
        assert_non_null(strstr(s, "127.0.0.1\tlocalhost\n"));
        assert_non_null(strstr(s, "::1\tlocalhost"));
        assert_non_null(strstr(s, "127.0.1.1\tbox\n"));
        assert_non_null(strstr(s, "10.1.2.3\tdb db.internal\n"));
        free(s);
        /* a hostname that is not a DNS name is left out, not written raw */
        assert_int_equal(pol_network_hosts_file(&p->network, "evil\n6.6.6.6 x", &s), 0);
        assert_null(strstr(s, "evil"));
        free(s);
        assert_int_equal(pol_network_resolv_file(&p->network, &s), 0);
        assert_non_null(strstr(s, "\nnameserver 10.200.0.1\n"));
        assert_non_null(strstr(s, "\nsearch a.example b.example\n"));
        assert_non_null(strstr(s, "\noptions ndots:1\n"));
        free(s);
        policy_free(p);
        /* nothing configured: no nameserver line at all (not the host's) */
        assert_int_equal(parse_with("", &p), 0);
        assert_int_equal(pol_network_resolv_file(&p->network, &s), 0);
        assert_null(strstr(s, "nameserver"));
        free(s);
        policy_free(p);
}

static void test_prepare_none(void **state) {
        struct policy *p = NULL;
        struct task t = { 0 };
        assert_int_equal(parse_with("\"hostname\":\"hh\",\"network\":{\"dns\":{\"nameservers\":[\"10.0.0.53\"]}}", &p),
                         0);
        t.pol = p;
        t.cfg.hostname = p->hostname; /* as config_resolve gives it without --hostname */
        status_init(&t.status);
        memset(&err, 0, sizeof err);
        const struct mount_entry *f;
        size_t n;
        assert_int_equal(net_prepare(&t, &err), 0);
        assert_string_equal(t.status.network, "none");
        /* contributed to the mount plan by return value, the policy untouched */
        assert_int_equal(p->n_mounts, 0);
        net_generated_files(&t, &f, &n);
        assert_int_equal(n, 2);
        assert_int_equal(f[0].type, MNT_FILE);
        assert_string_equal(f[0].dst, "/etc/hosts");
        assert_non_null(strstr(f[0].content, "127.0.1.1\thh\n"));
        assert_int_equal(f[0].mode, 0444);
        assert_string_equal(f[1].dst, "/etc/resolv.conf");
        assert_non_null(strstr(f[1].content, "nameserver 10.0.0.53"));
        assert_int_equal(f[1].content_len, strlen(f[1].content));
        assert_int_equal(net_setup_parent(&t, &err), 0); /* nothing to do without veth */
        net_release(&t);
        assert_null(t.net);
        policy_free(p);
}

static void test_prepare_conflict(void **state) {
        struct policy *p = NULL;
        struct task t = { 0 };
        char buf[512];
        snprintf(buf, sizeof buf,
                 "{\"version\":1,\"mounts\":[{\"type\":\"tmpfs\",\"dst\":\"/tmp\"},"
                 "{\"type\":\"ro-bind\",\"src\":\"/etc/resolv.conf\",\"dst\":\"/etc/resolv.conf\"}]}");
        assert_int_equal(policy_parse("t.json", buf, strlen(buf), &p, &err), 0);
        t.pol = p;
        memset(&err, 0, sizeof err);
        assert_int_equal(net_prepare(&t, &err), 0);
        /* the plan refuses a policy entry at a generated path */
        assert_true(mounts_plan(&t, &err) < 0);
        assert_int_equal(err.exit_code, SR_EXIT_LAUNCHER);
        assert_non_null(strstr(err.msg, "t.json: $.mounts[1].dst: /etc/resolv.conf"));
        mounts_release(&t);
        net_release(&t);
        policy_free(p);
}

/* One plan: the policy's entries, then every --bind (no fixed-size side
 * array drops the fifth), then network's files; the policy is not edited. */
static void test_plan_complete(void **state) {
        struct policy *p = NULL;
        struct task t = { 0 };
        struct cli c = { .status_fd = -1, .key_fd = -1, .audit_mode = AUDIT_UNSET };
        static const char *const dsts[] = { "/b1", "/b2", "/b3", "/b4", "/b5", "/b6" };
        const char *json =
                "{\"version\":1,\"allow_extra_binds\":true,\"mounts\":[{\"type\":\"tmpfs\",\"dst\":\"/tmp\"}]}";
        assert_int_equal(policy_parse("t.json", json, strlen(json), &p, &err), 0);
        for (size_t i = 0; i < 6; i++)
                c.binds[c.n_binds++] = (struct cli_bind){ .src = "/usr", .dst = dsts[i], .ro = true };
        t.pol = p;
        status_init(&t.status);
        assert_int_equal(config_resolve(&c, p, &t.cfg, &err), 0);
        assert_int_equal(net_prepare(&t, &err), 0);
        assert_int_equal(mounts_plan(&t, &err), 0);
        assert_int_equal(t.n_plan, 1 + 6 + 2);
        assert_string_equal(t.plan[0].dst, "/tmp");
        for (size_t i = 0; i < 6; i++) {
                assert_string_equal(t.plan[1 + i].dst, dsts[i]);
                assert_true(t.plan[1 + i].from_cli);
                assert_int_equal(t.plan[1 + i].type, MNT_RO_BIND);
        }
        assert_string_equal(t.plan[7].dst, "/etc/hosts");
        assert_string_equal(t.plan[8].dst, "/etc/resolv.conf");
        assert_int_equal(p->n_mounts, 1);
        assert_int_equal(mounts_n_mountpoints(&t), 0); /* no profile: no credentials mountpoint */
        mounts_release(&t);
        assert_null(t.plan);
        net_release(&t);
        policy_free(p);
}

/* veth without CAP_NET_ADMIN over the host netns → 77 before anything is made. */
static void test_prepare_veth_unprivileged(void **state) {
        pid_t pid = fork();
        if (pid == 0) {
                struct policy *p = NULL;
                struct task t = { 0 };
                if (parse_net("{\"mode\":\"veth\",\"veth\":{\"pools\":[\"10.213.0.0/24\"]}}", &p) < 0)
                        _exit(10);
                /* root in a new user namespace has every capability there, but
                 * not over the network namespace it came from */
                if (unshare(CLONE_NEWUSER) < 0) {
                        cap_t c = cap_get_proc();
                        cap_value_t v = CAP_NET_ADMIN;
                        if (!c || cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 || cap_set_proc(c) < 0)
                                _exit(11);
                        cap_free(c);
                }
                if (net_have_admin())
                        _exit(12);
                t.pol = p;
                t.cfg.network_mode = p->network.mode; /* as config_resolve gives it without --network */
                status_init(&t.status);
                if (net_prepare(&t, &err) != -EPERM || err.exit_code != SR_EXIT_REFUSED ||
                    !strstr(err.msg, "$.network.mode") || !strstr(err.msg, "CAP_NET_ADMIN"))
                        _exit(13);
                net_release(&t);
                policy_free(p);
                _exit(0);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_defaults),     cmocka_unit_test(test_parse_full),
                cmocka_unit_test(test_parse_errors_mode),  cmocka_unit_test(test_parse_errors_pools),
                cmocka_unit_test(test_parse_errors_hosts), cmocka_unit_test(test_parse_errors_dns),
                cmocka_unit_test(test_cidr_math),          cmocka_unit_test(test_slots),
                cmocka_unit_test(test_slot_locks),         cmocka_unit_test(test_generated_files),
                cmocka_unit_test(test_prepare_none),       cmocka_unit_test(test_prepare_conflict),
                cmocka_unit_test(test_plan_complete),      cmocka_unit_test(test_prepare_veth_unprivileged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
