#!/bin/sh
# Where sealrun runs: --check-host agrees with real launches, reports without
# side effects, names causes and fixes; a host without user namespaces
# (simulated: a user namespace of our own where user.max_user_namespaces is 0,
# a per-namespace sysctl) gets a launch error naming the cause, and with
# "namespaces": {"user": "optional"} root launches without one: payload not
# root, no capabilities, every escape probe still denied, listed in not_enforced.
. "$(dirname "$0")/lib.sh"
plan 41

ONE_LINE() { [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ] && [ -n "$1" ]; }

# ---- --check-host on this host ----
srun -- /usr/bin/true
launch_rc=$RC
"$SR" --check-host --policy "$TEST_POLICY" > "$T/chk.txt" 2> "$T/chk.err"
chk_rc=$?
want=77; [ "$launch_rc" -eq 0 ] && want=0
is "$chk_rc" "$want" "check-host's verdict ($chk_rc) agrees with a real launch (exit $launch_rc)"
like "$(tail -n 1 "$T/chk.txt")" "^verdict: the policy can(not)? run here \\(exit $want\\)$" "the table ends with the verdict"
"$SR" --check-host --json --policy "$TEST_POLICY" > "$T/chk.json" 2>/dev/null
is "$?" "$want" "--json exits the same"
jq -e '.version == 1 and (.checks | length) > 15 and all(.checks[]; (.ok | type) == "boolean" and (.needed | type) == "boolean" and (.name | type) == "string")' \
        "$T/chk.json" > /dev/null
ok $? "the JSON has version 1 and typed checks"
is "$(jq -r .can_run "$T/chk.json")" "$([ "$want" -eq 0 ] && echo true || echo false)" "can_run matches the exit code"
nfail=$(jq -r '[.checks[] | select(.needed and (.ok | not))] | length' "$T/chk.json")
if [ "$want" -eq 0 ]; then [ "$nfail" -eq 0 ]; else [ "$nfail" -gt 0 ]; fi
ok $? "can_run is false exactly when a needed check failed ($nfail failed)"

# ---- clone3 answering ENOSYS (old kernels; Docker's default seccomp profile) ----
# noclone3 checks that clone3 really fails with ENOSYS under its filter before
# it runs sealrun, so these pass only through the clone(2) fallback.
srun -- /usr/bin/true
cg_want=$(jget "$STATUS" '.cgroup != null')
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$IBIN/noclone3" "$SR" > "$T/sr-noclone3" && chmod 0755 "$T/sr-noclone3"
SR_REAL=$SR SR=$T/sr-noclone3
srun -- /t/probe info
SR=$SR_REAL
is "$RC/$(jget "$OUT" .pid)/$(jget "$OUT" '.proc_pids | sort | join(",")')" "0/2/1,2" \
        "clone3 answers ENOSYS: the sandbox is made with clone(2), same pid namespace shape"
is "$(jget "$STATUS" '[.exit_code, .cgroup != null] | @tsv')" "0	$cg_want" "and it gets a task cgroup exactly when a clone3 launch does ($cg_want)"
"$IBIN/noclone3" "$SR" --check-host --json --policy "$TEST_POLICY" > "$T/nc3.json" 2>/dev/null
is "$?/$(jq -c '.checks[] | select(.name == "clone3") | [.ok, .needed]' "$T/nc3.json")" "$want/[false,false]" \
        "--check-host: clone3 missing is not needed (clone(2) is used), the verdict unchanged"

# Missing bind source: both the check and the launch refuse, the check names the fix.
jq '.mounts += [{"type": "ro-bind", "src": "/nonexistent-sealrun-src", "dst": "/x"}]' "$TEST_POLICY" > "$T/missing.json"
"$SR" --check-host --policy "$T/missing.json" > "$T/miss.txt" 2>&1
is "$?" 77 "a policy with a missing bind source cannot run (77)"
like "$(grep '^needed:' "$T/miss.txt")" 'policy bind \[bind-source\]: create it, or mark the entry "optional": true' "the needed line gives the reason code and the fix"
POLICY="$T/missing.json" srun -- /usr/bin/true
unlike "$RC" '^0$' "and a launch with it fails too"

