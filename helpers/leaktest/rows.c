/* The rows of the normal run: their text, their vector, and how a check marks them checked, not applicable, or noted.
 */
#include "helpers/leaktest/fleet.h"

#include <stdarg.h>
#include <string.h>

static const char *const ROW_TEXT[R__MAX] = {
        [R_SETUP] = "keys and sealed profiles made by sealctl (one tampered, one expired, one revoked, one of another "
                    "issuer)",
        [R_AUDITD] = "sealrun-auditd collects the events on a private socket",
        [R_DELIV_A] = "tenant lt-a's payload received its own credentials: file, env, both, scoped, binary",
        [R_DELIV_B] = "tenant lt-b's payload received its own credentials: file, env, both, scoped, binary",
        [R_DELIV_CRASH] = "the crashing task's payload received its credentials before it crashed",
        [R_DELIV_BROKER] = "brokered (network mode proxy): the payload got a placeholder for the bound credential, as "
                           "file and env, and its unbound one; the bound value is held by the broker alone (every "
                           "other row looks for it everywhere else)",
        [R_DELIV_BROKER_TLS] = "brokered: HTTPS through the broker to a local TLS server bound in the sealed profile: "
                               "the server received exactly Authorization: Bearer and the sealed value (compared by "
                               "the server), the payload saw only its placeholder quoted back; every other row "
                               "looks for the value after this exchange",
        [R_ENV_WORKER] = "environ of the worker, during the run and after release",
        [R_ENV_SUP] = "environ of the supervisor (sealrun), during the run and after release",
        [R_ENV_INIT] = "environ of sandbox init, and of the decrypting process before exec",
        [R_ENV_HOST] = "environ of every other readable host process (a payload: its own env credentials only)",
        [R_ENV_OTHER] = "environ, cmdline and memory of the task's processes as read by another uid",
        [R_CMDLINE] = "cmdline (argv) of every host process, sampled during the run",
        [R_MEM_WORKER] = "memory of the worker (/proc/PID/mem over its maps) during the run",
        [R_MEM_WORKER_AFTER] = "memory of the worker after release",
        [R_MEM_SUP] = "memory of the supervisor during the run",
        [R_MEM_SUP_AFTER] = "memory of the supervisor after release (held at its \"exit\" event)",
        [R_MEM_INIT] = "memory of sandbox init during the run",
        [R_MEM_INIT_AFTER] = "memory of sandbox init after release",
        [R_MEM_PAYLOAD] = "memory of each payload: no other tenant's and no ungranted credential",
        [R_CORE_RLIMIT] = "RLIMIT_CORE of the decrypting process is 0 (held at its \"inject\" event)",
        [R_CORE_DUMPABLE] = "the decrypting process is not dumpable (its own uid, without privileges, cannot read it)",
        [R_CORE_DD] = "the decrypting process holds plaintext only in MADV_DONTDUMP pages (smaps VmFlags dd)",
        [R_CORE_CRASH] = "a payload that crashes after injection leaves no core dump",
        [R_FD_PAYLOAD] = "fds of the payload: only 0, 1, 2 and the socket passed with --pass-fd",
        [R_FD_HOST] = "open files (memfds included) of the worker, supervisor and sandbox init hold no canary",
        [R_FD_WORKER] = "the worker holds no new fd after sealrun ended",
        [R_FILE_TMP] = "/tmp after release: every name, and the contents of what changed during the run",
        [R_FILE_VARTMP] = "/var/tmp after release",
        [R_FILE_RUN] = "/run after release",
        [R_FILE_SHM] = "/dev/shm after release",
        [R_FILE_STATE] = "runtime and state directories after release",
        [R_FILE_MOUNTS] = "no mount is left on the host after release (credential staging area)",
        [R_SWAP_PAGES] = "the decrypting process's plaintext pages are locked (VmFlags lo), or its swap limit is 0",
        [R_SWAP_CREDSDIR] = "the credentials directory is ramfs, or tmpfs with noswap",
        [R_LOG_STDERR] = "sealrun's stderr of every task",
        [R_LOG_STATUS] = "the status JSON of every task",
        [R_LOG_AUDIT] = "the audit files hold no credential value",
        [R_LOG_AUDIT_NAMES] =
                "the audit files name injected credentials (\"inject\") and record the refusals (\"deny\")",
        [R_LOG_WIRE] = "audit messages on the wire",
        [R_LOG_TOOLS] = "output of sealctl and sealrun-auditd",
        [R_LOG_VARLOG] = "files under /var/log changed during the run",
        [R_OUTPUT] = "payload stdout and stderr: sealrun adds no copy of a credential",
        [R_CROSS_AB] = "nothing of lt-b readable inside lt-a's sandbox (files, /proc, other processes' memory, env)",
        [R_CROSS_BA] = "nothing of lt-a readable inside lt-b's sandbox",
        [R_CROSS_SCOPE] = "a credential whose scope the task was not granted reaches no one, not even its own sandbox",
        [R_UNITS] = "Environment of sealrun-pool@*.service units",
        [R_FC_TAMPERED] = "tampered profile: refused (77), payload never ran, its canaries nowhere",
        [R_FC_EXPIRED] = "expired profile: refused (77), payload never ran, its canaries nowhere",
        [R_FC_REVOKED] = "revoked profile: refused (77), payload never ran, its canaries nowhere",
        [R_FC_FOREIGN] = "another tenant's profile with this pool's key: refused (77), nothing anywhere",
        [R_FC_FOREIGN_KEY] = "another tenant's profile and key under this tenant: refused (77), nothing anywhere",
        [R_FC_WRONG_POOL] = "this tenant's profile sealed to another pool's key: refused (77), nothing anywhere",
        [R_FC_UNTRUSTED] = "profile signed by an untrusted issuer: refused (77), nothing anywhere",
        [R_FC_DOWN] = "audit collector down (required): refused (75), payload never ran, nothing anywhere",
        [R_TRIP_UNBOUND] = "the placeholder toward an allowed but unbound host over HTTPS (Bearer, x-api-key, Basic): "
                           "403 every time, nothing reached the server (control: the same request without it did)",
        [R_TRIP_PLAIN] = "the placeholder over plain HTTP to the bound host (Bearer, x-api-key, Basic): 403 every "
                         "time, nothing reached the server (control: the same request without it did)",
        [R_TRIP_BODY] = "the placeholder in a request body toward an unbound host (form, JSON, after 40 KiB): 403 "
                        "every time, nothing reached the server (control: a body without it did)",
};

