#!/bin/sh
# Signals during setup: SIGTERM/SIGINT/SIGHUP at every setup step, and at 0-20 ms after start,
# end the documented way: cleanup, one stderr line, a final status, audit exit or deny.
#
# Each run is checked: exit 128+N; either the launch was cancelled (exactly one
# stderr line "interrupted by SIG... during setup (step ...)", the status's
# "interrupted", no "running" line, the payload never ran) or the payload had
# already started (the "running" line, the task killed by N, no stderr line);
# no process, paused process or task cgroup left; the audit trail of the task
# is complete (a launch has exactly one exit, "interrupted-setup" when the task
# never ran; a cancel before the launch is a deny, or nothing before the audit
# step). SEALRUN_SOAK=1 runs the full timing form (0-20 ms in 1 ms steps for
# each of the three signals: 63 runs); the default is the short form.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/lib-resources.sh"
jq 'del(.audit)' "$TEST_POLICY" > "$T/test-audit.json"
TEST_POLICY="$T/test-audit.json"

if [ "${SEALRUN_SOAK:-0}" = 1 ]; then MS_LIST=$(seq 0 20); else MS_LIST="0 3 6 10 15"; fi
plan 28

chmod o+x "$T"
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
printf '{"tenant":"acme","credentials":[{"name":"gh_token","value":"sig-canary-%s"}]}' "$$" |
        "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" \
                --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
jq --arg iss "$T/issuer.pub" '.credentials = {"trusted_issuers": [$iss]}' "$TEST_POLICY" > "$T/pol.json"
start_collector
# unique, so that the leftover check never sees another test's sleep
U=$((200000 + $$ % 100000))

# start TASK [ARGS]: sealrun in the background with the profile, required audit; sets SPID.
# (env --default-signal: a background job of a script ignores SIGINT and SIGQUIT, a run under nohup SIGHUP,
# sealrun keeps an inherited ignore; these runs want the signals live.)
start() {
        task=$1; shift
        : > "$T/$task.out"; : > "$T/$task.err"; : > "$T/$task.st"
        env --default-signal=INT,QUIT,HUP,TERM "$SR" --policy "$T/pol.json" --status-fd 9 --tenant acme --task "$task" --audit-socket "$ASOCK" \
                --profile "$T/acme.sealed" --key "$T/acme.key" "$@" -- /bin/sh -c "echo RAN; exec sleep $U" \
                >"$T/$task.out" 2>"$T/$task.err" 9>"$T/$task.st" &
        SPID=$!
}

# paused_pid PID: the pid among PID and its descendants paused by the test hook.
paused_pid() {
        for _i in $(seq 1 400); do
                for _p in $1 $(pgrep -P "$1") $(for _c in $(pgrep -P "$1"); do pgrep -P "$_c"; done); do
                        [ "$(cat "/proc/$_p/comm" 2>/dev/null)" = sealrun-paused ] && { echo "$_p"; return 0; }
                done
                sleep 0.01
        done
        return 1
}

# blocked PID: wait until PID (sealrun) has run main()'s first line: SIGTERM is in SigBlk.
blocked() {
        for _i in $(seq 1 5000); do
                while read -r _k _v; do
                        [ "$_k" = SigBlk: ] && [ $((0x$_v & 0x4000)) -ne 0 ] && return 0
                done < "/proc/$1/status" 2>/dev/null
        done
        return 1
}

# verdict TASK SIG RC [STEP]: "" when the run ended the documented way, else why not.
# Sets KIND to "cancelled" or "ran".
verdict() {
        task=$1 sig=$2 rc=$3 want_step=${4:-}
        case "$sig" in TERM) n=15 ;; INT) n=2 ;; HUP) n=1 ;; esac
        final=$(tail -n 1 "$T/$task.st")
        lines=$(wc -l < "$T/$task.err")
        [ "$rc" = $((128 + n)) ] || { echo "exit $rc, want $((128 + n))"; return; }
        [ "$(printf '%s' "$final" | jq -r 'has("exit_code")' 2>/dev/null)" = true ] || { echo "no final status object"; return; }
        if [ "$(printf '%s' "$final" | jq -r '.interrupted != null')" = true ]; then
                KIND=cancelled
                [ "$lines" = 1 ] || { echo "$lines stderr lines"; return; }
                grep -q "^sealrun: interrupted by SIG$sig during setup (step \"" "$T/$task.err" || { echo "stderr: $(cat "$T/$task.err")"; return; }
                [ "$(printf '%s' "$final" | jq -r '.interrupted.signal')" = "$n" ] || { echo "status interrupted.signal"; return; }
                [ -z "$want_step" ] || [ "$(printf '%s' "$final" | jq -r '.interrupted.step')" = "$want_step" ] ||
                        { echo "step $(printf '%s' "$final" | jq -r '.interrupted.step'), want $want_step"; return; }
                ! grep -q '"state":"running"' "$T/$task.st" || { echo "a running line for a task that never ran"; return; }
                [ ! -s "$T/$task.out" ] || { echo "the payload ran"; return; }
                [ "$(printf '%s' "$final" | jq -r '.signal')" = null ] || { echo "status signal set"; return; }
        else
                KIND=ran
                [ -z "$want_step" ] || { echo "not cancelled at $want_step"; return; }
                [ "$lines" = 0 ] || { echo "$lines stderr lines for a task that ran"; return; }
                grep -q '"state":"running"' "$T/$task.st" || { echo "task ran without a running line"; return; }
                [ "$(printf '%s' "$final" | jq -r '.signal')" = "$n" ] || { echo "status signal"; return; }
        fi
        pgrep -f "sleep $U" >/dev/null && { echo "a payload survived"; return; }
        [ "$(left_cgroups "$task")" = 0 ] || { echo "task cgroup left"; return; }
        # the trail: events of this task, in order
        ev=$(jq -r --arg t "$task" 'select(.event.task==$t) | .event | "\(.event):\(.reason // "-")"' "$ADIR/acme.jsonl" 2>/dev/null | tr '\n' ' ')
        case "$ev" in
        launch:*)
                [ "$(printf '%s' "$ev" | grep -o 'exit:' | wc -l)" = 1 ] || { echo "trail: $ev"; return; }
                if [ "$KIND" = cancelled ]; then
                        case "$ev" in *"exit:interrupted-setup ") ;; *) echo "trail: $ev"; return ;; esac
                        case "$ev" in *inject:*) case "$ev" in *scrub:*) ;; *) echo "inject without scrub: $ev"; return ;; esac ;; esac
                else
                        case "$ev" in *"exit:- ") ;; *) echo "trail: $ev"; return ;; esac
                fi ;;
        "deny:interrupted-setup " | "") [ "$KIND" = cancelled ] || { echo "trail: $ev"; return; } ;;
        *) echo "trail: $ev"; return ;;
        esac
        echo ""
}

