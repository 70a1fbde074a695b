#!/bin/sh
# sealctl audit-verify: intact chains pass; an edited, deleted, reordered or cut line fails at that line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
plan 16

start_collector
( i=1; while [ $i -le 6 ]; do ev launch acme "v$i" $i; echo; i=$((i + 1)); done ) | "$SEND" "$ASOCK" - >/dev/null
( i=1; while [ $i -le 3 ]; do ev launch globex "g$i" $i; echo; i=$((i + 1)); done ) | "$SEND" "$ASOCK" - >/dev/null
stop_collector
F="$ADIR/acme.jsonl"
cp "$F" "$T/orig"

OUT=$("$SEALCTL" audit-verify "$ADIR"); RC=$?
is "$RC" 0 "intact directory: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c ': ok, ')" 2 "one ok line per tenant file"
"$SEALCTL" audit-verify "$F" >/dev/null
is "$?" 0 "intact file: exit 0"

# edit one character of line 4 (the task id inside the event)
sed '4s/"task":"v4"/"task":"v9"/' "$T/orig" > "$F"
OUT=$("$SEALCTL" audit-verify "$ADIR"); RC=$?
is "$RC" 77 "edited line: exit 77"
like "$OUT" "acme.jsonl:4: broken" "edited line: reported at line 4"
like "$OUT" "globex.jsonl: ok" "the other tenant's file is still reported intact"

# edit the peer uid of line 2 (outside the event)
sed '2s/"uid":[0-9]*/"uid":4242/' "$T/orig" > "$F"
OUT=$("$SEALCTL" audit-verify "$F")
like "$OUT" "acme.jsonl:2: broken" "edited peer stamp: reported at line 2"

# delete line 3
sed '3d' "$T/orig" > "$F"
OUT=$("$SEALCTL" audit-verify "$F"); RC=$?
is "$RC" 77 "deleted line: exit 77"
like "$OUT" "acme.jsonl:3: broken" "deleted line: reported at line 3"

# swap lines 2 and 5
{ sed -n 1p "$T/orig"; sed -n 5p "$T/orig"; sed -n '3,4p' "$T/orig"; sed -n 2p "$T/orig"; sed -n 6p "$T/orig"; } > "$F"
OUT=$("$SEALCTL" audit-verify "$F")
like "$OUT" "acme.jsonl:2: broken" "reordered lines: reported at line 2"

# delete the first line
sed '1d' "$T/orig" > "$F"
like "$("$SEALCTL" audit-verify "$F")" "acme.jsonl:1: broken" "deleted first line: reported at line 1"

# a line cut in the middle (no newline at the end)
head -c -40 "$T/orig" > "$F"
like "$("$SEALCTL" audit-verify "$F")" "acme.jsonl:6: broken" "cut last line: reported at line 6"

# a line from another tenant's file pasted in
{ sed -n 1,3p "$T/orig"; sed -n 1p "$ADIR/globex.jsonl"; } > "$F"
like "$("$SEALCTL" audit-verify "$F")" "acme.jsonl:4: broken" "foreign line: reported at line 4"

# not JSON at all
printf 'hello\n' > "$F"
like "$("$SEALCTL" audit-verify "$F")" "acme.jsonl:1: broken" "garbage file: reported at line 1"

"$SEALCTL" audit-verify "$T/does-not-exist" 2>/dev/null
is "$?" 125 "unreadable path: exit 125"
"$SEALCTL" audit-verify 2>/dev/null
is "$?" 125 "no argument: exit 125"
