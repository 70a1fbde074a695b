#!/bin/sh
# A root-run sealrun trusts its policy to decide what gets bound, so as root
# a policy file (and a seccomp profile file it names) writable by group or
# others, or owned by neither root nor the caller, is refused: exit 77,
# reason policy-permissions, one stderr line naming the file, nothing runs.
. "$(dirname "$0")/lib.sh"
plan 13

# run POLICY: sealrun as the caller; sets RC, ERR, REASON; $T/ran exists if the payload ran
run() {
        rm -f "$T/ran"
        "$SR" --policy "$1" --status-fd 9 -- /bin/sh -c "echo ran" > "$T/ran.out" 2> "$T/err" 9> "$T/status"
        RC=$?
        ERR=$(cat "$T/err")
        REASON=$(tail -n 1 "$T/status" | jq -r .refused 2>/dev/null)
        grep -q ran "$T/ran.out" && : > "$T/ran"
}
refused() { # refused FILE DESCRIPTION: 77, policy-permissions, one line naming FILE, nothing ran
        if [ "$RC" -eq 77 ] && [ "$REASON" = policy-permissions ] && [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] &&
                printf '%s' "$ERR" | grep -qF "$1" && [ ! -e "$T/ran" ]; then
                ok 0 "$2: refused (77, policy-permissions, one line naming the file)"
        else
                ok 1 "$2: refused (77, policy-permissions, one line naming the file)"
                diag "rc $RC reason $REASON: $ERR"
        fi
}

# The stock policies, as installed or staged (root-owned 0644): they run.
run "$STOCK/default.json"
is "$RC/$(cat "$T/ran.out")" 0/ran "the stock default policy runs"
run "$STOCK/agent.json"
is "$RC/$(cat "$T/ran.out")" 0/ran "the stock agent policy runs"
cp "$TEST_POLICY" "$T/p.json" && chmod 0644 "$T/p.json"
run "$T/p.json"
is "$RC/$(cat "$T/ran.out")" 0/ran "control: a 0644 policy of the caller's runs"

if ! is_root; then
        # Unprivileged, a policy cannot grant more than the caller holds; the
        # check is root's (see docs/policy.md), so a 0666 policy of one's own runs.
        chmod 0666 "$T/p.json"
        run "$T/p.json"
        is "$RC" 0 "unprivileged: a 0666 policy of the caller's is not refused"
        for i in $(seq 9); do skip "the policy file check applies to root only"; done
        exit 0
fi

chmod 0666 "$T/p.json"
run "$T/p.json"
refused "$T/p.json" "a 0666 policy"
like "$ERR" "writable by group or others \\(mode 0666\\)" "the line says why"
chmod 0664 "$T/p.json"
run "$T/p.json"
refused "$T/p.json" "a group-writable (0664) policy"
chmod 0644 "$T/p.json" && chown 65534:65534 "$T/p.json"
run "$T/p.json"
refused "$T/p.json" "a policy owned by uid 65534"
like "$ERR" "owned by uid 65534" "the line names the owner"
chown 0:0 "$T/p.json"
run "$T/p.json"
is "$RC/$(cat "$T/ran.out")" 0/ran "the same policy, root-owned 0644: runs"

# The seccomp profile file a policy names: the same rule.
cp "$STOCK/seccomp-default.json" "$T/prof.json" && chmod 0644 "$T/prof.json"
jq --arg p "$T/prof.json" '.seccomp = {"profile": $p}' "$TEST_POLICY" > "$T/pp.json" && chmod 0644 "$T/pp.json"
run "$T/pp.json"
is "$RC/$(cat "$T/ran.out")" 0/ran "a policy naming a root-owned 0644 seccomp profile: runs"
chmod 0666 "$T/prof.json"
run "$T/pp.json"
refused "$T/prof.json" "a 0666 seccomp profile"
chmod 0644 "$T/prof.json" && chown 65534:65534 "$T/prof.json"
run "$T/pp.json"
refused "$T/prof.json" "a seccomp profile owned by uid 65534"
# Through a symlink, the file it resolves to is what is checked.
chown 0:0 "$T/prof.json" && chmod 0666 "$T/p.json" && ln -s "$T/p.json" "$T/link.json"
run "$T/link.json"
refused "$T/link.json" "a symlink to a 0666 policy"
