#!/bin/sh
# Audit of a launch with a sealed profile: launch → inject → scrub → exit, deny on refusal,
# fail-closed in required mode (the default with a profile), and no credential byte in any event.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
# the shared test policy turns audit off; these tests need the defaults
jq 'del(.audit)' "$TEST_POLICY" > "$T/test-audit.json"
TEST_POLICY="$T/test-audit.json"
plan 32

chmod o+x "$T"
mkdir -m 0777 "$T/mark"
# The canary is made straight into a file: this shell never holds it.
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/auditcanary-/' > "$T/canary"
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
{
        printf '{"tenant":"acme","credentials":[{"name":"gh_token","value":"'; cat "$T/canary"
        printf '"},{"name":"OPENAI_API_KEY","as":"env","scope":"read:model:*","value":"'; cat "$T/canary"
        printf '"}]}'
} | "$SEALCTL" seal --tenant acme --profile agent --version 3 --not-after +1h --to "$T/acme.pub" \
        --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
ok "$([ -s "$T/acme.sealed" ]; echo $?)" "sealed a profile whose values are a canary"
jq --arg iss "$T/issuer.pub" '.credentials = {"allow_env": true, "scope_ceiling": ["read:model:*"], "trusted_issuers": [$iss]}' \
        "$TEST_POLICY" > "$T/pol.json"
