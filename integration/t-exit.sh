#!/bin/sh
# Exit codes and the status JSON; the supervisor's death takes the sandbox with it.
. "$(dirname "$0")/lib.sh"
plan 19
# unique durations so the process checks never see another test run's sleeps
S1=$((100000 + $$ % 100000))
S2=$((S1 + 1))

srun --task e0 -- /t/probe exit 0
is "$RC" 0 "exit 0"
srun --task e3 -- /t/probe exit 3
is "$RC" 3 "exit 3 is the task's code"
is "$(jget "$STATUS" .exit_code)" 3 "status JSON exit_code 3"
is "$(head -n1 "$T/status" | jq -r .state)" running "first status line reports the running sandbox"
like "$(head -n1 "$T/status" | jq -r .pid)" "^[0-9]+$" "first status line has the sandbox pid"
is "$(jget "$STATUS" '[.version, .task, (.pid|type), .signal, .timed_out, .oom_killed, (.wall_ms|type), (.cpu_user_ms|type), (.cpu_sys_ms|type), (.max_rss_kb|type), .refused] | map(tostring) | join(",")')" \
   "2,e3,number,null,false,false,number,number,number,number,null" "status JSON carries every documented field"
srun -- /bin/sh -c 'kill -9 $$'
is "$RC" 137 "killed by SIGKILL → 128+9"
is "$(jget "$STATUS" .signal)" 9 "status JSON signal 9"
srun -- /nonexistent/cmd
is "$RC" 127 "missing command → 127"
like "$ERR" "command not found" "one line saying why"
srun -- /etc/passwd
is "$RC" 126 "not executable → 126"
srun --timeout 1 -- /bin/sh -c "trap '' TERM; sleep $S1"
is "$RC" 124 "timeout → 124 even when SIGTERM is ignored"
is "$(jget "$STATUS" .timed_out)" true "status JSON timed_out"
srun --timeout 1 -- /bin/sh -c "(trap '' TERM; setsid sleep $S2 &) ; sleep $S2"
is "$RC" 124 "timeout with a double-forked child → 124"
ok "$(pgrep -f "sleep ($S1|$S2)" >/dev/null; [ $? -ne 0 ]; echo $?)" "no sandbox process survives the timeout"

# SIGTERM to the supervisor is forwarded; the payload's own handling decides.
"$SR" --policy "$TEST_POLICY" -- /bin/sh -c 'trap "exit 42" TERM; sleep 30 & wait' &
SPID=$!
sleep 1; kill -TERM "$SPID"; wait "$SPID"; RC=$?
is "$RC" 42 "SIGTERM to sealrun reaches the payload (its handler exits 42)"

# The supervisor killed with SIGKILL: nothing of the sandbox survives.
"$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t -- /t/probe sleep $S1 &
SPID=$!
sleep 1
CH=$(pgrep -f "^/t/probe sleep $S1" | wc -l)
is "$CH" 1 "the payload runs"
kill -KILL "$SPID"; wait "$SPID" 2>/dev/null
sleep 1
is "$(pgrep -f "^/t/probe sleep $S1" | wc -l)" 0 "SIGKILL of the supervisor leaves no sandbox process after 1 s"
# sandbox init is a fork of sealrun and shares its command line
ok "$(pgrep -f -- "--ro-bind $IBIN /t -- /t/probe sleep $S1" >/dev/null; [ $? -ne 0 ]; echo $?)" "and no orphaned sandbox init"
