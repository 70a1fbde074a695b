/* Network, both halves side by side: the supervisor's host side (veth pair,
 * /30 slot, generated /etc files) and the child's inside setup (lo, eth0). */
#include "launcher/net.h"
#include "launcher/broker.h"
#include "launcher/egress.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "policy/trusted_file.h"

struct net_ctx {
        enum net_mode mode;
        uint32_t slot_net;      /* veth: the task's /30, host order */
        int lock_fd;            /* veth: flock held while the pair lives */
        char host_if[IFNAMSIZ]; /* veth: host-side name */
        bool created;
        struct mount_entry files[4]; /* /etc/hosts, /etc/resolv.conf, the broker's CA files, for the mount plan */
        size_t n_files;
};

/* ---- helpers: libnl errors to errno, sockets, objects ------------------- */

static int nl_errno(int nle) {
        switch (nle < 0 ? -nle : nle) {
        case NLE_NOMEM: return ENOMEM;
        case NLE_EXIST: return EEXIST;
        case NLE_PERM:
        case NLE_NOACCESS: return EPERM;
        case NLE_OBJ_NOTFOUND: return ENOENT;
        case NLE_NODEV: return ENODEV;
        case NLE_BUSY: return EBUSY;
        case NLE_OPNOTSUPP: return EOPNOTSUPP;
        case NLE_INVAL:
        case NLE_RANGE: return EINVAL;
        default: return EIO;
        }
}

/* Fill e from a libnl error (what failed, libnl's text) and return -errno. */
static int nl_fail(struct sr_error *e, int nle, const char *what) {
        return sr_fail(e, SR_EXIT_LAUNCHER, nl_errno(nle), "network", "network: %s: %s", what, nl_geterror(nle));
}

static void nl_sockp(struct nl_sock **s) {
        if (*s)
                nl_socket_free(*s);
}
static void nl_linkp(struct rtnl_link **l) {
        if (*l)
                rtnl_link_put(*l);
}
static void nl_addrp(struct rtnl_addr **a) {
        if (*a)
                rtnl_addr_put(*a);
}
static void nl_nladdrp(struct nl_addr **a) {
        if (*a)
                nl_addr_put(*a);
}
static void nl_routep(struct rtnl_route **r) {
        if (*r)
                rtnl_route_put(*r);
}
static void nl_cachep(struct nl_cache **c) {
        if (*c)
                nl_cache_free(*c);
}

static int nl_open(struct nl_sock **ret) {
        struct nl_sock *sk = nl_socket_alloc();
        int r;
        if (!sk)
                return -NLE_NOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sk);
                return r;
        }
        *ret = sk;
        return 0;
}

static struct nl_addr *ip4(uint32_t a, unsigned prefix) {
        uint32_t be = htonl(a);
        struct nl_addr *n = nl_addr_build(AF_INET, &be, sizeof be);
        if (n)
                nl_addr_set_prefixlen(n, (int)prefix);
        return n;
}

/* Bring NAME up; its ifindex into *ret_ifindex. libnl error on failure. */
static int link_up(struct nl_sock *sk, const char *name, int *ret_ifindex) {
        _cleanup_(nl_linkp) struct rtnl_link *link = NULL;
        _cleanup_(nl_linkp) struct rtnl_link *change = rtnl_link_alloc();
        int r;
        if (!change)
                return -NLE_NOMEM;
        if ((r = rtnl_link_get_kernel(sk, 0, name, &link)) < 0)
                return r;
        rtnl_link_set_flags(change, IFF_UP);
        if ((r = rtnl_link_change(sk, link, change, 0)) < 0)
                return r;
        if (ret_ifindex)
                *ret_ifindex = rtnl_link_get_ifindex(link);
        return 0;
}

static int addr_add(struct nl_sock *sk, int ifindex, uint32_t a, unsigned prefix) {
        _cleanup_(nl_addrp) struct rtnl_addr *ad = rtnl_addr_alloc();
        _cleanup_(nl_nladdrp) struct nl_addr *local = ip4(a, prefix);
        _cleanup_(nl_nladdrp) struct nl_addr *brd = ip4(a | ~net_prefix_mask(prefix), 32);
        int r;
        if (!ad || !local || !brd)
                return -NLE_NOMEM;
        rtnl_addr_set_ifindex(ad, ifindex);
        rtnl_addr_set_family(ad, AF_INET);
        if ((r = rtnl_addr_set_local(ad, local)) < 0 || (r = rtnl_addr_set_broadcast(ad, brd)) < 0)
                return r;
        return rtnl_addr_add(sk, ad, 0);
}

