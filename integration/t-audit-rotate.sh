#!/bin/sh
# Audit log rotation: by size or age, the hash chain runs on across files, audit-verify checks the whole series.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
plan 14

send_n() { # FROM TO TASKPREFIX
        ( i=$1; while [ "$i" -le "$2" ]; do ev launch acme "$3$i" "$i"; echo; i=$((i + 1)); done ) | "$SEND" "$ASOCK" - >/dev/null
}

start_collector --rotate-size 4K
send_n 1 30 r
stop_collector
N=$(ls "$ADIR"/acme.jsonl.* 2>/dev/null | wc -l)
ok "$([ "$N" -ge 2 ]; echo $?)" "--rotate-size 4K: the file was rotated ($N rotated files)"
is "$(cat "$ADIR"/acme.jsonl.* "$ADIR/acme.jsonl" | wc -l | tr -d ' ')" 30 "every event is in exactly one file"
LAST=$(ls "$ADIR"/acme.jsonl.* | sort | tail -n 1)
is "$(head -n 1 "$ADIR/acme.jsonl" | jq -r .prev)" "$(tail -n 1 "$LAST" | jq -r .hash)" \
        "the live file's first line links to the last rotated file's last line"
is "$(head -n 1 "$ADIR/acme.jsonl" | jq -r .seq)" "$(( $(tail -n 1 "$LAST" | jq -r .seq) + 1 ))" "and continues its seq"
OUT=$("$SEALCTL" audit-verify "$ADIR"); RC=$?
is "$RC" 0 "audit-verify DIR: the whole series is intact"
like "$OUT" "acme.jsonl: ok, 30 lines.*rotated series" "one ok line for the series, counting every file"

# a collector started again continues the series
start_collector --rotate-size 4K
send_n 31 34 r
stop_collector
"$SEALCTL" audit-verify "$ADIR" >/dev/null
is "$?" 0 "after a restart the chain still runs on"

cp -a "$ADIR" "$T/orig"
# a missing rotated file in the middle
mv "$ADIR/acme.jsonl.000002" "$T/aside"
OUT=$("$SEALCTL" audit-verify "$ADIR"); RC=$?
is "$RC" 77 "a rotated file removed: exit 77"
like "$OUT" "missing" "and it says a file is missing"
rm -rf "$ADIR"; cp -a "$T/orig" "$ADIR"
# two rotated files swapped
mv "$ADIR/acme.jsonl.000001" "$T/x"; mv "$ADIR/acme.jsonl.000002" "$ADIR/acme.jsonl.000001"; mv "$T/x" "$ADIR/acme.jsonl.000002"
"$SEALCTL" audit-verify "$ADIR" >/dev/null
is "$?" 77 "two rotated files swapped: exit 77"
rm -rf "$ADIR"; cp -a "$T/orig" "$ADIR"
# the oldest file gone (and the numbers shifted to hide it)
rm "$ADIR/acme.jsonl.000001"
for f in $(ls "$ADIR"/acme.jsonl.0* | sort); do n=$(echo "${f##*.}" | sed 's/^0*//'); mv "$f" "$ADIR/acme.jsonl.$(printf %06d $((n - 1)))"; done
OUT=$("$SEALCTL" audit-verify "$ADIR"); RC=$?
is "$RC" 77 "the oldest file removed and the rest renumbered: exit 77"
rm -rf "$ADIR"

# by age
start_collector --rotate-age 1s
send_n 1 1 a
sleep 1.2
send_n 2 2 a
stop_collector
is "$(ls "$ADIR"/acme.jsonl.* 2>/dev/null | wc -l | tr -d ' ')" 1 "--rotate-age 1s: a file whose first line is older is rotated"

# bad options: one line, 125
ERR=$("$AUDITD" --dir "$ADIR" --socket "$ASOCK" --rotate-size 12 2>&1); RC=$?
is "$RC" 125 "--rotate-size below 4K: exit 125"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "with one line"