/* Stable ids: CI keys on them (JUnit test names, JSON "id"); never renumber
 * or reuse one. The part before the dot is the vector's name. */
static const char *const ROW_ID[R__MAX] = {
        [R_SETUP] = "delivery.setup",
        [R_AUDITD] = "delivery.auditd",
        [R_DELIV_A] = "delivery.tenant-a",
        [R_DELIV_B] = "delivery.tenant-b",
        [R_DELIV_CRASH] = "delivery.crashing-task",
        [R_DELIV_BROKER] = "delivery.brokered",
        [R_DELIV_BROKER_TLS] = "delivery.brokered-tls",
        [R_ENV_WORKER] = "environ.worker",
        [R_ENV_SUP] = "environ.supervisor",
        [R_ENV_INIT] = "environ.sandbox-init",
        [R_ENV_HOST] = "environ.host-processes",
        [R_ENV_OTHER] = "environ.other-uid",
        [R_CMDLINE] = "cmdline.host-processes",
        [R_MEM_WORKER] = "memory.worker",
        [R_MEM_WORKER_AFTER] = "memory.worker-after",
        [R_MEM_SUP] = "memory.supervisor",
        [R_MEM_SUP_AFTER] = "memory.supervisor-after",
        [R_MEM_INIT] = "memory.sandbox-init",
        [R_MEM_INIT_AFTER] = "memory.sandbox-init-after",
        [R_MEM_PAYLOAD] = "memory.payload",
        [R_CORE_RLIMIT] = "core.rlimit",
        [R_CORE_DUMPABLE] = "core.dumpable",
        [R_CORE_DD] = "core.dontdump",
        [R_CORE_CRASH] = "core.crash",
        [R_FD_PAYLOAD] = "fds.payload",
        [R_FD_HOST] = "fds.host-processes",
        [R_FD_WORKER] = "fds.worker-after",
        [R_FILE_TMP] = "files.tmp",
        [R_FILE_VARTMP] = "files.var-tmp",
        [R_FILE_RUN] = "files.run",
        [R_FILE_SHM] = "files.dev-shm",
        [R_FILE_STATE] = "files.state-dirs",
        [R_FILE_MOUNTS] = "files.mounts-left",
        [R_SWAP_PAGES] = "swap.locked-pages",
        [R_SWAP_CREDSDIR] = "swap.credentials-dir",
        [R_LOG_STDERR] = "logs.stderr",
        [R_LOG_STATUS] = "logs.status-json",
        [R_LOG_AUDIT] = "logs.audit-values",
        [R_LOG_AUDIT_NAMES] = "logs.audit-names",
        [R_LOG_WIRE] = "logs.audit-wire",
        [R_LOG_TOOLS] = "logs.tools-output",
        [R_LOG_VARLOG] = "logs.var-log",
        [R_OUTPUT] = "output.payload",
        [R_CROSS_AB] = "cross-tenant.a-reads-b",
        [R_CROSS_BA] = "cross-tenant.b-reads-a",
        [R_CROSS_SCOPE] = "cross-tenant.ungranted-scope",
        [R_UNITS] = "unit-env.pool-units",
        [R_FC_TAMPERED] = "fail-closed.tampered",
        [R_FC_EXPIRED] = "fail-closed.expired",
        [R_FC_REVOKED] = "fail-closed.revoked",
        [R_FC_FOREIGN] = "fail-closed.foreign-tenant",
        [R_FC_FOREIGN_KEY] = "fail-closed.foreign-tenant-key",
        [R_FC_WRONG_POOL] = "fail-closed.wrong-pool",
        [R_FC_UNTRUSTED] = "fail-closed.untrusted-issuer",
        [R_FC_DOWN] = "fail-closed.collector-down",
        [R_TRIP_UNBOUND] = "tripwire.unbound-host",
        [R_TRIP_PLAIN] = "tripwire.plain-http",
        [R_TRIP_BODY] = "tripwire.body",
};