static int route_default(struct nl_sock *sk, int ifindex, uint32_t gw) {
        _cleanup_(nl_routep) struct rtnl_route *rt = rtnl_route_alloc();
        _cleanup_(nl_nladdrp) struct nl_addr *dst = ip4(0, 0);
        _cleanup_(nl_nladdrp) struct nl_addr *via = ip4(gw, 32);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        int r;
        if (!rt || !dst || !via || !nh) {
                if (nh)
                        rtnl_route_nh_free(nh);
                return -NLE_NOMEM;
        }
        rtnl_route_set_family(rt, AF_INET);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(rt, RTN_UNICAST);
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, via);
        rtnl_route_add_nexthop(rt, nh); /* the route owns nh from here */
        if ((r = rtnl_route_set_dst(rt, dst)) < 0)
                return r;
        return rtnl_route_add(sk, rt, NLM_F_EXCL);
}

/* Delete link NAME if it exists (deleting one end of a veth deletes both). */
static int link_delete(struct nl_sock *sk, const char *name) {
        _cleanup_(nl_linkp) struct rtnl_link *link = rtnl_link_alloc();
        int r;
        if (!link)
                return -NLE_NOMEM;
        rtnl_link_set_name(link, name);
        r = rtnl_link_delete(sk, link);
        return (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV) ? 0 : r;
}

/* True when an IPv4 address of the host lies in the /30 at net: the pool
 * overlaps a network the host already uses, so the slot is skipped. */
static bool slot_in_use_by_host(struct nl_sock *sk, uint32_t net) {
        _cleanup_(nl_cachep) struct nl_cache *cache = NULL;
        bool used = false;
        if (rtnl_addr_alloc_cache(sk, &cache) < 0)
                return true; /* cannot tell: do not hand it out */
        for (struct nl_object *o = nl_cache_get_first(cache); o && !used; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *)o;
                struct nl_addr *l = rtnl_addr_get_local(a);
                uint32_t v;
                if (rtnl_addr_get_family(a) != AF_INET || !l || nl_addr_get_len(l) != 4)
                        continue;
                memcpy(&v, nl_addr_get_binary_addr(l), 4);
                used = (ntohl(v) & net_prefix_mask(30)) == net;
        }
        return used;
}

/* ---- building blocks ---------------------------------------------------- */

void net_host_ifname(uint32_t net, char buf[16]) {
        snprintf(buf, 16, "sr-%08x", net);
}

int net_have_admin(void) {
        struct stat own, owner;
        cap_flag_value_t v = CAP_CLEAR;
        cap_t c = cap_get_proc();
        int r = 0;
        if (!c)
                return 0;
        if (cap_get_flag(c, CAP_NET_ADMIN, CAP_EFFECTIVE, &v) < 0)
                v = CAP_CLEAR;
        cap_free(c);
        if (v != CAP_SET)
                return 0;
        /* The capability counts only in the user namespace that owns our
         * network namespace (root in a container's userns is not enough). */
        _cleanup_close_ int netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (netns < 0)
                return 0;
        _cleanup_close_ int userns = ioctl(netns, NS_GET_USERNS);
        if (userns < 0)
                return 0; /* EPERM: the owner is outside our view, so not ours */
        if (fstat(userns, &owner) == 0 && stat("/proc/self/ns/user", &own) == 0)
                r = own.st_dev == owner.st_dev && own.st_ino == owner.st_ino;
        return r;
}

int net_slot_acquire(const struct policy_network *n, int dirfd, uint32_t *ret_net, int *ret_lock_fd) {
        uint64_t count = pol_network_slot_count(n);
        for (uint64_t i = 0; i < count; i++) {
                char name[32], a[16];
                uint32_t net;
                int fd;
                if (pol_network_slot(n, i, &net) < 0)
                        break;
                /* Named by address, not by index: two policies whose pools
                 * overlap still never hand out the same /30 at once. */
                snprintf(name, sizeof name, "%s.lock", net_addr_str(net, a, sizeof a));
                fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                        *ret_net = net;
                        *ret_lock_fd = fd;
                        return 0;
                }
                int err = errno;
                close(fd);
                if (err != EWOULDBLOCK)
                        return -err;
        }
        return -EAGAIN;
}

/* /run/sealrun/net, created 0700 and required to be ours and private: the
 * locks decide which task owns which addresses. */
