#!/bin/sh
# The systemd units: systemd-analyze verify accepts every unit, the hardening score holds, sysusers and sealrun-pool-init work on an image root.
. "$(dirname "$0")/lib.sh"

UNITS="$SEALRUN_SRC/systemd"
INIT="$SEALRUN_SRC/helpers/pool/sealrun-pool-init"
plan 38

# Copies of the units with ExecStart= pointing at the built binaries, so
# that verify can check them without an installed tree and without systemd
# as pid 1. The pool template is verified as an instance.
U="$T/units"
mkdir -p "$U"
stage() { # stage SRC-NAME DEST-NAME
        sed -e "s,/usr/local/bin/,$SEALRUN_BUILD/," "$UNITS/$1" > "$U/$2"
}
stage sealrun-auditd.socket sealrun-auditd.socket
stage sealrun-auditd.service sealrun-auditd.service
stage sealrun-pool@.service sealrun-pool@acme.service

verify() { # verify UNIT...: rc and output (any warning counts as a failure: verify exits 0 on unknown keys)
        out=$(cd "$U" && systemd-analyze verify --man=no "$@" 2>&1)
        rc=$?
        [ $rc -eq 0 ] && [ -z "$out" ]
}

verify sealrun-auditd.socket sealrun-auditd.service
ok $? "systemd-analyze verify: sealrun-auditd.socket and .service"
[ -n "$out" ] && printf "%s\n" "$out" | sed "s/^/# /"
verify sealrun-pool@acme.service
ok $? "systemd-analyze verify: sealrun-pool@acme.service"
[ -n "$out" ] && printf "%s\n" "$out" | sed "s/^/# /"

# The check can fail: an unknown key, a bad namespace name and a missing binary are each caught.
sed 's/^Delegate=yes/Delegate=yes\nDelegateTypo=yes/' "$U/sealrun-pool@acme.service" > "$U/bad1@acme.service"
sed 's/^RestrictNamespaces=.*/RestrictNamespaces=user bogus/' "$U/sealrun-pool@acme.service" > "$U/bad2@acme.service"
sed "s,$SEALRUN_BUILD/sealrun-pool,$T/nonexistent," "$U/sealrun-pool@acme.service" > "$U/bad3@acme.service"
n=0
for b in bad1 bad2 bad3; do verify "$b@acme.service" || n=$((n + 1)); done
is "$n" 3 "verify rejects a unit with a typo, a bad value, or a missing ExecStart binary"

