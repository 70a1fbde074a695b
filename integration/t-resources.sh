#!/bin/sh
# Cgroup limits end to end: OOM kill reported, fork bomb stopped at pids.max,
# CPU quota, timeout kills everything, nothing left behind; without a writable
# cgroup: limits refused (77, how to get one), optional limits reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-resources.sh"
plan 28
ID="res$$"
MODE=$(cgroup_mode)
diag "cgroup mode for uid $(id -u): $MODE"

if [ "$MODE" = none ]; then
        for what in "memory hog OOM-killed" "oom_killed in the status" "exit 137" "memory peak" "limit escape" \
                    "small allocation survives" "fork bomb stopped" "pids_peak" "host can still fork" \
                    "cpu quota" "cpu usage about half a core" "usage reported by the cgroup" "no task cgroup left" \
                    "SIGKILLed supervisor leaves its cgroup" "the next launch collects it"; do
                skip "no writable cgroup for uid $(id -u) on this host (root, or a delegated cgroup v2, needed)" "$what"
        done
else
        P=$(lim_policy mem '{"memory":"64M"}')
        POLICY=$P srun --task "$ID-oom" -- $HOG mem 256
        is "$RC" 137 "memory hog over limits.memory is SIGKILLed (128+9)"
        is "$(jget "$STATUS" .oom_killed)" true "status oom_killed true"
        is "$(jget "$STATUS" .signal)" 9 "status signal 9"
        ok "$([ "$(jget "$STATUS" .memory_peak_kb)" -le 66560 ] && [ "$(jget "$STATUS" .memory_peak_kb)" -ge 32768 ]; echo $?)" \
           "memory_peak_kb near the 64M limit ($(jget "$STATUS" .memory_peak_kb))"
        # Escape attempt: raise our own limit through a cgroupfs mounted inside.
        POLICY=$P srun --task "$ID-esc" -- /bin/sh -c 'mkdir -p /tmp/cg
                mount -t cgroup2 none /tmp/cg 2>/dev/null && echo max > /tmp/cg/memory.max
                mount -t cgroup -o memory none /tmp/cg 2>/dev/null && echo -1 > /tmp/cg/memory.limit_in_bytes
                exec /t/hog mem 256'
        is "$RC:$(jget "$STATUS" .oom_killed)" "137:true" "the payload cannot lift its limit by mounting cgroupfs (still OOM-killed)"
        POLICY=$P srun --task "$ID-small" -- $HOG mem 16
        ok "$([ "$RC" = 0 ] && [ "$OUT" = survived ] && [ "$(jget "$STATUS" .oom_killed)" = false ]; echo $?)" \
           "16M under a 64M limit runs, oom_killed false"

        P=$(lim_policy pids '{"pids":32}')
        POLICY=$P srun --task "$ID-bomb" -- $HOG forks 100000
        ok "$([ "$RC" = 0 ] && [ "$OUT" -ge 20 ] && [ "$OUT" -lt 32 ]; echo $?)" "fork bomb stops below pids.max 32 (forked $OUT)"
        pk=$(jget "$STATUS" .pids_peak)
        if [ "$pk" = null ]; then skip "pids_peak: this kernel has no pids.peak"; else
                ok "$([ "$pk" -le 32 ] && [ "$pk" -ge 30 ]; echo $?)" "pids_peak $pk at the limit"; fi
        ok "$(sh -c 'for i in 1 2 3 4 5 6 7 8; do /bin/true || exit 1; done'; echo $?)" "the host can still fork"

        P=$(lim_policy cpu '{"cpu":0.5}')
        POLICY=$P srun --task "$ID-cpu" -- $HOG spin 2000 2
        is "$RC" 0 "two CPU spinners under cpu 0.5 finish"
        used=$(jget "$STATUS" '.cpu_user_ms + .cpu_sys_ms'); wall=$(jget "$STATUS" .wall_ms)
        # upper bound is the point (two spinners could use two cores); the lower
        # one is loose because other jobs may share these two cores
        ok "$([ $((used * 100 / wall)) -ge 10 ] && [ $((used * 100 / wall)) -le 75 ]; echo $?)" \
           "cpu 0.5: $used ms of CPU in $wall ms wall (about half a core, two spinners could use two)"

        P=$(lim_policy plain '{}')
        POLICY=$P srun --task "$ID-usage" -- $HOG spin 300 1
        ok "$([ "$(jget "$STATUS" '.cpu_user_ms + .cpu_sys_ms')" -ge 30 ] && [ "$(jget "$STATUS" .cgroup)" = "$MODE" ]; echo $?)" \
           "usage comes from the $MODE cgroup"
        is "$(left_cgroups "$ID")" 0 "no task cgroup left behind"

        # A SIGKILLed supervisor cannot remove its cgroup: the next launch does.
        "$SR" --policy "$TEST_POLICY" --task "$ID-dead" --ro-bind "$IBIN" /t -- /t/probe sleep 60 &
        DP=$!
        sleep 0.5; kill -KILL "$DP"; wait "$DP" 2>/dev/null
        ok "$([ "$(left_cgroups "$ID-dead")" -ge 1 ]; echo $?)" "a SIGKILLed supervisor leaves its task cgroup"
        sleep 3.2
        srun -- /bin/true
        is "$(left_cgroups "$ID-dead")" 0 "the next launch removes them (unlocked, older than 3 s)"
