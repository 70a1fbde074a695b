/* Network: host side (supervisor) and inside setup (child), side by side. */
#pragma once
#include <stdint.h>
#include "launcher/task.h"

/* Where veth slot locks live (one file per /30, named by its address). */
#define NET_LOCK_DIR "/run/sealrun/net"
/* Name of the sandbox's end of the veth pair. */
#define NET_INSIDE_IF "eth0"

/* Supervisor, before clone: refuse a veth request without CAP_NET_ADMIN in
 * the host network namespace (77), take a /30 slot (75 when all are busy),
 * add the generated /etc/hosts and /etc/resolv.conf to the mount plan, and
 * set t->status.network. */
int net_prepare(struct task *t, struct sr_error *e);
/* What network contributes to the mount plan (the generated /etc/hosts and
 * /etc/resolv.conf), owned by the network context until net_release. */
void net_generated_files(const struct task *t, const struct mount_entry **ret, size_t *ret_n);
/* Supervisor, after clone and before SYNC_GO: create the veth pair with the
 * sandbox end inside the child's network namespace (veth only). */
int net_setup_parent(struct task *t, struct sr_error *e);
/* Child, in the new network namespace: lo up (and for veth: the inside end
 * addressed, up, default route via the host end). */
int net_setup_child(struct task *t, struct sr_error *e);
/* Supervisor, after the sandbox exited (also after a crash): delete the
 * pair, release the slot. Safe to call when net_prepare did nothing. */
void net_release(struct task *t);

/* Building blocks, exposed for the unit tests. */
/* Take the first free /30 of the policy's pools: an flock on DIRFD/<a.b.c.d>.lock.
 * 0 with *ret_net and *ret_lock_fd, -EAGAIN when every slot is taken. */
int net_slot_acquire(const struct policy_network *n, int dirfd, uint32_t *ret_net, int *ret_lock_fd);
/* Host-side interface name of the slot whose /30 starts at net ("sr-0ac80004"). */
void net_host_ifname(uint32_t net, char buf[16]);
/* 1 when this process holds CAP_NET_ADMIN over its network namespace, else 0. */
int net_have_admin(void);
