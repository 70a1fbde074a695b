/* The one table of reason codes, with exit codes and meanings (see reasons.h).
 *
 * Every reason a source file passes to sr_fail() or trusted_file_check(),
 * every step name (they are the reasons of a step's failure) and every
 * status/audit reason must be here: tests/test_reasons.c scans the sources
 * and the step tables, and checks docs/reasons.md against this table. To add
 * a reason: one line here, one row in docs/reasons.md. */
#include "policy/reasons.h"

#include <string.h>

#include "policy/util.h"

#define R77 SR_EXIT_REFUSED
#define R75 SR_EXIT_TEMPFAIL
#define R125 SR_EXIT_LAUNCHER

const struct sr_reason sr_reasons[] = {
        /* refusals: the task was not run (77) */
        { "cross-tenant", R77, "the profile, policy and --tenant do not name the same tenant" },
        { "wrong-recipient", R77, "the profile is sealed to another pool key than the one given" },
        { "untrusted-issuer", R77, "the profile is not signed by a trusted issuer key" },
        { "bad-signature", R77, "the profile's signature does not verify" },
        { "expired", R77, "the profile's not_after has passed" },
        { "not-yet-valid", R77, "the profile's validity has not begun" },
        { "revoked", R77, "a revocation list covers the profile or its keys" },
        { "malformed", R77, "the sealed profile is not in the envelope format" },
        { "oversized", R77, "the profile exceeds credentials.max_bytes" },
        { "decrypt-failed", R77, "the sealed body does not decrypt with the pool key" },
        { "bad-plaintext", R77, "the decrypted profile is not valid profile JSON" },
        { "scope-over-ceiling", R77, "a --scope is above the policy's credentials.scope_ceiling" },
        { "policy-violation", R77, "a flag would widen the policy (binds, audit mode or socket, concurrency)" },
        { "policy-permissions", R77, "the policy file could be written by someone other than root or the caller" },
        { "key-permissions", R77, "a key or trust anchor file is writable (or, secret, readable) by others" },
        { "revocation-list-permissions", R77,
          "a revocation list could be written by someone other than root or the caller" },
        { "config-permissions", R77, "the pool config could be written by someone other than root or its user" },
        { "spool-permissions", R77, "the audit or pool spool directory is not private to its owner" },
        { "bind-source-denied", R77, "a bind source cannot be opened with the sandbox's host ids" },
        { "tenant-ids", R77, "the tenant id registry cannot give this tenant its id block" },
        { "tenant-ids-full", R77, "the tenant id registry has no free id block" },
        { "idmap-owner", R77, "an idmapped bind source is owned by ids the mapping cannot express" },
        { "idmap-unsupported", R77, "the kernel or filesystem cannot idmap a bind the policy asks for" },
        { "userns-optional-caps", R77, "without a user namespace the policy would keep host capabilities" },
        { "cgroup-controller", R77, "a cgroup controller the policy's limits need is not available" },
        { "no-cgroup", R77, "no writable cgroup to create the task's in, and the limits are not optional" },
        { "veth-unprivileged", R77, "network mode veth needs root" },
        { "landlock", R77, "Landlock is unavailable (or too old for the policy's rules) and not optional" },
        { "memfd_noexec", R77, "a root caller's sandbox could not set vm.memfd_noexec=2" },
        { "capabilities", R77, "capabilities could not be dropped as the policy says" },
        { "procmask", R77, "/proc could not be masked as the policy says" },
        { "slots-squatted", R77, "the tenant's slot directory belongs to someone else" },
        { "no-profiles", R77, "sealrun-pool: no profile is configured for the request" },
        { "tenant-mismatch", R77, "sealrun-pool: the request names another tenant than the pool's" },
        { "duplicate-task", R77, "sealrun-pool: a task with this id is already running" },
        { "workdir-denied", R77, "sealrun-pool: a request's workdir is not a directory beneath the pool's work root" },
        { "no-pool-key", R77, "sealrun-pool: the pool's decryption key is missing" },
        { "egress-widen", R77, "an --egress-allow rule that is not an allow rule of the policy" },
        { "binding-needs-proxy", R77, "a credential bound to hosts (brokered) outside network mode proxy" },
        { "not-allowed", R77, "the audit collector's allow map does not let this peer write this tenant" },
        /* temporary: try again later (75) */
        { "slots-busy", R75, "all of the tenant's concurrency slots are busy" },
        { "veth-pool-full", R75, "every veth address slot is taken" },
        { "pool-full", R75, "sealrun-pool: the pool runs its maximum of tasks" },
        { "prebuilt", R75, "sealrun-pool: a pre-built sandbox could not take its task (it is discarded)" },
        { "busy", R75, "sealrun-pool or the collector is busy; retry" },
        { "fork", R75, "the process limit was reached" },
        { "audit-unavailable", R75, "the audit collector cannot be reached (required mode)" },
        { "audit-timeout", R75, "the audit collector did not acknowledge in time (required mode)" },
        { "audit-refused", R75, "the audit collector refused the event (required mode)" },
        { "audit-spool", R75, "the audit spool cannot be used (root, required mode)" },
        { "audit-spool-full", R75, "the audit spool is full (root, required mode)" },
        { "bad-reply", R75, "the audit collector answered something unreadable" },
        { "bad-seq", R75, "the audit collector saw an event out of sequence" },
        { "write-failed", R75, "the audit collector could not write the event" },
        { "io-error", R75, "the audit collector had an I/O error" },
        { "chain-broken", R75, "an audit file's hash chain is broken" },
        /* the task's own ends */
        { "timeout", SR_EXIT_TIMEOUT, "the task ran past its timeout and was killed" },
        { "exec", SR_EXIT_NOTFOUND, "the command was not found (127) or not executable (126)" },
        { "interrupted-setup", 128, "a signal cancelled the launch before the task ran (exit 128+N)" },
        { "supervisor-vanished", R125, "audit abandoned record: the sealrun of a task died unfinished" },
        { "scope-not-granted", 0, "a skipped credential: its scope is not granted to the task" },
        { "placeholder-misdirected", 0,
          "audit deny: a brokered credential's placeholder toward a host it is not bound to, or over plain HTTP "
          "(403)" },
        { "env-not-allowed", 0, "a skipped credential: env delivery is not allowed by the policy" },
        /* bad input and launcher failures (125) */
        { "usage", R125, "a command-line argument is wrong" },
        { "bad-input", R125, "a policy or input file is invalid (file, field and what is wrong)" },
        { "bad", R125, "an argument or file is invalid (sealctl)" },
        { "config", R125, "the pool config cannot be read or is invalid" },
        { "key", R125, "a key file cannot be read or is not a key" },
        { "profile", R125, "the profile cannot be read" },
        { "revocation-list", R125, "a revocation list cannot be read or parsed" },
        { "allow-map", R125, "the audit collector's allow map cannot be read" },
        { "spool", R125, "a spool directory cannot be used" },
        { "io", R125, "an I/O error reading or writing a file" },
        { "output", R125, "the output cannot be written" },
        { "too-large", R125, "an input exceeds its size limit" },
        { "nomem", R125, "out of memory" },
        { "crypto", R125, "libsodium could not be initialised" },
        { "protocol", R125, "the supervisor and sandbox init disagreed (a bug)" },
        { "sync", R125, "the sync socket with the sandbox failed" },
        { "signalfd", R125, "signals cannot be watched" },
        { "epoll", R125, "the collector's event loop failed" },
        { "bad-request", R125, "sealrun-pool: a request is malformed" },
        { "workdir", R125, "sealrun-pool: a request's work dir could not be copied" },
        { "bad-message", R125, "the audit protocol: a message is malformed" },
        { "bad-schema", R125, "the audit protocol: another major schema version" },
        { "unsupported-rev", R125, "the audit protocol: the peer needs a newer revision" },
        { "userns-optional-ids", R125, "without a user namespace the policy's ids cannot be used" },
        { "userns", R125, "the user namespace's id maps cannot be written" },
        { "cgroupns", R125, "the cgroup namespace cannot be entered" },
        { "audit", R125, "the audit step failed" },
        { "scrub", R125, "credentials could not be wiped" },
        /* step names: the reason (and status failed_step) of a step that failed */
        { "policy", R125, "the policy cannot be read; setup step: load it and resolve the command line" },
        { "ids", R125, "setup/init step: the tenant's host ids" },
        { "credentials", R125, "setup step: check the profile header; payload step: decrypt and stage" },
        { "slot", R125, "setup step: take a tenant concurrency slot" },
        { "egress", R125, "setup step: network mode proxy (dial socket, proxy environment)" },
        { "slots", R125, "the slot directory cannot be used" },
        { "network", R125, "setup step (host side) or init step (lo up)" },
        { "seccomp", R125, "setup step: compile the filter; payload step: install it" },
        { "cgroup", R125, "setup step: create the task's cgroup" },
        { "launch", R125, "setup step: the audit launch event" },
        { "clone", R125, "setup step: create the sandbox" },
        { "cgroup_attach", R125, "setup step: move the sandbox into its cgroup (cgroup v1)" },
        { "network_parent", R125, "setup step: host side of the veth" },
        { "go", R125, "setup step: let the sandbox start" },
        { "prepare", R125, "pre-built sandbox (--prepare): it died or failed while built or before a claim" },
        { "claim", R125, "pre-built sandbox: a malformed claim, or the hand-over of the task to sandbox init" },
        { "mount_sources", R125, "init step: open the bind sources" },
        { "mounts", R125, "init step: build the new root" },
        { "pivot_root", R125, "init step: pivot into the new root" },
        { "root_readonly", R125, "init step: seal the root read-only" },
        { "credentials_dir", R125, "init step: the credentials directory" },
        { "hostname", R125, "init step: set the hostname" },
        { "init", R125, "sandbox init failed" },
        { "session", R125, "payload step: new session" },
        { "rlimits", R125, "payload step: resource limits" },
        { "close_fds", R125, "payload step: close stray file descriptors" },
        { "no_new_privs", R125, "payload step: no_new_privs" },
        { "chdir", R125, "payload: the working directory" },
        { "setup", R125, "a setup step failed without a reason of its own" },
};
const size_t sr_reasons_n = sizeof sr_reasons / sizeof sr_reasons[0];

const struct sr_reason *sr_reason_find(const char *code) {
        for (size_t i = 0; code && i < sr_reasons_n; i++)
                if (strcmp(sr_reasons[i].code, code) == 0)
                        return &sr_reasons[i];
        return NULL;
}
