#!/bin/sh
# Per-tenant concurrency slots: N+1 concurrent tasks of one tenant → one exit 75
# at once while another tenant's task runs; --wait-slot waits; crashed holders
# free their slot; nothing stays locked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-resources.sh"
plan 14
A="slota-$$"
B="slotb-$$"
S=$((300000 + $$ % 100000))
on_exit cleanup_slots
cleanup_slots() {
        pkill -f "probe sleep $S" 2>/dev/null
        rm -rf "$(slot_dir "$A")" "$(slot_dir "$B")"
}

bg() { # TENANT N TAG: a long task in the background (killed by the test)
        "$SR" --policy "$TEST_POLICY" --tenant "$1" --max-concurrent "$2" --ro-bind "$IBIN" /t \
                -- /t/probe sleep "$S" >/dev/null 2>"$T/bg-$3.err" &
}

bg "$A" 2 1; P1=$!
bg "$A" 2 2; P2=$!
i=0; while [ "$(pgrep -f "^/t/probe sleep $S" | wc -l)" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$(pgrep -f "^/t/probe sleep $S" | wc -l)" 2 "two tasks of tenant $A hold its two slots"
is "$(held_slots "$(slot_dir "$A")")" 2 "both slot files are flock-ed"

t0=$(date +%s%N)
srun --tenant "$A" --max-concurrent 2 -- /t/probe exit 0
t1=$(date +%s%N)
is "$RC" 75 "the third task of $A exits 75"
ok "$([ $(( (t1 - t0) / 1000000 )) -lt 1000 ]; echo $?)" "at once ($(( (t1 - t0) / 1000000 )) ms)"
like "$ERR" "tenant $A: all 2 concurrency slots are busy" "one line saying why"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "exactly one line"
is "$(jget "$STATUS" .refused)" slots-busy "status refused slots-busy"

srun --tenant "$B" --max-concurrent 2 -- /t/probe exit 0
is "$RC" 0 "meanwhile a task of tenant $B runs"

# --wait-slot: kill one holder after 1 s, the waiting task then takes its slot
( sleep 1; kill -KILL "$P1" ) &
t0=$(date +%s%N)
srun --tenant "$A" --max-concurrent 2 --wait-slot 20 -- /t/probe exit 0
t1=$(date +%s%N)
is "$RC" 0 "with --wait-slot the task waits and runs once a slot frees"
ok "$([ $(( (t1 - t0) / 1000000 )) -ge 800 ] && [ $(( (t1 - t0) / 1000000 )) -lt 5000 ]; echo $?)" \
   "the SIGKILLed supervisor's slot was free within $(( (t1 - t0) / 1000000 )) ms"
srun --tenant "$A" --max-concurrent 2 --wait-slot 1 -- /t/probe exit 0
is "$RC" 0 "a slot is free again (the killed holder's)"

kill -TERM "$P2" 2>/dev/null; wait "$P2" 2>/dev/null; wait "$P1" 2>/dev/null
sleep 0.5
is "$(held_slots "$(slot_dir "$A")")" 0 "no slot lock left once the tasks ended"
is "$(pgrep -f "^/t/probe sleep $S" | wc -l)" 0 "no task process left"
# the worker can narrow a policy's cap, not widen it
P=$(lim_policy cap '{"max_concurrent":1}')
POLICY=$P srun --tenant "$A" --max-concurrent 3 -- /t/probe exit 0
is "$RC" 77 "--max-concurrent above the policy's limits.max_concurrent → 77"