# prun ARGS...: a launch with the profile, audited on $ASOCK in the default mode
prun() { POLICY="$T/pol.json" srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" --audit-socket "$ASOCK" "$@"; }

start_collector
prun --task P1 --scope 'read:model:*' -- /bin/sh -c 'test -s "$CREDENTIALS_DIRECTORY/gh_token" && test -n "$OPENAI_API_KEY"'
is "$RC" 0 "the payload got its credentials"
is "$(jget "$STATUS" .audit.mode)" required "a profile makes the audit mode required by default"
is "$(events "$ADIR/acme.jsonl" | tr '\n' ,)" "launch P1,inject P1,scrub P1,exit P1," \
   "launch → inject → scrub → exit, in that order, with the same task id"
is "$(jq -r 'select(.event.event=="inject") | .event.credentials | map(.name + ":" + (.scope // "-")) | join(",")' "$ADIR/acme.jsonl")" \
   "gh_token:-,OPENAI_API_KEY:read:model:*" "inject names the credentials about to be staged and their scopes"
is "$(jq -r 'select(.event.event=="inject") | .event | "\(.profile) \(.profile_version) \(.recipient == $k) \(.issuer|length)"' \
        --arg k "$(cut -d' ' -f3 "$T/acme.pub")" "$ADIR/acme.jsonl")" "agent 3 true 16" \
   "inject names the profile, its version and the pool and issuer key ids"
is "$(jq -r '.event.pid' "$ADIR/acme.jsonl" | sort -u | wc -l | tr -d ' ')" 1 "every event of the task comes from the same sealrun"

# A credential out of the task's scopes is skipped, and so absent from inject.
prun --task P2 -- true
is "$(jq -r 'select(.event.task=="P2" and .event.event=="inject") | .event.credentials | map(.name) | join(",")' "$ADIR/acme.jsonl")" \
   gh_token "a credential the task's scopes do not cover is not in the inject event"

# A refused profile: a deny event with the reason code, no launch.
POLICY="$T/pol.json" srun --tenant globex --profile "$T/acme.sealed" --key "$T/acme.key" --audit-socket "$ASOCK" --task X1 -- true
is "$RC" 77 "another tenant's profile: refused (77)"
is "$(jq -r 'select(.event.task=="X1") | "\(.event.event) \(.event.reason)"' "$ADIR/globex.jsonl" | tr '\n' ,)" "deny cross-tenant," \
   "a deny event with the reason, in the requesting tenant's file, and no launch"

is "$(jq -r 'select(.event.task=="X1") | .event | "\(.recipient|length) \(.issuer|length)"' "$ADIR/globex.jsonl")" "16 16" \
   "the deny event names the profile's pool and issuer key ids"

# sealctl revoke emits "revoke" (after the entry is in force).
"$SEALCTL" revoke --revoked "$T/revoked" --tenant acme --profile agent --version 3 --audit-socket "$ASOCK" --audit required >/dev/null
is "$?/$(jq -r 'select(.event.event=="revoke") | .event | "\(.profile) \(.profile_version) \(.tenant)"' "$ADIR/acme.jsonl")" \
   "0/agent 3 acme" "sealctl revoke: a revoke event in the tenant's file"
KID=$(cut -d' ' -f3 "$T/acme.pub")
"$SEALCTL" revoke --revoked "$T/revoked" --key-id "$KID" --audit-socket "$ASOCK" --audit required >/dev/null
is "$?/$(jq -r '.event | "\(.event) \(.key_id)"' "$ADIR/_global.jsonl")" "0/revoke $KID" \
   "a revoke by key id only goes to _global.jsonl"

# No byte of a credential in any event: raw, hex, base64 at every alignment.
CAN=$(cat "$T/canary")
scan() { # scan FILE...: 0 when the canary is in none of its forms
        _hex=$(printf '%s' "$CAN" | od -An -tx1 | tr -d ' \n')
        _HEX=$(printf '%s' "$_hex" | tr a-f A-F)
        _b0=$(printf '%s' "$CAN" | base64 -w0 | cut -c1-40)
        _b1=$(printf 'x%s' "$CAN" | base64 -w0 | cut -c4-40)
        _b2=$(printf 'xx%s' "$CAN" | base64 -w0 | cut -c5-40)
        ! cat "$@" | grep -F -q -e "$CAN" -e "$_hex" -e "$_HEX" -e "$_b0" -e "$_b1" -e "$_b2"
}
scan "$ADIR"/*.jsonl "$T/auditd.log"
ok $? "no event or collector log holds the credential canary (raw, hex, base64)"
printf 'zz%s' "$CAN" | base64 > "$T/planted"
scan "$T/planted"
ok "$([ $? -ne 0 ]; echo $?)" "the scan finds a planted base64 copy (it can fail)"

# Collector down before a launch (required by default): 75, nothing runs, nothing staged.
kill_collector
prun --task D1 --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/D1'
is "$RC" 75 "collector down: exit 75"
ok "$([ ! -e "$T/mark/D1" ]; echo $?)" "the payload never ran"
like "$ERR" "audit.*unreachable" "one line on stderr saying why"
is "$(jget "$STATUS" '.credentials.injected | length')" 0 "no credential was staged"
"$SEALCTL" revoke --revoked "$T/revoked2" --tenant acme --audit-socket "$ASOCK" --audit required >/dev/null 2>"$T/rerr"
is "$?" 75 "sealctl revoke --audit required without a collector: 75"
like "$(cat "$T/revoked2")" "tenant=acme" "but the revocation itself is written"

# The collector acks the launch but refuses the inject: the child stages nothing, the task does not run.
rm -f "$ASOCK"
"$SEND" --serve "$ASOCK" --refuse inject > "$T/fake.out" 2>&1 &
FPID=$!
stop_fake() { kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null; return 0; }
on_exit stop_fake
for _i in $(seq 1 100); do [ -S "$ASOCK" ] && break; sleep 0.05; done
prun --task R1 --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/R1'
is "$RC" 75 "inject refused: exit 75"
ok "$([ ! -e "$T/mark/R1" ]; echo $?)" "the payload never ran"
like "$ERR" "refused" "stderr says the collector refused"
is "$(jget "$STATUS" '.audit.missing | join(",")')" inject "status JSON: inject missing"
is "$(sed -n 's/.*"event":"\([a-z]*\)".*/\1/p' "$T/fake.out" | head -n2 | tr '\n' ,)" "launch,inject," "the refusal came at the inject event"
stop_fake

# Collector killed mid-run: later events missing, nothing crashes.
start_collector
"$SR" --policy "$T/pol.json" --ro-bind "$IBIN" /t --status-fd 9 --tenant acme --profile "$T/acme.sealed" \
        --key "$T/acme.key" --audit-socket "$ASOCK" --task M1 --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/M1; sleep 2' 9>"$T/mstatus" 2>"$T/merr" &
SPID=$!
# wait for the payload itself: a line can be on disk before its ack reaches sealrun
for _i in $(seq 1 100); do [ -e "$T/mark/M1" ] && break; sleep 0.05; done
kill_collector
wait "$SPID"; RC=$?
is "$RC" 0 "collector killed mid-run: the task ends with its own code"
is "$(tail -n1 "$T/mstatus" | jq -r '(.audit.missing + .audit.spooled) | join(",")')" "scrub,exit" "scrub and exit reported missing (unprivileged) or spooled (root) in the status JSON"
like "$(cat "$T/merr")" 'event "scrub" not recorded' "and on stderr"
# Collector restarted mid-run: the held connection is dead, the next event reconnects, nothing is missing.
start_collector
"$SR" --policy "$T/pol.json" --ro-bind "$IBIN" /t --status-fd 9 --tenant acme --profile "$T/acme.sealed" \
        --key "$T/acme.key" --audit-socket "$ASOCK" --task S1 --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/S1; sleep 1' 9>"$T/sstatus" 2>"$T/serr" &
SPID=$!
for _i in $(seq 1 100); do [ -e "$T/mark/S1" ] && break; sleep 0.05; done
stop_collector
start_collector
wait "$SPID"; RC=$?
is "$RC/$(tail -n1 "$T/sstatus" | jq -r '.audit.missing | length')" "0/0" "collector restarted mid-run: nothing missing"
is "$(events "$ADIR/acme.jsonl" | grep S1 | tr '\n' ,)" "launch S1,inject S1,scrub S1,exit S1," "all four events recorded across the restart"
stop_collector
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "chains intact"
