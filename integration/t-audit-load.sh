#!/bin/sh
# 200 launches, 8 at a time, through one collector: exactly the expected events, none duplicated, chains intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
# the shared test policy turns audit off; these tests need the defaults
jq 'del(.audit)' "$TEST_POLICY" > "$T/test-audit.json"
TEST_POLICY="$T/test-audit.json"
N=${AUDIT_LOAD_N:-200}
plan 6

# With a sealed profile each task is launch, inject, scrub, exit.
PER=4
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
for tn in acme globex; do
        "$SEALCTL" keygen --pool --out "$T/$tn" >/dev/null 2>&1
        printf '{"tenant":"%s","credentials":[{"name":"tok","value":"v"}]}' "$tn" |
                "$SEALCTL" seal --tenant "$tn" --profile agent --version 1 --not-after +1h --to "$T/$tn.pub" \
                --sign "$T/issuer.key" --in - --out "$T/$tn.sealed" 2>/dev/null
done
PROFILE_ARGS="--trust $T/issuer.pub --profile $T/\$tenant.sealed --key $T/\$tenant.key"
start_collector
cat > "$T/one.sh" <<EOS
#!/bin/sh
t=\$1
tenant=acme; [ \$((t % 2)) -eq 0 ] && tenant=globex
exec "$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t --tenant \$tenant --task L\$t --audit required \
        --audit-socket "$ASOCK" $PROFILE_ARGS -- /t/probe exit 0 2>>"$T/load.err"
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
is "$(wc -l < "$T/all" | tr -d ' ')" "$((N * PER))" "exactly $((N * PER)) events ($PER per task)"
is "$(jq -r '.event | "\(.task) \(.event)"' "$T/all" | sort -u | wc -l | tr -d ' ')" "$((N * PER))" "no event duplicated"
is "$(jq -r 'select(.event.event=="launch") | .event.task' "$T/all" | sort -u | wc -l | tr -d ' ')" "$N" "every task has its launch"
# within each task the events come in the documented order
ORDER=launch,inject,scrub,exit
BAD=$(jq -r '.event | "\(.task) \(.event)"' "$T/all" | awk -v want="$ORDER" '{ seq[$1] = seq[$1] (seq[$1] == "" ? "" : ",") $2 }
        END { for (t in seq) if (seq[t] != want) bad++; print bad + 0 }')
is "$BAD" 0 "every task's events are in order: $ORDER"
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "both tenants' chains are intact"
