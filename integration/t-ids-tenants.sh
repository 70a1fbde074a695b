#!/bin/sh
# Per-tenant host ids (issue 13 item 6): as root, each tenant's payload runs
# as its own host uid from a root-owned registry, so through a shared
# writable directory one tenant cannot read what another wrote with 0600.
# Idmapped binds let a task see a worker-owned directory as its own.
# Unprivileged callers map themselves, and cannot idmap.
. "$(dirname "$0")/lib.sh"
plan 24

chmod 0755 "$T"
mkdir -m 1777 "$T/shared"
POL="$T/shared.json"
jq --arg s "$T/shared" '.mounts += [{"type":"bind","src":$s,"dst":"/s"}]' "$TEST_POLICY" > "$POL"
hostuid() { stat -c %u "$1" 2>/dev/null; }
hostgid() { stat -c %g "$1" 2>/dev/null; }

# --- idmapped binds: the same checks in both tiers, the outcome differs ---
mkdir -m 0700 "$T/work"
is_root && chown 4242:4242 "$T/work"
jq --arg w "$T/work" '.mounts += [{"type":"bind","src":$w,"dst":"/work","idmap":"required"}]' "$TEST_POLICY" > "$T/idmap.json"
jq --arg w "$T/work" '.mounts += [{"type":"bind","src":$w,"dst":"/work","idmap":"optional"}]' "$TEST_POLICY" > "$T/idmap-opt.json"
jq --arg w "$T/work" '.mounts += [{"type":"bind","src":$w,"dst":"/work"}]' "$TEST_POLICY" > "$T/plain.json"

if ! is_root; then
        srun --tenant acme -- /t/probe info
        like "$(jget "$OUT" .uid_map)" "^ *1000 +$(id -u) +1" "unprivileged: --tenant still maps the caller's own uid"
        ok "$([ ! -e "$T/tenant-ids" ]; echo $?)" "unprivileged: no registry is written"
        POLICY="$T/idmap.json" srun --tenant acme -- true
        is "$RC" 77 "unprivileged: a required idmap is refused (77)"
        is "$(jget "$STATUS" .refused)" idmap-unsupported "reason idmap-unsupported"
        like "$ERR" "^sealrun: .*cannot idmap it here .*idmapped mounts need root" "one line says why"
        POLICY="$T/idmap-opt.json" srun --tenant acme -- /bin/sh -c 'echo mine > /work/out'
        is "$RC" 0 "unprivileged: an optional idmap binds plainly"
        is "$(jget "$STATUS" '.not_enforced | index("idmap") != null')" true "and reports idmap in not_enforced"
        is "$(hostuid "$T/work/out")" "$(id -u)" "the task's file is the caller's"
        i=8
        while [ $i -lt 24 ]; do skip "root only: per-tenant host ids and idmapped mounts need root"; i=$((i + 1)); done
        exit 0
fi

# --- two tenants through one shared host directory ---
srun --tenant acme --bind "$T/shared" /s -- /bin/sh -c 'umask 077; echo acme-secret > /s/acme'
is "$RC" 0 "tenant acme writes a 0600 file into the shared directory"
UA=$(hostuid "$T/shared/acme")
srun --tenant beta --bind "$T/shared" /s -- /bin/sh -c 'cat /s/acme'
ok "$([ "$RC" -ne 0 ]; echo $?)" "tenant beta cannot read it (exit $RC)"
unlike "$OUT" acme-secret "and gets none of it"
srun --tenant beta --bind "$T/shared" /s -- /bin/sh -c 'umask 077; echo beta-secret > /s/beta'
UB=$(hostuid "$T/shared/beta")
ok "$([ -n "$UA" ] && [ -n "$UB" ] && [ "$UA" != "$UB" ]; echo $?)" "their host uids differ (acme $UA, beta $UB)"
ok "$([ "$UA" -ne 65534 ] && [ "$UA" -ne 0 ] && [ "$UB" -ne 65534 ]; echo $?)" "neither is nobody nor root"
ok "$([ "$(hostgid "$T/shared/acme")" != "$(hostgid "$T/shared/beta")" ]; echo $?)" "their host gids differ"
srun --tenant acme --bind "$T/shared" /s -- /bin/sh -c 'cat /s/acme'
is "$OUT" acme-secret "control: acme reads its own file back in a later task (stable ids)"
srun --tenant acme -- /t/probe info
like "$(jget "$OUT" .uid_map)" "^ *1000 +$UA +1" "acme's uid 1000 maps to its host uid, one id"
srun --bind "$T/shared" /s -- /bin/sh -c 'echo none > /s/untenanted; cat /s/acme'
is "$(hostuid "$T/shared/untenanted")" 65534 "without a tenant the task runs as the policy's host_uid (65534)"
unlike "$OUT" acme-secret "and cannot read a tenant's file"