# A bind the payload's host uid cannot read: the launch works, check-host warns.
mkdir -m 0700 "$T/private"
jq --arg d "$T/private" '.mounts += [{"type": "ro-bind", "src": $d, "dst": "/p"}]' "$TEST_POLICY" > "$T/private.json"
"$SR" --check-host --policy "$T/private.json" > "$T/priv.txt" 2>&1
is "$?" "$want" "an unreadable bind source does not change the verdict"
if is_root; then who=65534; else who=$(id -u); chmod 0000 "$T/private"; fi
"$SR" --check-host --policy "$T/private.json" > "$T/priv.txt" 2>&1
like "$(grep '^note: policy bind' "$T/priv.txt")" "^note: policy bind \\[bind-permission\\]: give uid $who access" "but warns that uid $who cannot use it"
chmod 0700 "$T/private"

printf '{"version": 1,' > "$T/bad.json"
OUT=$("$SR" --check-host --policy "$T/bad.json" 2>&1 >/dev/null); RC=$?
is "$RC" 125 "a policy that does not parse: 125, as for a launch"
if ONE_LINE "$OUT"; then like "$OUT" "bad.json" "one line naming the file"; else ok 1 "one line naming the file: '$OUT'"; fi
OUT=$("$SR" --json -- /usr/bin/true 2>&1); RC=$?
is "$RC/$OUT" "125/sealrun: --json: only with --check-host" "--json without --check-host is a usage error"

# No side effects: no mount, no leftover cgroup.
before=$(wc -l < /proc/self/mountinfo)
"$SR" --check-host --policy "$TEST_POLICY" > /dev/null 2>&1
is "$(wc -l < /proc/self/mountinfo)" "$before" "check-host leaves the mount table alone"
left=$(find /sys/fs/cgroup -maxdepth 6 -name 'sealrun-check-*' 2>/dev/null | head -n 3)
is "$left" "" "and leaves no scratch cgroup behind"

# Fake sysctl/securityfs files change what is reported, never the verdict or a launch.
mkdir -p "$T/fake/proc/sys/kernel" "$T/fake/proc/sys/user" "$T/fake/sys/kernel/security/apparmor"
echo 1 > "$T/fake/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
echo 0 > "$T/fake/proc/sys/user/max_user_namespaces"
printf 'firefox (enforce)\n' > "$T/fake/sys/kernel/security/apparmor/profiles"
SEALRUN_HOST_ROOT="$T/fake" "$SR" --check-host --json --policy "$TEST_POLICY" > "$T/fake.json" 2>/dev/null
is "$?" "$want" "with a fake tree claiming AppArmor's restriction the verdict is unchanged"
like "$(jq -r '.checks[] | select(.name == "apparmor") | .detail' "$T/fake.json")" "^enabled; unprivileged userns restricted; sealrun profile not loaded" \
        "the fake AppArmor restriction is reported"
is "$(jq -r .host_root "$T/fake.json")" "$T/fake" "the JSON says where host files were read"
printf 'sealrun (unconfined)\n' > "$T/fake/sys/kernel/security/apparmor/profiles"
like "$(SEALRUN_HOST_ROOT="$T/fake" "$SR" --check-host --policy "$TEST_POLICY" 2>/dev/null | grep '^apparmor ')" \
        '^apparmor +ok +- +enabled; unprivileged userns restricted; sealrun profile loaded' "a loaded sealrun profile is seen in the fake securityfs"
SEALRUN_HOST_ROOT="$T/fake" srun -- /usr/bin/true
is "$RC" "$launch_rc" "a launch with the fake tree behaves as without it"

