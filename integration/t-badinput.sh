#!/bin/sh
# Bad input: one clear stderr line, the documented exit code, nothing started or left behind.
. "$(dirname "$0")/lib.sh"

# expect CODE REGEX DESCRIPTION -- sealrun args...
expect() {
        code=$1 re=$2 desc=$3; shift 4
        : > "$T/status"
        "$SR" "$@" >"$T/out" 2>"$T/err" 9>"$T/status"
        rc=$?
        is "$rc" "$code" "$desc: exit $code"
        lines=$(wc -l < "$T/err")
        if [ "$lines" -eq 1 ] && grep -Eq -- "$re" "$T/err"; then ok 0 "$desc: one line naming the problem"
        else ok 1 "$desc: one line naming the problem"; sed 's/^/#   stderr: /' "$T/err"; fi
}
pol() { # pol NAME JSON → path
        printf '%s' "$2" > "$T/$1.json"; echo "$T/$1.json"
}
base() { # a valid minimal policy with extra text spliced in at the top level
        printf '{"version":1,"mounts":[{"type":"proc","dst":"/proc"}]%s}' "$1"
}

plan 46
mounts_snapshot > "$T/mounts.before"

expect 125 "unknown option" "unknown option" -- --frobnicate -- true
expect 125 "missing COMMAND" "missing command" -- --policy "$TEST_POLICY"
expect 125 "--tenant.*slug" "bad tenant slug" -- --tenant "Acme!" -- true
expect 125 "--tenant.*slug" "one-character slug" -- --tenant a -- true
expect 125 "--timeout" "non-numeric timeout" -- --timeout soon -- true
expect 125 "--status-fd 55: not an open" "closed status fd" -- --policy "$TEST_POLICY" --status-fd 55 -- true
expect 125 "--pass-fd" "pass-fd 1" -- --pass-fd 1 -- true
expect 125 "needs SRC and DST" "bind without DST" -- --bind /tmp
expect 125 "cannot open policy" "missing policy file" -- --policy "$T/nope.json" -- true
expect 125 "not a regular file" "policy is a directory" -- --policy "$T" -- true
expect 125 "invalid JSON" "policy not JSON" -- --policy "$(pol notjson 'version: 1')" -- true
expect 125 '\$\.frobnicate: unknown key' "unknown top-level key" -- --policy "$(pol unk "$(base ',"frobnicate":1')")" -- true
expect 125 '\$\.namespaces\.nett: unknown key' "typo in namespaces" -- --policy "$(pol typo "$(base ',"namespaces":{"nett":false}')")" -- true
expect 125 '\$\.namespaces\.user: the user namespace cannot be turned off' "user namespace off" -- --policy "$(pol userns "$(base ',"namespaces":{"user":false}')")" -- true
expect 125 '\$\.uid: expected an integer' "wrong type" -- --policy "$(pol wt "$(base ',"uid":"1000"')")" -- true
expect 125 '\$\.mounts\[0\]\.type: unknown mount type' "bad mount type" -- --policy "$(pol mt '{"version":1,"mounts":[{"type":"overlay","dst":"/x"}]}')" -- true
expect 125 '\$\.mounts\[0\]\.dst: must be an absolute' "relative mount dst" -- --policy "$(pol rel '{"version":1,"mounts":[{"type":"tmpfs","dst":"x/../y"}]}')" -- true
expect 125 '\$\.version' "wrong version" -- --policy "$(pol ver '{"version":2,"mounts":[]}')" -- true
expect 125 "nested deeper" "deeply nested document" -- --policy "$(pol deep "$(printf '{"version":1,"mounts":[],"description":%s1%s}' "$(printf '[%.0s' $(seq 100))" "$(printf ']%.0s' $(seq 100))")")" -- true
head -c 5000000 /dev/zero | tr '\0' ' ' > "$T/huge.json"
expect 125 "larger than" "huge policy" -- --policy "$T/huge.json" -- true
expect 125 "rlimits.core" "core dumps asked for" -- --policy "$(pol core "$(base ',"limits":{"rlimits":{"core":1024}}')")" -- true
expect 77 "does not allow extra binds" "extra bind not allowed by the policy" -- --policy "$STOCK/default.json" --bind /tmp /x -- true

is "$(new_mounts "$T/mounts.before")" "" "no mount left behind"
ok "$(pgrep -f "^$SR" >/dev/null; [ $? -ne 0 ]; echo $?)" "no sealrun process left behind"