static int lock_dir_open(struct sr_error *e) {
        int fd = -1, r;
        (void)mkdir("/run/sealrun", 0755);
        r = private_dir_open(AT_FDCWD, NET_LOCK_DIR,
                             &(struct private_dir){ .create_mode = 0700, .owner = geteuid(), .forbidden = 022 }, &fd,
                             NULL);
        if (r == -EPERM || r == -ENOTDIR || r == -ELOOP)
                return sr_fail(e, SR_EXIT_LAUNCHER, EPERM, "network",
                               "%s: must be a directory owned by uid %u and not writable by others", NET_LOCK_DIR,
                               (unsigned)geteuid());
        if (r < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "network", "%s: cannot open the veth slot directory: %s",
                               NET_LOCK_DIR, strerror(-r));
        return fd;
}

static void close_all(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

static int veth_prepare(struct task *t, struct net_ctx *c, struct sr_error *e) {
        const struct policy_network *n = &t->pol->network;
        _cleanup_(nl_sockp) struct nl_sock *sk = NULL;
        _cleanup_close_ int dirfd = -1;
        int skipped[64]; /* slots the host uses: held until we chose one */
        size_t n_skipped = 0;
        char a[16];
        int r;

        if (!net_have_admin())
                return sr_fail(e, SR_EXIT_REFUSED, EPERM, "veth-unprivileged",
                               "%s: $.network.mode: \"veth\" needs CAP_NET_ADMIN in the host network namespace "
                               "(a root-run pool); use \"none\" for an unprivileged pool",
                               t->pol->file);
        if ((r = nl_open(&sk)) < 0)
                return nl_fail(e, r, "netlink socket");
        if ((dirfd = lock_dir_open(e)) < 0)
                return dirfd;
        for (;;) {
                r = net_slot_acquire(n, dirfd, &c->slot_net, &c->lock_fd);
                if (r == -EAGAIN)
                        r = sr_fail(e, SR_EXIT_TEMPFAIL, EAGAIN, "veth-pool-full",
                                    "%s: $.network.veth.pools: all %llu /30 slots are in use%s", t->pol->file,
                                    (unsigned long long)pol_network_slot_count(n),
                                    n_skipped ? " (some overlap addresses of the host)" : "");
                else if (r < 0)
                        r = sr_fail(e, SR_EXIT_LAUNCHER, -r, "network", "%s: cannot take a veth slot: %s", NET_LOCK_DIR,
                                    strerror(-r));
                if (r < 0)
                        break;
                net_host_ifname(c->slot_net, c->host_if);
                /* We hold the slot's lock, so a pair under its name is a
                 * leftover of a supervisor that died before net_release. */
                if ((r = link_delete(sk, c->host_if)) < 0) {
                        r = nl_fail(e, r, "delete stale veth");
                        break;
                }
                if (!slot_in_use_by_host(sk, c->slot_net))
                        break;
                if (n_skipped == ELEMENTSOF(skipped)) {
                        r = sr_fail(
                                e, SR_EXIT_LAUNCHER, EADDRINUSE, "network",
                                "%s: $.network.veth.pools: more than %zu /30s overlap addresses the host already uses",
                                t->pol->file, ELEMENTSOF(skipped));
                        break;
                }
                fprintf(stderr, "sealrun: network: skipping %s/30: the host already has an address in it\n",
                        net_addr_str(c->slot_net, a, sizeof a));
                skipped[n_skipped++] = TAKE_FD(c->lock_fd);
        }
        close_all(skipped, n_skipped);
        return r;
}

/* Keep a generated file for the mount plan (mounts_plan takes it from
 * net_generated_files; the content stays ours until net_release). */
static int add_generated_file(struct net_ctx *c, const char *dst, char *content, struct sr_error *e) {
        struct mount_entry *m = &c->files[c->n_files];
        if (!content || c->n_files >= ELEMENTSOF(c->files) || !(m->dst = strdup(dst))) {
                free(content);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "network: out of memory");
        }
        m->type = MNT_FILE;
        m->content = content;
        m->content_len = strlen(content);
        m->mode = 0444;
        c->n_files++;
        return 0;
}

void net_generated_files(const struct task *t, const struct mount_entry **ret, size_t *ret_n) {
        *ret = t->net ? t->net->files : NULL;
        *ret_n = t->net ? t->net->n_files : 0;
}

/* ---- supervisor ----------------------------------------------------------- */

