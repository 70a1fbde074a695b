#!/bin/sh
# 200 launches, mixed (clean exits, exit codes, SIGKILLs, OOM kills, timeouts,
# stray children), two at a time under a tenant slot cap: every exit code as
# expected, and afterwards no task cgroup, process, mount or slot lock is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-resources.sh"
plan 7
ID="churn$$"
TEN="churn-$$"
M=$((400000 + $$ % 100000))
MODE=$(cgroup_mode)
on_exit cleanup_churn
cleanup_churn() { rm -rf "$(slot_dir "$TEN")"; }
if [ "$MODE" = none ]; then
        P=$(lim_policy churn '{"kill_grace_ms":100,"max_concurrent":4}')
else
        P=$(lim_policy churn '{"kill_grace_ms":100,"max_concurrent":4,"memory":"48M","pids":64}')
fi
MNT0=$(wc -l < /proc/self/mountinfo)

one() { # I: run launch I, print "I want got" when the exit code differs
        i=$1
        case $((i % 20)) in
        0|1|2|3|4|10|11|12|13) want=0;  set -- /t/probe exit 0 ;;
        5|15)   want=137; set -- /bin/sh -c 'kill -9 $$' ;;
        6|16)   want=3;   set -- /t/probe exit 3 ;;
        7|17)   if [ "$MODE" = none ]; then want=0; set -- /t/hog mem 8
                else want=137; set -- /t/hog mem 128; fi ;;
        8)      want=124; set -- /t/hog escape $M ;;
        9|19)   want=0;   set -- /bin/sh -c "sleep $M & sleep $M & /t/probe exit 0" ;;
        14|18)  want=0;   set -- /t/hog forks 8 ;;
        esac
        extra=""
        [ "$want" = 124 ] && extra="--timeout 1"
        "$SR" --policy "$P" --tenant "$TEN" --wait-slot 60 --task "$ID-$i" $extra --ro-bind "$IBIN" /t -- "$@" \
                >/dev/null 2>>"$T/churn.err"
        rc=$?
        [ "$rc" = "$want" ] || echo "$i $want $rc"
}

t0=$(date +%s)
i=0
: > "$T/bad"
while [ $i -lt 200 ]; do
        one $i >> "$T/bad" &
        one $((i + 1)) >> "$T/bad" &
        wait
        i=$((i + 2))
done
t1=$(date +%s)
diag "200 launches in $((t1 - t0)) s (cgroup $MODE)"
is "$(wc -l < "$T/bad")" 0 "all 200 launches exit as expected"
[ -s "$T/bad" ] && diag "$(head -5 "$T/bad")"
sleep 0.3
is "$(left_cgroups "$ID")" 0 "no task cgroup left"
is "$(pgrep -f "$M" | wc -l)" 0 "no task process left (strays, double-forks, timeouts)"
is "$(pgrep -f -- "--task $ID-" | wc -l)" 0 "no supervisor or sandbox init left"
is "$(wc -l < /proc/self/mountinfo)" "$MNT0" "no mount left in the host namespace"
is "$(held_slots "$(slot_dir "$TEN")")" 0 "no slot lock left"
unlike "$(grep -v '^sealrun: task timed out' "$T/churn.err" | head -3)" "." "no unexpected message on stderr"
