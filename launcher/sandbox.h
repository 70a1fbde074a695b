/* The one clone site: clone3 into fresh namespaces, uid/gid maps, sync socket. */
#pragma once
#include "launcher/task.h"

/* Supervisor, as root with a tenant: take the tenant's host id block from
 * the registry (launcher/idreg.c) into t->host_uid/host_gid (the policy is not edited). */
int sandbox_prepare_ids(struct task *t, struct sr_error *e);
/* Supervisor: make the idmapped binds, create the sync socket, clone3 the
 * sandbox init (which runs child_main and never returns), write its id
 * maps. t->pid, t->pidfd set. */
int sandbox_spawn(struct task *t, struct sr_error *e);
/* Child: take the final ids inside the user namespace, keeping the
 * namespace capabilities needed for setup (dropped at exec time). */
int sandbox_become_ids(struct task *t, struct sr_error *e);
/* The ids the payload has as seen from the sandbox's mount namespace: the
 * policy's uid/gid, or its host_uid/host_gid without a user namespace. */
uid_t sandbox_uid(const struct task *t);
gid_t sandbox_gid(const struct task *t);