int net_prepare(struct task *t, struct sr_error *e) {
        struct net_ctx *c;
        char *hosts = NULL, *resolv = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "network: out of memory");
        c->mode = t->cfg.network_mode; /* the policy's, or the --network it allows */
        c->lock_fd = -1;
        t->net = c;
        t->status.network = pol_network_mode_name(c->mode);

        if (c->mode == NET_VETH && (r = veth_prepare(t, c, e)) < 0)
                return r;
        if (pol_network_hosts_file(&t->pol->network, t->cfg.hostname, &hosts) < 0 ||
            pol_network_resolv_file(&t->pol->network, &resolv) < 0) {
                free(hosts);
                free(resolv);
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "network: out of memory");
        }
        r = add_generated_file(c, "/etc/hosts", hosts, e);
        if (r < 0) {
                free(resolv);
                return r;
        }
        if ((r = add_generated_file(c, "/etc/resolv.conf", resolv, e)) < 0)
                return r;
        {
                /* proxy mode with a profile: the task CA (docs/network.md, "Brokered credentials") */
                char *bundle, *ca;
                if (egress_ca_files(t, &bundle, &ca) < 0)
                        return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "network: out of memory");
                if (bundle && (r = add_generated_file(c, BROKER_BUNDLE_PATH, bundle, e)) < 0) {
                        free(ca);
                        return r;
                }
                if (ca && (r = add_generated_file(c, BROKER_CA_PATH, ca, e)) < 0)
                        return r;
        }
        return 0;
}

int net_setup_parent(struct task *t, struct sr_error *e) {
        struct net_ctx *c = t->net;
        _cleanup_(nl_sockp) struct nl_sock *sk = NULL;
        int r, ifindex;

        if (!c || c->mode != NET_VETH)
                return 0;
        if ((r = nl_open(&sk)) < 0)
                return nl_fail(e, r, "netlink socket");
        /* The peer is created directly in the child's namespace (by pid), so
         * its name there cannot clash with anything on the host. */
        if ((r = rtnl_link_veth_add(sk, c->host_if, NET_INSIDE_IF, t->pid)) < 0)
                return nl_fail(e, r, "create veth pair");
        c->created = true;
        if ((r = link_up(sk, c->host_if, &ifindex)) < 0)
                return nl_fail(e, r, "host end up");
        if ((r = addr_add(sk, ifindex, c->slot_net + 1, 30)) < 0)
                return nl_fail(e, r, "host end address");
        return 0;
}

void net_release(struct task *t) {
        struct net_ctx *c = t->net;
        if (!c)
                return;
        if (c->created) {
                _cleanup_(nl_sockp) struct nl_sock *sk = NULL;
                int r = nl_open(&sk);
                if (r == 0)
                        r = link_delete(sk, c->host_if);
                if (r < 0)
                        fprintf(stderr, "sealrun: network: cannot delete %s: %s\n", c->host_if, nl_geterror(r));
        }
        if (c->lock_fd >= 0)
                close(c->lock_fd);
        for (size_t i = 0; i < c->n_files; i++) {
                free(c->files[i].dst);
                free(c->files[i].content);
        }
        free(c);
        t->net = NULL;
}

/* ---- child ---------------------------------------------------------------- */

/* lo up without netlink: the one thing "none" (and the loopback of every
 * mode) needs, for two syscalls instead of a libnl socket, a link dump and
 * a change message (about 0.25 ms of a launch). */
static int lo_up(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

int net_setup_child(struct task *t, struct sr_error *e) {
        struct net_ctx *c = t->net;
        _cleanup_(nl_sockp) struct nl_sock *sk = NULL;
        int r, ifindex;

        if (!c || c->mode == NET_HOST)
                return 0;
        if (c->lock_fd >= 0) { /* the supervisor holds the slot, not the sandbox */
                close(c->lock_fd);
                c->lock_fd = -1;
        }
        /* The kernel gives lo 127.0.0.1/8 and ::1 when it comes up. */
        if ((r = lo_up()) < 0)
                return sr_fail(e, SR_EXIT_LAUNCHER, -r, "network", "network: lo up: %s", strerror(-r));
        if (c->mode != NET_VETH)
                return 0;
        if ((r = nl_open(&sk)) < 0)
                return nl_fail(e, r, "netlink socket");
        if ((r = link_up(sk, NET_INSIDE_IF, &ifindex)) < 0)
                return nl_fail(e, r, NET_INSIDE_IF " up");
        if ((r = addr_add(sk, ifindex, c->slot_net + 2, 30)) < 0)
                return nl_fail(e, r, NET_INSIDE_IF " address");
        if ((r = route_default(sk, ifindex, c->slot_net + 1)) < 0)
                return nl_fail(e, r, "default route");
        return 0;
}