# ---- a host without user namespaces ----
# restricted CMD...: run CMD as root of a user namespace of ours in which
# user.max_user_namespaces is 0. Root maps uids/gids 0-65535 to themselves
# (so host_uid 65534 exists); an unprivileged user maps only itself (-r).
restricted() {
        if is_root; then
                mkfifo "$T/go"
                # shellcheck disable=SC2016
                unshare -U sh -c 'read x < "$0"; exec sh -c "echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec \"\$@\"" sh "$@"' "$T/go" "$@" &
                rpid=$!
                me=$(readlink /proc/self/ns/user)
                while [ "$(readlink /proc/$rpid/ns/user 2>/dev/null)" = "$me" ]; do sleep 0.01; done
                echo '0 0 65536' > /proc/$rpid/uid_map && echo '0 0 65536' > /proc/$rpid/gid_map
                echo go > "$T/go"
                wait $rpid
                r=$?
                rm -f "$T/go"
                return $r
        fi
        # shellcheck disable=SC2016
        unshare -Ur sh -c 'echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec "$@"' sh "$@"
}
host_max=$(cat /proc/sys/user/max_user_namespaces)
restricted sh -c 'cat /proc/sys/user/max_user_namespaces; unshare -U true 2>/dev/null && echo created'  > "$T/sim" 2>&1
if [ "$(cat "$T/sim")" != 0 ]; then
        diag "simulation: $(cat "$T/sim")"
        for _ in $(seq 17); do skip "cannot simulate a host without user namespaces here (unshare -U, per-namespace user.max_user_namespaces)"; done
        exit 0
fi
ok 0 "simulated host: user.max_user_namespaces=0 in our namespace, no user namespace can be created in it"
[ "$(cat /proc/sys/user/max_user_namespaces)" = "$host_max" ] && [ "$host_max" != 0 ]
ok $? "the host's own value ($host_max) is untouched"

rsrun() { # rsrun POLICY ARGS...: srun inside the restricted namespace
        pol=$1; shift
        : > "$T/out"; : > "$T/err"; : > "$T/status"
        restricted "$SR" --policy "$pol" --status-fd 9 --ro-bind "$IBIN" /t "$@" >"$T/out" 2>"$T/err" 9>"$T/status"
        RC=$?; OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); STATUS=$(tail -n 1 "$T/status")
}
rsrun "$TEST_POLICY" -- /usr/bin/true
is "$RC" 125 "without user namespaces a launch fails (125)"
if ONE_LINE "$ERR"; then is "$ERR" "sealrun: user namespaces are disabled (user.max_user_namespaces=0): raise it (sysctl -w user.max_user_namespaces=15000); as root in a container, \"namespaces\": {\"user\": \"optional\"} in the policy launches without one (reason: userns-limit; clone failed: No space left on device)" \
        "one stderr line names the cause and the fix"; else ok 1 "one stderr line: '$ERR'"; fi
is "$(jget "$STATUS" .failed_step)" "userns-limit" "the status carries the reason code"
restricted "$SR" --check-host --policy "$TEST_POLICY" > "$T/rchk.txt" 2>&1
is "$?" 77 "check-host there: cannot run (77)"
like "$(grep '^needed: namespace user' "$T/rchk.txt")" '\[userns-limit\]: user namespaces are disabled' "check-host names the same cause"

# "namespaces": {"user": "optional"}
jq '.namespaces.user = "optional"' "$TEST_POLICY" > "$T/opt.json"
jq '.capabilities = ["CAP_NET_BIND_SERVICE"]' "$T/opt.json" > "$T/opt-caps.json"
rsrun "$T/opt-caps.json" -- /usr/bin/true
is "$RC/$(jget "$STATUS" .refused)" "77/userns-optional-caps" "\"optional\" with kept capabilities is refused (they would be host capabilities)"
rsrun "$T/opt.json" -- /bin/sh -c 'id -u; grep -E "^Cap(Eff|Prm|Bnd|Amb):" /proc/self/status | tr -d "\t"'
if ! is_root; then
        is "$RC" 125 "unprivileged: \"optional\" cannot go on (only its own uid is mapped)"
        like "$ERR" 'host_uid 65534/host_gid 65534 are not mapped in sealrun.s own user namespace' "and says why"
        restricted "$SR" --check-host --policy "$T/opt.json" > /dev/null 2>&1
        is "$?" 77 "check-host agrees (77)"
        for _ in $(seq 6); do skip "running without a user namespace needs root in the simulated namespace (host_uid mapped)"; done
        exit 0