# --- a signal at each named setup step (the test hook pauses sealrun there) --
i=0
for spec in policy:policy ids:ids audit:audit credentials:credentials slot:slot network:network seccomp:seccomp \
        cgroup:cgroup launch:launch clone:clone cgroup_attach:cgroup_attach network_parent:network_parent go:go \
        init:mounts:init init:hostname:init payload:session:payload payload:credentials:payload \
        payload:close_fds:payload payload:seccomp:payload payload:exec:payload; do
        hook=${spec%:*} want=${spec##*:}
        case $((i % 3)) in 0) sig=TERM ;; 1) sig=INT ;; 2) sig=HUP ;; esac
        i=$((i + 1))
        task=hk$i
        SEALRUN_TEST_STOP_AT=$hook start "$task"
        if P=$(paused_pid "$SPID"); then
                kill -"$sig" "$SPID"
                [ "$P" = "$SPID" ] && kill -CONT "$SPID"
                wait "$SPID"; rc=$?
                why=$(verdict "$task" "$sig" "$rc" "$want")
        else
                kill -KILL "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
                why="never paused at $hook"
        fi
        [ -z "$why" ] || diag "$hook: $why"
        ok "$([ -z "$why" ]; echo $?)" "SIG$sig at step $hook: cancelled, one line, final status, nothing left, trail complete"
done

# What the status and the trail say about credentials cancelled around staging.
SEALRUN_TEST_STOP_AT=payload:credentials start cr1
P=$(paused_pid "$SPID") && kill -TERM "$SPID"; wait "$SPID"
is "$(tail -n 1 "$T/cr1.st" | jq -c '[.credentials.injected, .credentials.scrubbed]')" '[[],false]' \
   "cancelled before staging: nothing injected, nothing scrubbed"
is "$(jq -r 'select(.event.task=="cr1") | .event.event' "$ADIR/acme.jsonl" | tr '\n' ,)" "launch,exit," \
   "and no inject event: launch, exit"
SEALRUN_TEST_STOP_AT=payload:close_fds start cr2
P=$(paused_pid "$SPID") && kill -TERM "$SPID"; wait "$SPID"
is "$(tail -n 1 "$T/cr2.st" | jq -c '[.credentials.injected, .credentials.scrubbed]')" '[["gh_token"],true]' \
   "cancelled after staging: injected and then scrubbed"
is "$(jq -r 'select(.event.task=="cr2") | .event.event' "$ADIR/acme.jsonl" | tr '\n' ,)" "launch,inject,scrub,exit," \
   "the trail says so: launch, inject, scrub, exit"

# --- SIGTERM/SIGINT/SIGHUP 0-20 ms after sealrun's first line ------------------
runs=0
for sig in TERM INT HUP; do
        fails=0 n=0 cancelled=0 ran=0
        for ms in $MS_LIST; do
                task=tm-$sig-$ms
                # every other run without a profile: a faster launch, so that some runs hit a running payload
                if [ $((ms % 2)) = 0 ]; then start "$task"; else
                        : > "$T/$task.out"; : > "$T/$task.err"; : > "$T/$task.st"
                        env --default-signal=INT,QUIT,HUP,TERM "$SR" --policy "$TEST_POLICY" --status-fd 9 --tenant acme --task "$task" --audit-socket "$ASOCK" \
                                --audit required -- /bin/sh -c "echo RAN; exec sleep $U" \
                                >"$T/$task.out" 2>"$T/$task.err" 9>"$T/$task.st" &
                        SPID=$!
                fi
                blocked "$SPID"
                [ "$ms" = 0 ] || sleep "0.$(printf '%03d' "$ms")"
                kill -"$sig" "$SPID"
                wait "$SPID"; rc=$?
                KIND=
                why=$(verdict "$task" "$sig" "$rc")
                # verdict runs in a subshell: classify again here for the counts
                if grep -q '"interrupted":{' "$T/$task.st"; then cancelled=$((cancelled + 1)); else ran=$((ran + 1)); fi
                n=$((n + 1))
                if [ -n "$why" ]; then fails=$((fails + 1)); diag "SIG$sig at $ms ms: $why"; fi
        done
        runs=$((runs + n))
        diag "SIG$sig: $n runs, $cancelled cancelled during setup, $ran after the payload started, $fails failed"
        is "$fails" 0 "SIG$sig 0-20 ms after start ($n runs): every run ends the documented way"
done
diag "timing form: $runs runs"
ok "$(pgrep -f "sleep $U" >/dev/null; [ $? -ne 0 ]; echo $?)" "no payload process left after all runs"
