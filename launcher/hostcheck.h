/* Host diagnosis: why a launch cannot have what it needs, shared by --check-host and the launch path. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include "launcher/cli.h"
#include "policy/util.h"

/* One host cause: a reason code (docs/where-it-runs.md), what the
 * host does, and the one-line fix. */
struct hc_cause {
        char reason[48];
        char what[256];
        char fix[256];
};

/* Why creating a user namespace failed with errno `err` (0: it was created
 * but gave no capabilities, as AppArmor's restriction does). Reads the
 * sysctls, AppArmor's securityfs and our own seccomp state. Always fills
 * *ret (the generic "userns-unavailable" when nothing explains it). */
void hostcheck_userns_cause(int err, bool as_root, struct hc_cause *ret);
/* Why namespaces other than the user namespace cannot be created by root
 * (no user namespace): missing CAP_SYS_ADMIN, an enclosing seccomp filter. */
void hostcheck_rootns_cause(int err, struct hc_cause *ret);
/* Rewrite a launch error whose cause is the host (a namespace or setup step
 * failing with EPERM/EACCES/ENOSPC/ENOSYS/EUSERS) into one line naming the
 * cause and the fix, with the cause's reason code. Other errors unchanged. */
void hostcheck_annotate(struct sr_error *e, bool as_root, bool userns);

/* Can a user namespace be created here at all? 0 or -errno, tried in a
 * throwaway child. The launch path asks before blaming the host for a
 * failed clone (CLONE_INTO_CGROUP can fail with EACCES too). */
int hostcheck_try_userns(void);
/* Can root here take uid/gid (mapped in our own user namespace, setgroups
 * allowed)? 0, -ERANGE (not mapped), -EPERM (setgroups denied). Used before
 * a launch without a user namespace; reads the real /proc. */
int hostcheck_ids_usable(uid_t uid, gid_t gid);

/* Host files are read below $SEALRUN_HOST_ROOT when it is set (tests give
 * fake sysctl/securityfs trees). It only changes what is reported: no
 * decision to isolate less is ever taken from these files. */
const char *hostcheck_root(void);
/* Contents of root+path, first line, trailing newline removed; -errno. */
int hostcheck_read(const char *path, char *buf, size_t size);
/* AppArmor is enabled in the kernel (securityfs or module parameter). */
bool hostcheck_apparmor_enabled(void);
/* Our process runs under a seccomp filter (Seccomp: 2 in /proc/self/status). */
bool hostcheck_seccomp_filtered(void);
/* Best guess at an enclosing container runtime ("docker", "podman",
 * "kubernetes", "lxc", "container"), or NULL. */
const char *hostcheck_container(void);

/* sealrun --check-host: probe, print the table (or JSON), exit 0 when the
 * policy can run here, SR_EXIT_REFUSED (77) when not, 125 on bad input. */
int hostcheck_main(const struct cli *c);
