#!/bin/sh
# --trace-fd: one JSON line with every phase of a launch, in order; the payload never holds the fd.
. "$(dirname "$0")/lib.sh"
plan 12
ORDER="start,policy_loaded,clone,go,mounts_done,payload_exec,exit,cleanup_done"

"$SR" --policy "$STOCK/default.json" --trace-fd 8 -- /bin/true 8>"$T/trace" 2>"$T/err"
is "$?" 0 "a stock launch with --trace-fd runs"
is "$(wc -l < "$T/trace" | tr -d ' ')" 1 "exactly one trace line"
is "$(jq -r '[.points[].name] | join(",")' "$T/trace")" "$ORDER" "every point appears, in launch order"
is "$(jq -r '[.points[].t_us] | . == sort' "$T/trace")" true "timestamps never go backwards"
is "$(jq -r '[.clock, .unit, (.cpu_at_enable_us|type), (.supervisor_maxrss_kb > 0), .points[0].since_start_us] | map(tostring) | join(",")' "$T/trace")" \
   "monotonic,us,number,true,0" "clock, unit, the CPU time before tracing, the supervisor's peak RSS, offsets from start"

# The payload's own time lands between payload_exec and exit (the sandbox's
# points really come from inside it, not from the supervisor's clock).
"$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t --trace-fd 8 -- /t/probe sleep 1 8>"$T/trace" 2>"$T/err"
is "$?" 0 "traced payload that sleeps 1 s"
ok "$([ "$(jq -r '.points | map({(.name): .t_us}) | add | .exit - .payload_exec' "$T/trace")" -ge 1000000 ]; echo $?)" \
   "payload_exec → exit covers the payload's 1 s"

# The trace fd is the supervisor's: the payload does not have it (control: a --pass-fd is there).
"$SR" --policy "$TEST_POLICY" --trace-fd 8 --pass-fd 7 -- /bin/sh -c 'ls /proc/self/fd' 8>"$T/trace" 7>/dev/null >"$T/out" 2>"$T/err"
like "$(tr '\n' ' ' < "$T/out")" "(^| )7 " "control: a passed fd is visible to the payload"
unlike "$(tr '\n' ' ' < "$T/out")" "(^| )8 " "the trace fd is not"

# A launch that fails still writes its line, up to where it got.
"$SR" --policy "$TEST_POLICY" --trace-fd 8 -- /nonexistent/cmd 8>"$T/trace" 2>"$T/err"
is "$(jq -r '[.points[0].name, .points[-1].name] | join(",")' "$T/trace")" "start,cleanup_done" \
   "a failed exec is traced from start to cleanup_done"

# fds 0-2 are the payload's (it could forge the line), as for --status-fd.
"$SR" --policy "$TEST_POLICY" --trace-fd 1 -- /bin/true >"$T/out" 2>"$T/err"
RC=$?
is "$RC,$(wc -l < "$T/err" | tr -d ' ')" "125,1" "--trace-fd 1 is refused with one line (exit 125)"
"$SR" --policy "$TEST_POLICY" --trace-fd 63 -- /bin/true 2>"$T/err"; RC=$?
like "$RC $(cat "$T/err")" "^125 sealrun: --trace-fd 63: not an open file descriptor$" "a closed fd is refused"
