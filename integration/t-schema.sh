#!/bin/sh
# The published JSON Schemas (docs/schema/) hold for real output: status lines of real runs, the stock policies and a
# resolved "extends" policy, and the events of a real collector's log; and each schema refuses what the code refuses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
plan 11
SCHEMA="$SEALRUN_SRC/docs/schema"
CHECK="$SEALRUN_SRC/integration/schema-check.py"
# make deps installs python3-jsonschema for Debian's python3; another python3 first on PATH may have its own
PY=
for p in python3 /usr/bin/python3; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
        echo "# no python3 with the jsonschema module (make deps installs python3-jsonschema)"
        ok 1 "python3-jsonschema is installed"
        exit 1
fi
# check NAME SCHEMA [DEF] FILE...: the files validate (errors as diagnostics)
check() {
        _what=$1; shift
        "$PY" "$CHECK" "$@" > "$T/check.out" 2>&1
        _rc=$?
        ok $_rc "$_what ($(tail -n 1 "$T/check.out"))"
        [ $_rc -eq 0 ] || sed 's/^/# /' "$T/check.out" | head -n 20
}
# refuses NAME SCHEMA [DEF] FILE: the file does not validate
refuses() {
        _what=$1; shift
        "$PY" "$CHECK" "$@" > "$T/check.out" 2>&1
        _rc=$?
        [ $_rc -eq 1 ]
        ok $? "$_what ($(head -n 1 "$T/check.out" | cut -c1-100))"
}

# Status: a clean run, an exit code, a command not found, a timeout, a refusal before the clone.
: > "$T/all-status"
jq '.tenant = "acme"' "$TEST_POLICY" > "$T/acme-only.json"
for args in "-- /bin/true" "-- /bin/sh -c 'exit 3'" "-- /nonexistent-command" "--timeout 0.2 -- /bin/sleep 5" \
        "--tenant globex -- /bin/true"; do
        POLICY=; case $args in --tenant*) POLICY="$T/acme-only.json" ;; esac
        eval "srun $args"
        cat "$T/status" >> "$T/all-status"
        echo "$RC" >> "$T/rcs"
done
is "$(tr '\n' ' ' < "$T/rcs")" "0 3 127 124 77 " "the runs ended as intended (0, 3, 127, 124, 77 for another tenant)"
check "every status line of five real runs matches status.schema.json" "$SCHEMA/status.schema.json" "$T/all-status"

# Policies: the stock ones, the stock seccomp profile, a resolved difference.
check "the stock policies match policy.schema.json" "$SCHEMA/policy.schema.json" \
        "$SEALRUN_SRC/policy/stock/default.json" "$SEALRUN_SRC/policy/stock/agent.json" "$TEST_POLICY"
check "the stock seccomp profile matches \$defs/seccomp_profile" "$SCHEMA/policy.schema.json" seccomp_profile \
        "$SEALRUN_SRC/policy/stock/seccomp-default.json"
printf '{"extends": "%s", "limits": {"timeout_s": 600}, "mounts": [{"type": "tmpfs", "dst": "/scratch", "mode": "0700"}]}\n' \
        "$SEALRUN_SRC/policy/stock/agent.json" > "$T/diff.json"
"$SR" --print-policy --policy "$T/diff.json" > "$T/resolved.json" 2>"$T/err"
check "a resolved extends policy (--print-policy) matches policy.schema.json" "$SCHEMA/policy.schema.json" "$T/resolved.json"

# Audit: a credentialed launch (launch, inject, scrub, exit), a refusal (deny), a revocation (revoke), a proxy-mode
# task (egress) and a killed sealrun (abandoned), through a real collector.
jq 'del(.audit)' "$TEST_POLICY" > "$T/test-audit.json"
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
printf '{"tenant":"acme","credentials":[{"name":"gh_token","value":"x"},{"name":"API_KEY","as":"env","scope":"read:model:*","value":"y"}]}' |
        "$SEALCTL" seal --tenant acme --profile agent --version 3 --not-after +1h --to "$T/acme.pub" \
        --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
