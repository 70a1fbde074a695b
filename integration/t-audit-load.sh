#!/bin/sh
# 200 launches, 8 at a time, through one collector: exactly the expected events, none duplicated, chains intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
N=${AUDIT_LOAD_N:-200}
plan 6

start_collector
cat > "$T/one.sh" <<EOS
#!/bin/sh
t=\$1
tenant=acme; [ \$((t % 2)) -eq 0 ] && tenant=globex
exec "$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t --tenant \$tenant --task L\$t --audit required \
        --audit-socket "$ASOCK" -- /t/probe exit 0 2>>"$T/load.err"
EOS
chmod +x "$T/one.sh"
START=$(date +%s%N)
seq 1 "$N" | xargs -P 8 -n 1 "$T/one.sh"
RC=$?
END=$(date +%s%N)
diag "$N launches, 8 at a time: $(( (END - START) / 1000000 )) ms"
is "$RC" 0 "all $N tasks exited 0"
stop_collector
cat "$ADIR"/acme.jsonl "$ADIR"/globex.jsonl > "$T/all"
is "$(wc -l < "$T/all" | tr -d ' ')" "$((N * 2))" "exactly $((N * 2)) events (launch + exit per task)"
is "$(jq -r '.event | "\(.task) \(.event)"' "$T/all" | sort -u | wc -l | tr -d ' ')" "$((N * 2))" "no event duplicated"
is "$(jq -r 'select(.event.event=="launch") | .event.task' "$T/all" | sort -u | wc -l | tr -d ' ')" "$N" "every task has its launch"
# within each task, launch comes before exit
BAD=$(jq -r '.event | "\(.task) \(.event)"' "$T/all" | awk '{ if ($2 == "exit" && !seen[$1]) bad++; if ($2 == "launch") seen[$1] = 1 } END { print bad + 0 }')
is "$BAD" 0 "every exit follows its task's launch"
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "both tenants' chains are intact"
