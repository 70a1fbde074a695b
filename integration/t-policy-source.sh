#!/bin/sh
# Where a policy comes from: stock names, stdin and /dev/fd/N (read once), "extends" (applied, cycles refused) and --print-policy.
. "$(dirname "$0")/lib.sh"
plan 15

# The test policy by difference: it binds the probe and is otherwise the test policy.
base() { printf '{"extends": "%s"%s}\n' "$TEST_POLICY" "${1:-}"; }
hostname_of() { "$SR" "$@" -- /bin/cat /proc/sys/kernel/hostname 2>"$T/err"; }

# --- stock names -------------------------------------------------------------------------
"$SR" --policy default -- /bin/true 2>"$T/err"
is "$?:$(cat "$T/err")" "0:" "--policy default: the stock default policy by name"
"$SR" --policy agent --print-policy > "$T/agent.json" 2>"$T/err"
like "$?:$(jq -r .description "$T/agent.json")" "^0:sealrun agent" "--policy agent --print-policy: the stock agent policy, as JSON"
"$SR" --policy no-such-policy -- /bin/true 2>"$T/err"
like "$?:$(wc -l < "$T/err"):$(cat "$T/err")" "^125:1:sealrun: no-such-policy: no stock policy of that name .*\./no-such-policy" \
        "an unknown stock name: 125, one line that points to ./NAME for a file"

# --- stdin and /dev/fd/N, read once ----------------------------------------------------------
out=$(base ', "hostname": "fromstdin"' | hostname_of --policy -)
is "$?:$out" "0:fromstdin" "--policy -: read from stdin, extends applied"
out=$(base ', "hostname": "fromstdin"' | "$SR" --policy - -- /bin/sh -c 'cat; echo "[eof]"' 2>"$T/err")
is "$out" "[eof]" "--policy -: read once (the payload finds stdin at its end, no second copy)"
out=$(base ', "hostname": "fromfd3"' | hostname_of --policy /dev/fd/3 3<&0 </dev/null)
is "$?:$out" "0:fromfd3" "--policy /dev/fd/3: a pipe on fd 3 (what <(...) gives)"
out=$(printf '{nope' | hostname_of --policy /dev/fd/3 3<&0 </dev/null)
like "$?:$(cat "$T/err")" '^125:sealrun: /dev/fd/3: line 1' "a broken policy on an fd: 125, naming /dev/fd/3"

# --- extends: applied for real, merged as documented --------------------------------------------
base ', "limits": {"timeout_s": 1}' > "$T/short.json"
start=$(date +%s)
"$SR" --policy "$T/short.json" -- /bin/sleep 10 2>"$T/err"
rc=$? took=$(($(date +%s) - start))
like "$rc:$took:$(cat "$T/err")" '^124:[1-3]:sealrun: task timed out after 1.000 s' "a limit set by difference is enforced (timeout_s 1: exit 124)"
"$SR" --policy "$T/short.json" --timeout 0.3 -- /bin/sleep 10 2>"$T/err"
like "$?:$(cat "$T/err")" '^124:sealrun: task timed out after 0.300 s' "--timeout 0.3: fractional seconds narrow the policy's"
printf '{"extends": "%s"}\n' "$T/b.json" > "$T/a.json"
printf '{"extends": "%s"}\n' "$T/a.json" > "$T/b.json"
"$SR" --policy "$T/a.json" -- /bin/true 2>"$T/err"
is "$?:$(wc -l < "$T/err"):$(cat "$T/err")" "125:1:sealrun: $T/b.json: \$.extends: \"$T/a.json\" leads back to $T/a.json (a cycle)" \
        "a cycle: 125, one line naming the file and its extends"
printf '{"extends": "rel/x.json"}\n' > "$T/rel.json"
"$SR" --policy "$T/rel.json" -- /bin/true 2>"$T/err"
like "$?:$(cat "$T/err")" '^125:sealrun: .*/rel.json: \$\.extends: "rel/x\.json" is neither a stock policy name' "extends must name a stock policy or an absolute path"

# --- --print-policy: the resolved document, which reads back the same -----------------------------
base ', "hostname": "p", "env": {"set": {"X": "1"}}' > "$T/p.json"
"$SR" --print-policy --policy "$T/p.json" > "$T/p1.json" 2>"$T/err"
rc=$?
"$SR" --print-policy --policy "$T/p1.json" > "$T/p2.json" 2>>"$T/err"
is "$rc:$?:$(jq -r '[.hostname, .env.set.X, .env.set.PATH, (has("extends") | tostring)] | join(",")' "$T/p1.json"):$(cmp -s "$T/p1.json" "$T/p2.json" && echo same)" \
        "0:0:p,1,$(jq -r .env.set.PATH "$TEST_POLICY"),false:same" "--print-policy: merged (objects merge, no extends left), exit 0, and reads back unchanged"
base ', "hostnme": "typo"' > "$T/typo.json"
"$SR" --print-policy --policy "$T/typo.json" > "$T/out" 2>"$T/err"
like "$?:$(wc -c < "$T/out"):$(cat "$T/err")" "^125:0:sealrun: .*/typo.json: \\\$\\.hostnme: unknown key" "--print-policy never prints a policy sealrun would refuse"

# --- as root, a file reached through extends is checked like the file given ----------------------
if is_root; then
        base ', "hostname": "w"' > "$T/weak.json"
        chmod 0666 "$T/weak.json"
        printf '{"extends": "%s"}\n' "$T/weak.json" > "$T/top.json"
        "$SR" --policy "$T/top.json" -- /bin/true 2>"$T/err"
        like "$?:$(cat "$T/err")" "^77:sealrun: .*top\.json: \\\$\.extends: .*weak\.json.*writable by group or others" \
                "as root, a group/world-writable file reached through extends is refused (77), naming both files"
        chmod 0644 "$T/weak.json"
        out=$(hostname_of --policy "$T/top.json")
        is "$?:$out" "0:w" "control: the same chain with the file 0644 runs"
else
        skip "the policy-permissions check applies as root only (unprivileged, a policy cannot grant more than the caller holds)"
        skip "the policy-permissions check applies as root only"
fi