static const int ROW_VECTOR[R__MAX] = {
        [R_SETUP] = 0,         [R_AUDITD] = 0,           [R_DELIV_A] = 0,          [R_DELIV_B] = 0,
        [R_DELIV_CRASH] = 0,   [R_DELIV_BROKER] = 0,     [R_ENV_WORKER] = 1,       [R_ENV_SUP] = 1,
        [R_ENV_INIT] = 1,      [R_ENV_HOST] = 1,         [R_ENV_OTHER] = 1,        [R_CMDLINE] = 2,
        [R_MEM_WORKER] = 3,    [R_MEM_WORKER_AFTER] = 3, [R_MEM_SUP] = 3,          [R_MEM_SUP_AFTER] = 3,
        [R_MEM_INIT] = 3,      [R_MEM_INIT_AFTER] = 3,   [R_MEM_PAYLOAD] = 3,      [R_CORE_RLIMIT] = 4,
        [R_CORE_DUMPABLE] = 4, [R_CORE_DD] = 4,          [R_CORE_CRASH] = 4,       [R_FD_PAYLOAD] = 5,
        [R_FD_HOST] = 5,       [R_FD_WORKER] = 5,        [R_FILE_TMP] = 6,         [R_FILE_VARTMP] = 6,
        [R_FILE_RUN] = 6,      [R_FILE_SHM] = 6,         [R_FILE_STATE] = 6,       [R_FILE_MOUNTS] = 6,
        [R_SWAP_PAGES] = 7,    [R_SWAP_CREDSDIR] = 7,    [R_LOG_STDERR] = 8,       [R_LOG_STATUS] = 8,
        [R_LOG_AUDIT] = 8,     [R_LOG_AUDIT_NAMES] = 8,  [R_LOG_WIRE] = 8,         [R_LOG_TOOLS] = 8,
        [R_LOG_VARLOG] = 8,    [R_OUTPUT] = 9,           [R_CROSS_AB] = 10,        [R_CROSS_BA] = 10,
        [R_CROSS_SCOPE] = 10,  [R_UNITS] = 11,           [R_FC_TAMPERED] = 12,     [R_FC_EXPIRED] = 12,
        [R_FC_REVOKED] = 12,   [R_FC_FOREIGN] = 12,      [R_FC_FOREIGN_KEY] = 12,  [R_FC_WRONG_POOL] = 12,
        [R_FC_UNTRUSTED] = 12, [R_FC_DOWN] = 12,         [R_DELIV_BROKER_TLS] = 0, [R_TRIP_UNBOUND] = 14,
        [R_TRIP_PLAIN] = 14,   [R_TRIP_BODY] = 14,
};

void fleet_rows(struct fleet *f, struct report *r) {
        for (int i = 0; i < R__MAX; i++) {
                f->rows[i] = report_add(r, ROW_VECTOR[i], V_PASS, "%s", ROW_TEXT[i]);
                row_id(r, f->rows[i], ROW_ID[i]);
        }
}

void mark(struct fleet *f, enum rid r) {
        f->exercised[r]++;
}

void why_not(struct fleet *f, enum rid r, const char *fmt, ...) {
        va_list ap;
        if (f->why[r][0])
                return; /* the first reason is the one that matters */
        char text[1024];
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        lt_append(f->why[r], sizeof f->why[r], "", text);
}

void note(struct fleet *f, enum rid r, const char *fmt, ...) {
        char text[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (strstr(f->note[r], text))
                return; /* said already */
        lt_append(f->note[r], sizeof f->note[r], "; ", text);
}
