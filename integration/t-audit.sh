#!/bin/sh
# sealrun's audit client end to end with the real collector: events in order, modes, fail-closed, missing events.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
# the shared test policy turns audit off; these tests need the defaults
jq 'del(.audit)' "$TEST_POLICY" > "$T/test-audit.json"
TEST_POLICY="$T/test-audit.json"
plan 33

chmod o+x "$T"
mkdir -m 0777 "$T/mark"
# arun ARGS...: srun with the audit socket
arun() { srun --audit-socket "$ASOCK" "$@"; }

start_collector
arun --tenant acme --task A1 --audit required -- /t/probe exit 3
is "$RC" 3 "required mode with a collector: the task's own exit code"
is "$(events "$ADIR/acme.jsonl" | tr '\n' ,)" "launch A1,exit A1," "launch then exit, same task id, in the tenant's file"
is "$(jq -r 'select(.event.event=="exit") | .event | "\(.exit_code) \(.usage.wall_ms|type) \(.sandbox_pid|type)"' "$ADIR/acme.jsonl")" \
   "3 number number" "the exit event carries the code, usage and the sandbox pid"
is "$(jget "$STATUS" '"\(.audit.mode) \(.audit.missing|length)"')" "required 0" "status JSON: mode required, nothing missing"
is "$(jq -r .peer.uid "$ADIR/acme.jsonl" | sort -u)" "$AUID" "every line is stamped with the caller's uid"

arun --tenant globex --task G1 --audit required -- /t/probe exit 0
is "$(events "$ADIR/globex.jsonl" | tr '\n' ,)" "launch G1,exit G1," "another tenant goes to its own file"
is "$(grep -c '"task":"G1"' "$ADIR/acme.jsonl")" 0 "and never into the first tenant's file"

arun --tenant acme --task A2 --audit required -- /bin/sh -c 'ls -l /proc/self/fd/ | grep -c socket'
is "$OUT" 0 "the payload holds no socket (no audit connection crosses into the sandbox)"

arun --tenant acme --task A3 -- /t/probe exit 0
is "$(jget "$STATUS" .audit.mode)" best-effort "--audit-socket alone (no profile): best-effort"
is "$(grep -c '"task":"A3"' "$ADIR/acme.jsonl")" 2 "best-effort with a collector: both events recorded"

srun --tenant acme --task A4 -- /t/probe exit 0
is "$(jget "$STATUS" .audit.mode)" off "no profile, no --audit: off"
is "$(grep -c '"task":"A4"' "$ADIR/acme.jsonl")" 0 "off: nothing is sent"

srun --audit required --audit-socket "$ASOCK" --task A5 -- /t/probe exit 0
is "$RC" 125 "--audit required without a tenant: 125"

# The policy's audit section: the mode is a floor, the socket is pinned.
jq --arg s "$ASOCK" '.audit = {"mode": "required", "socket": $s, "ack_timeout_ms": 2000, "pool": "acme-pool"}' "$TEST_POLICY" > "$T/pol.json"
POLICY="$T/pol.json" srun --tenant acme --task P1 -- /t/probe exit 0
is "$RC" 0 "policy mode required with its socket: runs"
is "$(jq -r 'select(.event.task=="P1") | .event.pool' "$ADIR/acme.jsonl" | sort -u)" acme-pool "the policy's pool is stamped into the events"
POLICY="$T/pol.json" srun --tenant acme --task P2 --audit off -- /t/probe exit 0
is "$RC" 77 "--audit off under a policy requiring audit: refused (77)"
like "$ERR" "requires audit mode" "one line saying why"
POLICY="$T/pol.json" srun --tenant acme --task P3 --audit-socket "$T/elsewhere.sock" -- /t/probe exit 0
is "$RC" 77 "--audit-socket other than the policy's: refused (77)"

# A tenant the caller's uid may not write: the collector refuses, the task does not run.
if is_root; then
        # uid 0 may write every tenant by design (root can rewrite the files anyway)
        arun --tenant initech --task N1 --audit required --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/N1'
        is "$RC" 0 "uid 0, a tenant missing from the allow map: allowed (root writes every tenant), exit 0"
        ok "$([ -e "$T/mark/N1" ] && [ "$(events "$ADIR/initech.jsonl" | tr '\n' ,)" = "launch N1,exit N1," ]; echo $?)" \
                "the payload ran and initech's file has its launch and exit"
else
        arun --tenant initech --task N1 --audit required --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/N1'
        is "$RC" 75 "a tenant the uid is not allowed: refused by the collector, exit 75"
        ok "$([ ! -e "$T/mark/N1" ] && printf '%s' "$ERR" | grep -q not-allowed; echo $?)" "the payload never ran and stderr says not-allowed"
fi

# Collector down before the launch, required mode: 75, payload never runs.
kill_collector
arun --tenant acme --task D1 --audit required --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/D1'
is "$RC" 75 "collector down, required: exit 75"
ok "$([ ! -e "$T/mark/D1" ]; echo $?)" "the payload never ran"
like "$ERR" "audit.*unreachable.*required" "one clear line on stderr"
is "$(jget "$STATUS" .refused)" audit-unavailable "status JSON: refused audit-unavailable"

arun --tenant acme --task D2 --audit best-effort -- /t/probe exit 4
is "$RC" 4 "collector down, best-effort: the task runs"
is "$(jget "$STATUS" '(.audit.missing + .audit.spooled) | join(",")')" "launch,exit" "best-effort: the unacknowledged events are listed missing"
like "$ERR" 'event "exit" not recorded' "and named on stderr"

# Collector killed mid-run (required): later events reported missing, nothing crashes.
start_collector
"$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t --status-fd 9 --tenant acme --task M1 --audit required \
        --audit-socket "$ASOCK" --bind "$T/mark" /mark -- /bin/sh -c 'touch /mark/M1; sleep 2' 9>"$T/mstatus" 2>"$T/merr" &
SPID=$!
# wait for the payload itself: a line can be on disk before its ack reaches sealrun
for _i in $(seq 1 100); do [ -e "$T/mark/M1" ] && break; sleep 0.05; done
kill_collector
wait "$SPID"; RC=$?
is "$RC" 0 "collector killed mid-run: the task still ends with its own code"
is "$(tail -n1 "$T/mstatus" | jq -r '(.audit.missing + .audit.spooled) | join(",")')" exit "status JSON lists the exit event as missing (unprivileged) or spooled (root)"
like "$(cat "$T/merr")" 'event "exit" not recorded' "stderr names the missing event"
is "$(events "$ADIR/acme.jsonl" | grep -c M1)" 1 "only the launch reached the file"

# No value of the environment or argv leaks into events.
start_collector
arun --tenant acme --task C1 --audit required --setenv SECRET_X canary-4f1e9b -- /bin/sh -c 'echo canary-7d2a0c >/dev/null'
unlike "$(cat "$ADIR"/*.jsonl)" 'canary-' "argv and env values never reach the audit file"
stop_collector
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "every chain is intact"
