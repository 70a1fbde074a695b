#!/bin/sh
# Refusals keep the one-line contract with the audit directory on a full tmpfs: one stderr
# line, no exit event for a task that never launched, credentials reported as they were,
# no "running" line, and audit.missing equal to what the log lacks.
#
# The collector runs in a private mount namespace (unshare) with its directory on a 64 KiB
# tmpfs that exists only there; the test fills it through /proc/PID/root. Nothing is
# mounted on the host, and the mount dies with the collector. A tenant file that already
# has a partly filled page still takes a few more events, so each refusal writes to a
# tenant with no file yet: a full tmpfs then refuses its first byte.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
# the collector answers nothing for an event it cannot write: a 1 s ack
# timeout (instead of the default 5 s) keeps each refusal's wait short
jq '.audit = {"ack_timeout_ms": 1000}' "$TEST_POLICY" > "$T/test-audit.json"
TEST_POLICY="$T/test-audit.json"

mkdir -p "$ADIR"
printf '{"version":1,"allow":[{"uid":%s,"tenants":["acme","globex","beta"]}]}\n' "$AUID" > "$T/allow.json"
chmod 0600 "$T/allow.json"
if ! unshare -Urm true 2>/dev/null; then
        echo "1..0 # SKIP unshare -Urm is not permitted here (no private mount namespace for the tmpfs)"
        exit 0
fi
plan 19

chmod o+x "$T"
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
printf '{"tenant":"acme","credentials":[{"name":"gh_token","value":"enospc-canary-%s"}]}' "$$" |
        "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" \
                --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
jq --arg iss "$T/issuer.pub" '.credentials = {"trusted_issuers": [$iss]}' "$TEST_POLICY" > "$T/pol.json"

unshare -Urm sh -c 'mount -t tmpfs -o size=64k,mode=0750 tmpfs "$1" && exec "$2" --socket "$3" --dir "$1" --allow "$4"' \
        sh "$ADIR" "$AUDITD" "$ASOCK" "$T/allow.json" 2>>"$T/auditd.log" &
APID=$!
for _i in $(seq 1 100); do grep -q 'listening on' "$T/auditd.log" 2>/dev/null && break; sleep 0.05; done
# the collector's view of its directory (the tmpfs), from outside its namespace
CDIR=/proc/$APID/root$ADIR
fill() { dd if=/dev/zero of="$CDIR/fill" bs=4k 2>/dev/null; sync; }
unfill() { rm -f "$CDIR/fill"; }
log() { cat "$CDIR"/*.jsonl 2>/dev/null | jq -r --arg t "$1" 'select(.event.task==$t) | .event.event' 2>/dev/null | tr '\n' ,; }
lines() { wc -l < "$T/err" | tr -d ' '; }
# what the log lacks: missing (never left), plus, with the spool (root), the
# events kept for later and those sent without an answer
lacks() { jget "$STATUS" '(.audit.missing + .audit.spooled + .audit.unconfirmed) | tostring'; }
# prun ARGS...: a launch with the profile (required audit, the default with a profile)
prun() { POLICY="$T/pol.json" srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" --audit-socket "$ASOCK" "$@"; }

POLICY="$T/pol.json" srun --tenant beta --audit required --audit-socket "$ASOCK" --task ok1 -- /bin/true
is "$RC/$(log ok1)" "0/launch,exit," "control: with room on the tmpfs, a task runs with its full trail"

fill
ok "$([ -s "$CDIR/fill" ] && ! dd if=/dev/zero of="$CDIR/more" bs=1k count=1 2>/dev/null; echo $?)" "the collector's tmpfs is full"

# required launch refused: 75, one line, no exit, nothing "missing" (nothing launched)
POLICY="$T/pol.json" srun --tenant acme --audit required --audit-socket "$ASOCK" --task f1 -- /bin/true
is "$RC" 75 "launch not recorded in required mode: refused (75)"
is "$(lines)" 1 "exactly one stderr line"
unlike "$ERR" 'event "exit"' "and it is not about an exit event of a task that never launched"
is "$(jget "$STATUS" '[.audit.missing, .pid, .refused] | tostring')" '[[],null,"audit-refused"]' \
   "status: nothing missing (no launch happened, no exit is due), pid null, the reason"
ok "$(grep -q '"state":"running"' "$T/status"; [ $? -ne 0 ]; echo $?)" "no running line"
is "$(log f1)" "" "the log has nothing for the task"

# a profile refused before launch (cross-tenant): the deny cannot be written either
POLICY="$T/pol.json" srun --tenant globex --profile "$T/acme.sealed" --key "$T/acme.key" --audit-socket "$ASOCK" --task f2 -- /bin/true
is "$RC/$(lines)" "77/1" "a refused profile: 77 and exactly one stderr line, though its deny event fails too"
is "$(lacks)" '["deny"]' "the unwritten deny is listed (missing, or spooled as root)"

# best-effort: a command not found is a non-task exit too; its line stays the only one
POLICY="$T/pol.json" srun --tenant acme --audit best-effort --audit-socket "$ASOCK" --task f4 -- /nonexistent/cmd
is "$RC/$(lines)" "127/1" "best-effort, full disk, command not found: 127 and exactly one stderr line"
is "$(lacks)" '["launch","exit"]' "the unwritten events are listed (missing, unconfirmed, or spooled as root)"
POLICY="$T/pol.json" srun --tenant acme --audit best-effort --audit-socket "$ASOCK" --task f5 -- /bin/true
is "$RC/$(grep -c "recorded as \\|spooled:" "$T/err")/$(jget "$STATUS" "(.audit.missing + .audit.spooled + .audit.unconfirmed) | length")" "0/2/2" \
   "a task that ran: the unwritten events are named on stderr, after it"

# refusal at inject: the launch is recorded, then the collector goes away before inject
# (a full disk cannot be timed between two events: they share the file's last page)
unfill
SEALRUN_TEST_STOP_AT=payload:credentials POLICY="$T/pol.json" \
        "$SR" --policy "$T/pol.json" --status-fd 9 --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" \
        --audit-socket "$ASOCK" --task f3 -- /bin/sh -c 'echo RAN' >"$T/out" 2>"$T/err" 9>"$T/status" &
SPID=$!
PP=
for _i in $(seq 1 400); do
        for _p in $(pgrep -P "$SPID"); do
                for _c in $(pgrep -P "$_p"); do
                        [ "$(cat "/proc/$_c/comm" 2>/dev/null)" = sealrun-paused ] && PP=$_c
                done
        done
        [ -n "$PP" ] && break
        sleep 0.01
done
cp "$CDIR/acme.jsonl" "$T/f3.log"
kill_collector
[ -n "$PP" ] && kill -CONT "$PP"
wait "$SPID"; RC=$?
STATUS=$(tail -n 1 "$T/status")
is "$RC/$(lines)" "75/1" "inject not recorded: refused (75), exactly one stderr line"
like "$(cat "$T/err")" "inject" "the line is about the inject event"
is "$(jget "$STATUS" '.credentials | [.injected, .scrubbed] | tostring')" '[[],false]' \
   "credentials as they were: nothing injected, nothing scrubbed"
ok "$(grep -q '"state":"running"' "$T/status" || [ -s "$T/out" ]; [ $? -ne 0 ]; echo $?)" "no running line, and the payload never ran"
is "$(jq -r 'select(.event.task=="f3") | .event.event' "$T/f3.log" | tr '\n' ,)" "launch," "the log has the launch only"
is "$(lacks)" '["inject","exit"]' "missing (+ spooled as root) is what the log lacks: inject and exit"