# --- the registry ---
R="$SEALRUN_TENANT_IDS"
is "$(stat -c '%u %a' "$R")" "0 644" "the registry is root-owned, 0644"
is "$(grep -c '^acme \|^beta ' "$R")" 2 "it records acme and beta once each"
chmod g+w "$R"
srun --tenant acme -- true
is "$RC:$(jget "$STATUS" .refused)" "77:tenant-ids" "a group-writable registry is refused (77, tenant-ids)"
like "$ERR" "^sealrun: $R: must be a regular file owned by root, not group/other-writable" "one line names the file and the rule"
chmod g-w "$R"; chown 1 "$R"
srun --tenant acme -- true
is "$RC" 77 "a registry not owned by root is refused"
chown 0 "$R"

# a configured range with room for two blocks: the third tenant is refused
mkdir -m 0755 "$T/reg2"
jq '.tenant_ids = {"range": [1610612736, 1610743807]}' "$TEST_POLICY" > "$T/range.json"
for t in t1 t2; do SEALRUN_TENANT_IDS="$T/reg2/ids" POLICY="$T/range.json" srun --tenant $t -- /t/probe info; done
like "$(jget "$OUT" .uid_map)" "^ *1000 +1610679272 +1" "the second tenant gets the range's second block (base 1610678272, uid 1000 at +1000)"
SEALRUN_TENANT_IDS="$T/reg2/ids" POLICY="$T/range.json" srun --tenant t3 -- true
is "$RC:$(jget "$STATUS" .refused)" "77:tenant-ids-full" "a full range refuses a new tenant (77, tenant-ids-full)"

# concurrent first launches of six tenants: the lock keeps every block distinct
mkdir -m 0755 "$T/reg3"
for t in c1 c2 c3 c4 c5 c6; do
        SEALRUN_TENANT_IDS="$T/reg3/ids" "$SR" --policy "$TEST_POLICY" --tenant $t -- true >/dev/null 2>&1 &
done
wait
is "$(grep -v '^#' "$T/reg3/ids" | awk '{print $2}' | sort -u | wc -l | tr -d ' ')" 6 "six concurrent new tenants get six distinct blocks"

# --- idmapped binds ---
POLICY="$T/plain.json" srun --tenant acme -- /bin/sh -c 'echo x > /work/out'
ok "$([ "$RC" -ne 0 ] && [ ! -e "$T/work/out" ]; echo $?)" "control: without idmap the worker's 0700 directory is closed to the task"
POLICY="$T/idmap.json" srun --tenant acme -- /bin/sh -c 'echo mine > /work/out && stat -c "%u:%g" /work /work/out'
if [ "$RC" -eq 77 ] && [ "$(jget "$STATUS" .refused)" = idmap-unsupported ]; then
        diag "this kernel cannot idmap the file system of $T: $ERR"
        skip "idmapped mount of $T's file system not supported by this kernel"
        skip "idmapped mount not supported"
        POLICY="$T/idmap-opt.json" srun --tenant acme -- true
        is "$RC:$(jget "$STATUS" '.not_enforced | index("idmap") != null')" "0:true" "optional idmap: bound plainly, idmap in not_enforced"
else
        is "$OUT" "$(printf '1000:1000\n1000:1000')" "through the idmap the task sees the directory and its file as its own (exit $RC)"
        is "$(stat -c %u:%g "$T/work/out")" "4242:4242" "on the host the file belongs to the directory's owner"
        POLICY="$T/idmap-opt.json" srun --tenant acme -- true
        is "$RC:$(jget "$STATUS" '.not_enforced | length')" "0:0" "optional idmap where supported: nothing in not_enforced"
fi
chown 0:0 "$T/work"
POLICY="$T/idmap.json" srun --tenant acme -- true
is "$RC:$(jget "$STATUS" .refused)" "77:idmap-owner" "a root-owned source is never idmapped (77, idmap-owner)"

# tmpfs: Debian 12's 6.1 cannot idmap it; newer kernels can. Either way, no silent downgrade.
if command -v unshare >/dev/null 2>&1; then
        mkdir -p "$T/tmpfs"
        jq --arg w "$T/tmpfs/w" '.mounts += [{"type":"bind","src":$w,"dst":"/work","idmap":"required"}]' "$TEST_POLICY" > "$T/tmpfs.json"
        OUTT=$(unshare -m sh -c 'mount -t tmpfs -o mode=0755 none "$1" && mkdir -m 0700 "$1/w" && chown 4242:4242 "$1/w" &&
                "$2" --policy "$3" --tenant acme --status-fd 3 --ro-bind "$4" /t -- /bin/sh -c "echo x > /work/o" 3>&1 >/dev/null 2>&1 | tail -n 1 &&
                stat -c %u "$1/w/o" 2>/dev/null' sh "$T/tmpfs" "$SR" "$T/tmpfs.json" "$IBIN")
        TR=$(printf '%s\n' "$OUTT" | head -n 1 | jq -r '"\(.exit_code):\(.refused)"')
        case "$TR" in
        0:null) is "$(printf '%s\n' "$OUTT" | tail -n 1)" 4242 "tmpfs source: this kernel idmaps tmpfs, the file lands as the owner" ;;
        77:idmap-unsupported) ok 0 "tmpfs source: this kernel cannot idmap tmpfs and the required idmap is refused (77)" ;;
        *) ok 1 "tmpfs source: idmapped or refused, nothing else (got $TR)" ;;
        esac
else
        skip "unshare (util-linux) not installed"
fi