fi
is "$RC" 0 "root: \"optional\" launches without a user namespace"
is "$OUT" "$(printf '65534\nCapPrm:0000000000000000\nCapEff:0000000000000000\nCapBnd:0000000000000000\nCapAmb:0000000000000000')" \
        "the payload runs as host uid 65534 with every capability set empty"
is "$(jget "$STATUS" '.not_enforced | index("namespaces.user") != null')" true "not_enforced lists namespaces.user"
like "$ERR" '^sealrun: note: .*no user namespace \(user namespaces are disabled \(user.max_user_namespaces=0\)\): going on without it' "and stderr says so"
restricted "$SR" --check-host --policy "$T/opt.json" > "$T/ochk.txt" 2>&1
is "$?" 0 "check-host agrees: it can run"
# Every escape probe, under the stock agent policy without a user namespace.
jq '.allow_extra_binds = true | .namespaces.user = "optional" | .landlock.fs += [{"path": "/t", "access": ["read", "execute"]}]' \
        "$STOCK/agent.json" > "$T/agent-opt.json"
SYS_BIND="--ro-bind /sys /sys"     # as t-escape.sh: the /sys probes need something to attack
[ -d /sys/kernel ] || SYS_BIND=""
# shellcheck disable=SC2086
restricted "$SR" --policy "$T/agent-opt.json" --ro-bind "$IBIN" /t $SYS_BIND -- /t/escape > "$T/esc.jsonl" 2>/dev/null
bad=$(jq -r 'select(.result != "denied" and .result != "killed" and (.probe != "sysrq_trigger_write" or .result != "absent")) | .probe + "=" + .result' "$T/esc.jsonl" | tr '\n' ' ')
is "$(wc -l < "$T/esc.jsonl")/$bad" "$("$IBIN/escape" --list | wc -l)/" "no user namespace, stock agent policy: every escape probe is denied or killed"
restricted "$IBIN/escape" --target-self > "$T/esc-host.jsonl" 2>/dev/null 7</dev/null
n=$(jq -r 'select(.result == "allowed") | .probe' "$T/esc-host.jsonl" | wc -l)
[ "$n" -gt 5 ]; ok $? "control: root of the simulated namespace itself is allowed $n of those probes"
# Credentials without a user namespace: staged for the payload's host uid, scrubbed.
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/canary-/' > "$T/c"
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
{ printf '{"tenant":"acme","credentials":[{"name":"tok","value":"'; cat "$T/c"; printf '"}]}'; } |
        "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" \
                --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
jq --arg iss "$T/issuer.pub" '.credentials = {"trusted_issuers": [$iss]}' "$T/opt.json" > "$T/opt-creds.json"
# shellcheck disable=SC2016
rsrun "$T/opt-creds.json" --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" -- \
        /bin/sh -c 'stat -c "%u %a" "$CREDENTIALS_DIRECTORY/tok"; cat "$CREDENTIALS_DIRECTORY/tok"'
is "$RC/$OUT" "0/65534 400
$(cat "$T/c")" "no user namespace: the credential file is the payload's (uid 65534, mode 0400) and readable"
is "$(jget "$STATUS" '[.credentials.scrubbed, (.not_enforced | index("namespaces.user") != null), (.not_enforced | index("tenant_ids") != null)] | @tsv')" "true	true	true" \
        "and scrubbed on release; namespaces.user and tenant_ids (the tenant's block is not mapped here: the policy's host_uid) in not_enforced"
