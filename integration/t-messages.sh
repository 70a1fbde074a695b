#!/bin/sh
# Messages and status strings are printable ASCII, whatever the input: policies mutated with
# U+202E (right-to-left override), U+FEFF (BOM), emoji, control characters and invalid UTF-8,
# in keys, values, file names and arguments. Each bad input: one stderr line, escaped
# (\uXXXX, \UXXXXXXXX, \xNN), exit 125, and a final status whose strings are escaped too.
. "$(dirname "$0")/lib.sh"
plan 16

RLO=$(printf '\342\200\256')      # U+202E
BOM=$(printf '\357\273\277')      # U+FEFF
EMO=$(printf '\360\237\230\200')  # U+1F600
ESC=$(printf '\033')              # ESC, a terminal control sequence's start
BAD=$(printf '\377')              # not UTF-8 at all

# check DESCRIPTION WANT-REGEX: the last run printed one escaped line, a printable status.
check() {
        n=$(wc -l < "$T/err" | tr -d ' ')
        raw=$(LC_ALL=C grep -c '[^ -~]' "$T/err" "$T/status" | awk -F: '{ s += $2 } END { print s }')
        err=$(jq -r '.error // ""' "$T/status" 2>/dev/null)
        if [ "$RC" = 125 ] && [ "$n" = 1 ] && [ "$raw" = 0 ] && grep -Eq -- "$2" "$T/err" &&
           [ -n "$err" ] && printf '%s' "$err" | LC_ALL=C grep -vq '[^ -~]'; then
                ok 0 "$1"
        else
                ok 1 "$1"; diag "rc=$RC lines=$n raw=$raw"; sed 's/^/#   stderr: /' "$T/err" | cat -v
        fi
}
# pol NAME [JQ-ARGS] JQ-FILTER: the test policy, mutated
pol() { _n=$1; shift; jq "$@" "$TEST_POLICY" > "$T/$_n"; echo "$T/$_n"; }
run() { POLICY=$1; shift; srun "$@"; }

# keys
run "$(pol k1.json --arg k "mounts$RLO" '. + {($k): 1}')" -- /bin/true
check "U+202E in a key" '\\u202e'
run "$(pol k2.json --arg k "host${ESC}[31mname" '. + {($k): "x"}')" -- /bin/true
check "an ESC control sequence in a key" '\\x1b\[31m'
run "$(pol k3.json --arg k "$EMO" '.limits += {($k): 1}')" -- /bin/true
check "an emoji in a nested key" '\\U0001f600'
run "$(pol k4.json --arg k "${BOM}version" '. + {($k): 1}')" -- /bin/true
check "U+FEFF in a key" '\\ufeff'

# values
run "$(pol v1.json --arg v "/usr$RLO" '.mounts[0].src = "relative" + $v')" -- /bin/true
check "U+202E in a mount source" 'mounts\[0\]\.src'
run "$(pol v2.json --arg v "/tmp/$EMO" '.mounts += [{"type": "tmpfs", "dst": ("/tmp/../" + $v)}]')" -- /bin/true
check "an emoji in a mount destination" 'mounts\[[0-9]+\]\.dst'
run "$(pol v3.json --arg v "a${ESC}b" '.limits.timeout_s = $v')" -- /bin/true
check "ESC in a value of the wrong type" '(\\x1b|timeout_s)'
run "$(pol v4.json --arg v "$RLO" '.network = {"mode": $v}')" -- /bin/true
check "U+202E as an enum value" '\\u202e'
run "$(pol v5.json --arg v "${BOM}tmpfs" '.mounts[0].type = $v')" -- /bin/true
check "U+FEFF in a mount type" '\\ufefftmpfs'

# the file itself: a BOM before the JSON, invalid UTF-8 in it, a name with U+202E
{ printf '%s' "$BOM"; cat "$TEST_POLICY"; } > "$T/bom.json"
run "$T/bom.json" -- /bin/true
check "a BOM at the start of the policy file" 'bom\.json'
{ printf '{"version":1,"x%s":1,' "$BAD"; tail -c +2 "$TEST_POLICY"; } > "$T/bad.json"
run "$T/bad.json" -- /bin/true
check "invalid UTF-8 in the policy" 'bad\.json'
cp "$TEST_POLICY" "$T/p${RLO}.json"
jq '.bogus = 1' "$TEST_POLICY" > "$T/p${RLO}.json"
run "$T/p${RLO}.json" -- /bin/true
check "U+202E in the policy's file name" 'p\\u202e\.json'
run "$T/missing${EMO}${ESC}.json" -- /bin/true
check "an emoji and ESC in a missing policy's name" 'missing\\U0001f600\\x1b\.json'

# arguments
run "$TEST_POLICY" --chdir "/no$RLO/where" -- /bin/true
is "$(wc -l < "$T/err" | tr -d ' ')/$(LC_ALL=C grep -c '[^ -~]' "$T/err")" "1/0" "U+202E in --chdir (failed inside the sandbox): one escaped line"
run "$TEST_POLICY" --setenv "X$EMO" v -- /bin/true
is "$RC/$(cat "$T/err")" '125/sealrun: --setenv: "X\U0001f600" is not a valid variable name' \
   "an emoji in a --setenv name: one escaped line (a usage error: no status yet)"

# the status of a successful run escapes what it echoes too (task ids are checked, so the
# one input string left is the not_enforced note of an optional rule naming a path)
run "$(pol ok.json '.')" -- /bin/true
is "$RC/$(LC_ALL=C grep -c '[^ -~]' "$T/status")" "0/0" "control: a good run's status is printable ASCII"