fi

# Timeouts kill everything, with or without a cgroup (the pid namespace).
P=$(lim_policy short '{"kill_grace_ms":300}')
S=$((200000 + $$ % 100000))
POLICY=$P srun --task "$ID-to" --timeout 1 -- $HOG escape $S
is "$RC" 124 "timeout with SIGTERM ignored everywhere → 124"
is "$(jget "$STATUS" .timed_out)" true "status timed_out"
sleep 0.3
is "$(pgrep -f "hog escape $S" | wc -l)" 0 "no process of the timed-out task survives, the double-forked setsid'd one included"
ok "$([ "$(jget "$STATUS" .wall_ms)" -lt 6000 ]; echo $?)" "killed promptly after the grace ($(jget "$STATUS" .wall_ms) ms)"

# Refusal without a writable cgroup, and optional limits.
P=$(lim_policy req '{"memory":"64M","pids":64}')
POLICY=$P srun --task "$ID-req" -- /bin/true
if [ "$MODE" = none ]; then
        is "$RC" 77 "limits asked without a writable cgroup → 77"
        like "$ERR" "systemd-run --user --scope -p Delegate=yes" "the message says how to get a delegated cgroup"
        like "$ERR" "limits.memory, limits.pids" "and names the limits"
        is "$(printf '%s\n' "$ERR" | wc -l)" 1 "one line"
        is "$(jget "$STATUS" .refused)" no-cgroup "status refused no-cgroup"
else
        # what applies with a writable cgroup: the limits are applied, nothing refused
        is "$RC" 0 "limits asked with a writable cgroup: runs"
        is "$ERR" "" "... without a line on stderr"
        is "$(jget "$STATUS" .refused)" null "status refused null"
        is "$(jget "$STATUS" '.not_enforced | map(select(startswith("limits."))) | length')" 0 "no limit reported not enforced"
        is "$(jget "$STATUS" .cgroup)" "$MODE" "status cgroup $MODE"
fi
P=$(lim_policy opt '{"memory":"64M","pids":64,"cpu":1,"optional":["memory","pids","cpu"]}')
POLICY=$P srun --task "$ID-opt" -- /bin/echo fine
is "$RC:$OUT" "0:fine" "optional limits: the task runs"
if [ "$MODE" = none ]; then
        is "$(jget "$STATUS" '.not_enforced | map(select(startswith("limits."))) | sort | join(",")')" \
           "limits.cpu,limits.memory,limits.pids" "status not_enforced names the skipped limits"
        is "$(jget "$STATUS" .cgroup)" none "status cgroup none"
else
        is "$(jget "$STATUS" '.not_enforced | map(select(startswith("limits."))) | length')" 0 "optional limits applied here: none reported"
        is "$(jget "$STATUS" .cgroup)" "$MODE" "status cgroup $MODE"
fi
is "$(left_cgroups "$ID")" 0 "nothing left after the refusal and the optional run"