# Exposure scores (systemd-analyze security, 0 safe .. 10 unsafe): the
# collector is locked down fully; a pool keeps what sealrun needs (user,
# mount, pid, net namespaces, mount syscalls, a writable delegated cgroup).
score() { # score UNIT: the overall exposure as printed, e.g. 0.5
        (cd "$U" && systemd-analyze security --offline=true --no-pager "$1" 2>/dev/null) |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
s=$(score sealrun-auditd.service)
diag "exposure: sealrun-auditd.service $s"
ok "$(awk -v s="${s:-99}" 'BEGIN { print (s <= 1.0) ? 0 : 1 }')" "sealrun-auditd.service exposure <= 1.0 (got ${s:-none})"
s=$(score sealrun-pool@acme.service)
diag "exposure: sealrun-pool@acme.service $s"
ok "$(awk -v s="${s:-99}" 'BEGIN { print (s <= 4.0) ? 0 : 1 }')" "sealrun-pool@acme.service exposure <= 4.0 (got ${s:-none})"

# The pool key never travels by environment or command line in any unit.
unlike "$(grep -hE '^(Environment|EnvironmentFile|PassEnvironment|SetCredential)=' "$UNITS"/*.service "$UNITS"/*.socket)" '.' \
        "no unit sets Environment=, EnvironmentFile=, PassEnvironment= or SetCredential="
like "$(grep -h '^LoadCredentialEncrypted=' "$UNITS/sealrun-pool@.service")" '^LoadCredentialEncrypted=pool\.key:/' \
        "the pool unit loads its key as an encrypted credential named pool.key"
unlike "$(grep -h '^ExecStart=' "$UNITS/sealrun-pool@.service")" 'key|cred' "the pool's command line names no key"

# sysusers.d: the collector's user and the clients' group, on an empty image root.
R="$T/sysroot"
mkdir -p "$R/etc"
systemd-sysusers --root="$R" "$UNITS/sealrun.sysusers.conf" >/dev/null 2>&1
like "$(cut -d: -f1,7 "$R/etc/passwd" 2>/dev/null)" '^sealrun-audit:/usr/sbin/nologin$' "sysusers.d creates the sealrun-audit system user"
like "$(cut -d: -f1 "$R/etc/group" 2>/dev/null | tr '\n' ' ')" 'sealrun-clients' "sysusers.d creates the sealrun-clients group"

# sealrun-pool-init on an image root (--root, plain credential), then --check.
if ! is_root; then
        for i in $(seq 1 28); do skip "sealrun-pool-init creates system users and root-owned files: root only by design"; done
        exit 0
fi
mkdir -p "$R/usr/local/share/sealrun/policy"
cp "$STOCK/default.json" "$R/usr/local/share/sealrun/policy/agent.json"
out=$(sh "$INIT" --root "$R" --plain-credential --sealctl "$SEALCTL" --max-tasks 3 \
        --policy /usr/local/share/sealrun/policy/agent.json acme 2>&1)
rc=$?
ok $rc "sealrun-pool-init --root --plain-credential acme"
[ $rc -eq 0 ] || printf "%s\n" "$out" | sed "s/^/# /"
uid=$(grep '^sealrun-acme:' "$R/etc/passwd" | cut -d: -f3)
modes="$(stat -c '%a %u' "$R/etc/credstore/sealrun-pool-acme.key" 2>/dev/null) $(stat -c '%a %u %g' "$R/etc/sealrun/pools/acme/pool.json" 2>/dev/null)"
is "$modes" "600 0 640 0 $(grep '^sealrun-acme:' "$R/etc/group" | cut -d: -f3)" "key credential root 0600, config root:sealrun-acme 0640"
out=$(sh "$INIT" --root "$R" --check acme 2>&1)
rc=$?
ok $rc "sealrun-pool-init --check: a fresh pool is complete and safe"
[ $rc -eq 0 ] || printf "%s\n" "$out" | sed "s/^/# /"
like "$(jq -c --argjson u "${uid:-0}" '[.allow[] | select(.uid == $u) | .tenants[]]' "$R/etc/sealrun/audit-allow.json")" '^\["acme"\]$' \
        "the audit allow map lets the pool's uid write for its own tenant only"

# The revocation list: made and wired by default, checked by --check, changed by running again.
P="$R/etc/sealrun/pools/acme"
out=$(sh "$INIT" --root "$R" --check --sealctl "$SEALCTL" acme 2>&1)
like "$(jq -r .revoked "$P/pool.json")|$(printf '%s\n' "$out" | grep 'revocation list' | tail -n 1)" \
        '^/etc/sealrun/pools/acme/revoked\|ok +revocation list: /etc/sealrun/pools/acme/revoked is wired and parses \(0 entries\)$' \
        "a fresh pool has an empty revocation list, wired into its config; --check parses it"
printf 'tenant=acme profile=agent version<3 reason=rotated\n' > "$R/etc/sealrun/acme-revoked" && chmod 0644 "$R/etc/sealrun/acme-revoked"
out=$(sh "$INIT" --root "$R" --plain-credential --sealctl "$SEALCTL" --revoked /etc/sealrun/acme-revoked acme 2>&1)
like "$?|$(jq -r .revoked "$P/pool.json")|$(printf '%s\n' "$out" | grep config)" \
        '^0\|/etc/sealrun/acme-revoked\|sealrun-pool-init: acme: config updated \(revoked\): .*restart the pool' \
        "--revoked given to an existing pool is applied to its config, and said"
out=$(sh "$INIT" --root "$R" --plain-credential --sealctl "$SEALCTL" acme 2>&1)
like "$(printf '%s\n' "$out" | grep config)|$(jq -r .revoked "$P/pool.json")" 'config exists, unchanged: .*\|/etc/sealrun/acme-revoked$' \
        "running again without options changes nothing"
jq 'del(.revoked)' "$P/pool.json" > "$T/pj" && cat "$T/pj" > "$P/pool.json"
out=$(sh "$INIT" --root "$R" --check --sealctl "$SEALCTL" acme 2>&1); rc=$?
like "$rc|$(printf '%s\n' "$out" | grep 'revocation list')" '^1\|MISSING +revocation list: neither' "--check: a pool without a revocation list is reported"
echo 'revoke everything' >> "$R/etc/sealrun/acme-revoked"
jq '.revoked = "/etc/sealrun/acme-revoked"' "$T/pj" > "$P/pool.json"
out=$(sh "$INIT" --root "$R" --check --sealctl "$SEALCTL" acme 2>&1); rc=$?
like "$rc|$(printf '%s\n' "$out" | grep 'revocation list' | tail -n 1)" '^1\|UNSAFE +revocation list: .*acme-revoked:2: expected' "--check: a list sealrun would refuse is reported"
sed -i '$d' "$R/etc/sealrun/acme-revoked"

# --work-root: wired into the config, created for the pool's group; a root holding spools refused.
out=$(sh "$INIT" --root "$R" --plain-credential --sealctl "$SEALCTL" --work-root /srv/sealrun/acme acme 2>&1); rc=$?
gid=$(grep '^sealrun-acme:' "$R/etc/group" | cut -d: -f3)
is "$rc|$(jq -r .work_root "$P/pool.json")|$(stat -c '%a %u %g' "$R/srv/sealrun/acme" 2>&1)|$(sh "$INIT" --root "$R" --check acme 2>&1 | grep -c '^ok *work root: /srv/sealrun/acme$')" \
        "0|/srv/sealrun/acme|770 0 $gid|1" "--work-root: in the config, created root:sealrun-acme 0770, and --check finds it"
out=$(sh "$INIT" --root "$R" --check --sealctl "$SEALCTL" acme 2>&1); rc=$?
like "$rc|$(printf '%s\n' "$out" | grep 'work root: the policy')" '^1\|MISSING +work root: the policy /usr/local/share/sealrun/policy/agent\.json does not allow extra binds' \
        "--check: a work root under a policy without allow_extra_binds is reported (every workdir request would be refused)"
printf '{"extends": "default", "allow_extra_binds": true}\n' > "$R/etc/sealrun/pool-policy.json"
sh "$INIT" --root "$R" --plain-credential --sealctl "$SEALCTL" --policy /etc/sealrun/pool-policy.json acme >/dev/null 2>&1
out=$(sh "$INIT" --root "$R" --check --sealctl "$SEALCTL" acme 2>&1); rc=$?
like "$rc|$(printf '%s\n' "$out" | grep 'work root: the policy')" '^0\|ok +work root: the policy allows' \
        "... and found in order with a policy that extends default with allow_extra_binds"
[ $rc -eq 0 ] || printf '%s\n' "$out" | grep -v '^ok' | sed 's/^/# /'
out=$(sh "$INIT" --root "$R" --plain-credential --sealctl "$SEALCTL" --work-root /var/lib/sealrun-pool acme 2>&1); rc=$?
like "$rc|$out|$(jq -r .work_root "$P/pool.json")" '^125\|.*--work-root: /var/lib/sealrun-pool holds or lies inside .*\|/srv/sealrun/acme$' \
        "--work-root over the pools' spools is refused (125), the config unchanged"

# --rotate-key: a new key pair in place of the old, the old secret kept aside (unused) until
# --remove-old, every profile sealed to the old key listed, the revocation line printed and usable.
"$SEALCTL" keygen --issuer --out "$T/ops" >/dev/null 2>&1
KEY="$R/etc/credstore/sealrun-pool-acme.key"
seal_to() { # seal_to PROFILE VERSION: a profile for acme sealed to the pool's current public key
        printf '{"tenant":"acme","credentials":[{"name":"tok","value":"v%s"}]}' "$2" |
                "$SEALCTL" seal --tenant acme --profile "$1" --version "$2" --not-after +1h --to "$P/pool.pub" \
                --sign "$T/ops.key" --in - --out "$P/profiles/$1.sealed" >/dev/null 2>&1
}
seal_to default 1
cp "$P/profiles/default.sealed" "$T/v1.sealed"
old=$(cut -d' ' -f3 "$P/pool.pub")
cp "$KEY" "$T/old.key"
srun --tenant acme --profile "$P/profiles/default.sealed" --key "$KEY" --trust "$T/ops.pub" -- /bin/true
is "$RC" 0 "control: the pool key opens the profile sealed to it"
out=$(sh "$INIT" --root "$R" --rotate-key --sealctl "$SEALCTL" acme 2>&1); rc=$?
new=$(cut -d' ' -f3 "$P/pool.pub")
like "$rc|$(printf '%s\n' "$out" | grep 'rotated')" "^0\|sealrun-pool-init: acme: pool key rotated: $old -> [0-9a-f]{16} " \
        "--rotate-key: exit 0, the old and the new key id said"
ok "$([ "$new" != "$old" ] && ! cmp -s "$KEY" "$T/old.key" && [ "$(stat -c '%a %u' "$KEY")" = "600 0" ]; echo $?)" \
        "... pool.pub and the credential hold a new key (root 0600)"
ok "$(cmp -s "$KEY.old-$old" "$T/old.key" && [ "$(stat -c '%a %u' "$KEY.old-$old")" = "600 0" ]; echo $?)" \
        "... the old secret is kept as $(basename "$KEY").old-$old, root 0600"
like "$(printf '%s\n' "$out" | grep 're-seal:')" 'sealrun-pool-init: acme: re-seal: /etc/sealrun/pools/acme/profiles/default\.sealed \(acme/default version 1\)' \
        "... the profile still sealed to the old key is listed"
line=$(printf '%s\n' "$out" | grep '^sealctl revoke ')
rvp=$(jq -r .revoked "$P/pool.json")
is "$line" "sealctl revoke --revoked $rvp --key-id $old --reason key-rotated" "... and the revocation line for the old key id printed"
srun --tenant acme --profile "$P/profiles/default.sealed" --key "$KEY" --trust "$T/ops.pub" -- /bin/true
is "$RC" 77 "the new key does not open a profile sealed to the old one (77)"
out=$(sh "$INIT" --root "$R" --check --sealctl "$SEALCTL" acme 2>&1); rc=$?
like "$rc|$(printf '%s\n' "$out" | grep -E '^(STALE|note +old)' | tr '\n' '|')" \
        "^1\|STALE +profile: /etc/sealrun/pools/acme/profiles/default\.sealed is sealed to key $old, not this pool's key $new: re-seal it\|note +old pool key kept" \
        "--check: the stale profile is a problem (exit 1), the kept old key a note"
# The documented steps: re-seal, revoke the old key id with the printed line.
seal_to default 2
eval "$(printf '%s' "$line" | sed "s,^sealctl ,\"\$SEALCTL\" ,; s,--revoked /,--revoked $R/,")" >/dev/null 2>&1
srun --tenant acme --profile "$P/profiles/default.sealed" --key "$KEY" --trust "$T/ops.pub" --revoked "$R$rvp" -- /bin/true
is "$RC" 0 "a profile re-sealed to the new key opens with it, under the list revoking the old key"
srun --tenant acme --profile "$T/v1.sealed" --key "$T/old.key" --trust "$T/ops.pub" --revoked "$R$rvp" -- /bin/true
is "$RC|$(printf '%s' "$STATUS" | jq -r .refused)" "77|revoked" "the printed line revokes what was sealed to the old key, even for a holder of the old key"
out=$(sh "$INIT" --root "$R" --remove-old acme 2>&1); rc=$?
ok "$([ $rc -eq 0 ] && ! ls "$KEY".old-* >/dev/null 2>&1; echo $?)" "--remove-old removes the kept old key"
out=$(sh "$INIT" --root "$R" --check --sealctl "$SEALCTL" acme 2>&1); rc=$?
is "$rc|$(printf '%s\n' "$out" | grep -cE '^(STALE|note +old)')" "0|0" "--check after re-sealing and removing: clean again"
out=$(sh "$INIT" --root "$R" --rotate-key --remove-old --sealctl "$SEALCTL" acme 2>&1); rc=$?
ok "$([ $rc -eq 0 ] && ! ls "$KEY".old-* >/dev/null 2>&1; echo $?)" "--rotate-key --remove-old keeps no old key"
out=$(sh "$INIT" --root "$R" --rotate-key --sealctl "$SEALCTL" globex 2>&1); rc=$?
like "$rc|$out" '^125\|.*--rotate-key: /etc/sealrun/pools/globex/pool\.pub does not exist' "--rotate-key on a pool that does not exist: 125, said"

# Each unsafe change is reported.
chmod 0644 "$R/etc/credstore/sealrun-pool-acme.key"
printf '[Service]\nEnvironment=POOL_KEY=x\n' > "$R/etc/systemd/system/sealrun-pool@acme.service.d/90-env.conf"
jq '.allow += [{"uid": '"${uid:-0}"', "tenants": ["globex"]}]' "$R/etc/sealrun/audit-allow.json" > "$T/allow" && cp "$T/allow" "$R/etc/sealrun/audit-allow.json"
echo secret > "$R/etc/sealrun/pools/acme/pool.key"
out=$(sh "$INIT" --root "$R" --check acme 2>&1)
rc=$?
n=$(printf '%s\n' "$out" | grep -c '^UNSAFE')
if [ $rc -eq 1 ] && [ "$n" -ge 4 ]; then ok 0 "--check reports a readable key, Environment= in a drop-in, a widened allow map and a stray key file"
else ok 1 "--check reports a readable key, Environment= in a drop-in, a widened allow map and a stray key file"; printf "%s\n" "$out" | sed "s/^/# /"; fi