jq --arg iss "$T/issuer.pub" '.credentials = {"allow_env": true, "scope_ceiling": ["read:model:*"], "trusted_issuers": [$iss]}' \
        "$T/test-audit.json" > "$T/pol.json"
start_collector
POLICY="$T/pol.json" srun --tenant acme --task S1 --profile "$T/acme.sealed" --key "$T/acme.key" \
        --audit-socket "$ASOCK" --scope 'read:model:*' -- /bin/sh -c 'exit 4'
cat "$T/status" > "$T/cred-status"
POLICY="$T/pol.json" srun --tenant globex --task S2 --profile "$T/acme.sealed" --key "$T/acme.key" --audit-socket "$ASOCK" -- true
cat "$T/status" >> "$T/cred-status"
"$SEALCTL" revoke --revoked "$T/revoked" --tenant acme --profile agent --version 2 --reason rotated \
        --audit-socket "$ASOCK" --audit required >/dev/null 2>&1
# egress (revision 3): network mode proxy, a name the policy refuses (DNS)
jq '.network = {"mode": "proxy", "egress": {"allow": [{"host": "api.test"}]}}' "$T/test-audit.json" > "$T/proxy.json"
POLICY="$T/proxy.json" srun --tenant acme --task S4 --audit-socket "$ASOCK" -- /t/egress_escape dns evil.test
cat "$T/status" >> "$T/cred-status"
# abandoned (revision 2): a sealrun killed while its task runs; the collector closes the trail
"$SR" --policy "$T/pol.json" --tenant acme --task S3 --profile "$T/acme.sealed" --key "$T/acme.key" \
        --audit-socket "$ASOCK" -- /bin/sleep 30 >/dev/null 2>&1 &
spid=$!
for _i in $(seq 1 100); do
        jq -e 'select(.event.task == "S3" and .event.event == "inject")' "$ADIR/acme.jsonl" >/dev/null 2>&1 && break
        sleep 0.1
done
kill -KILL "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
for _i in $(seq 1 100); do
        jq -e 'select(.event.task == "S3" and .event.event == "abandoned")' "$ADIR/acme.jsonl" >/dev/null 2>&1 && break
        sleep 0.1
done
stop_collector
is "$(cat "$ADIR/acme.jsonl" "$ADIR/globex.jsonl" 2>/dev/null | jq -r .event.event | sort | tr '\n' ' ')" \
        "abandoned deny deny egress exit exit inject inject launch launch launch revoke scrub " \
        "the collector's log holds all eight event types"
check "the credentialed and refused runs' status lines match status.schema.json" "$SCHEMA/status.schema.json" "$T/cred-status"
check "every line of the collector's files matches \$defs/line of audit-event.schema.json" \
        "$SCHEMA/audit-event.schema.json" line "$ADIR/acme.jsonl" "$ADIR/globex.jsonl"

# Each schema can fail: what the code refuses, the schema refuses too.
tail -n 1 "$T/all-status" | jq -c '.exit_code = "0"' > "$T/bad-status"
refuses "status.schema.json refuses an exit_code that is a string" "$SCHEMA/status.schema.json" "$T/bad-status"
jq '.mounts[0].size = 1024 | .revocation_list = "/x"' "$SEALRUN_SRC/policy/stock/default.json" > "$T/bad-policy.json"
"$SR" --print-policy --policy "$T/bad-policy.json" >/dev/null 2>&1
rc=$?
refuses "policy.schema.json refuses a policy sealrun refuses (exit $rc)" "$SCHEMA/policy.schema.json" "$T/bad-policy.json"
jq -c 'select(.event.event == "inject") | .event.credentials[0].value = "x"' "$ADIR/acme.jsonl" > "$T/bad-line"
refuses "audit-event.schema.json refuses an inject event that carries a value" "$SCHEMA/audit-event.schema.json" line "$T/bad-line"
