#!/bin/sh
# Confinement end to end: policy errors in the seccomp, capabilities and
# Landlock sections, the seccomp BPF cache (hit, miss, corrupt, wrong mode,
# exposed), kept capabilities, and Landlock rules the sandbox cannot satisfy.
. "$(dirname "$0")/lib.sh"
# Unprivileged callers have no BPF cache: its 11 checks apply to root only.
if is_root; then plan 40; else plan 29; fi
CACHE="$T/cache"
export SEALRUN_CACHE_DIR="$CACHE"
ESC=/t/escape

# A policy = the test policy with one section replaced (jq expression).
tpol() { jq "$2" "$TEST_POLICY" > "$T/$1.json"; echo "$T/$1.json"; }

# bad NAME JQ REGEX: exit 125, one stderr line naming the JSON path, nothing ran.
bad() {
        p=$(tpol "$1" "$2")
        rm -f "$T/ran"
        "$SR" --policy "$p" -- /bin/sh -c "touch $T/ran" > /dev/null 2> "$T/err"
        rc=$?
        if [ "$rc" -eq 125 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -Eq -- "$3" "$T/err" && [ ! -e "$T/ran" ]; then
                ok 0 "$1: exit 125, one line naming the field"
        else
                ok 1 "$1: exit 125, one line naming the field (got $rc)"; sed 's/^/#   /' "$T/err"
        fi
}
bad unknown-syscall '.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["fly_to_moon"], "action": "SCMP_ACT_ERRNO"}]}' \
        '\$\.seccomp\.syscalls\[0\]\.names\[0\]: 1 syscall name libseccomp [0-9.]+ does not know, in rules that deny .*: fly_to_moon$'
bad unknown-action '.seccomp = {"defaultAction": "SCMP_ACT_SOMETIMES"}' '\$\.seccomp\.defaultAction: unknown action'
bad bad-comparison '.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 255, "valueTwo": 4096, "op": "SCMP_CMP_MASKED_EQ"}]}]}' \
        '\$\.seccomp\.syscalls\[0\]\.args\[0\]\.valueTwo: has bits outside the mask'
bad bad-op '.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}' \
        '\$\.seccomp\.syscalls\[0\]\.args\[0\]\.index: must be between 0 and 5'
bad unknown-capability '.capabilities = ["CAP_NET_BIND_SERVICE", "CAP_TIME_TRAVEL"]' '\$\.capabilities\[1\]: unknown capability "CAP_TIME_TRAVEL"'
bad landlock-relative-path '.landlock = {"fs": [{"path": "usr/lib", "access": ["read"]}]}' '\$\.landlock\.fs\[0\]\.path: must be an absolute normalised path'
bad landlock-access '.landlock = {"fs": [{"path": "/usr", "access": ["read", "chmod"]}]}' '\$\.landlock\.fs\[0\]\.access\[1\]: unknown access'
bad seccomp-profile-missing '.seccomp = {"profile": "/nonexistent/profile.json"}' '\$\.seccomp\.profile: cannot open /nonexistent/profile.json'

# --- the stock filter, compiled in at build time (make's SECCOMP_EMBED=1)
rm -rf "$CACHE"
srun -- $ESC --only userns_unshare
is "$(jget "$OUT" .result)" denied "no seccomp section: the built-in stock filter applies"
if nm "$SR" 2>/dev/null | grep -q ' seccomp_stock_embedded$'; then
        n=$(strace -f -e trace=seccomp "$SR" --policy "$TEST_POLICY" -- /bin/true 2>&1 | grep -c '^.*seccomp(')
        is "$n" 1 "stock filter: one seccomp(2) call in all (the load), libseccomp never runs"
        ok "$([ -z "$(ls "$CACHE/seccomp" 2>/dev/null)" ]; echo $?)" "stock filter: nothing is read from or stored in a cache"
else
        skip "this sealrun was built with SECCOMP_EMBED=0: the stock filter is compiled at run time"
        skip "this sealrun was built with SECCOMP_EMBED=0: the stock filter is compiled at run time"
fi

# --- the BPF cache, with a profile other than the compiled-in stock one
# (the stock profile's text from a file: same rules, compiled and cached)
entry() { ls "$CACHE/seccomp/"*.bpf 2>/dev/null | head -n 1; }
cp "$STOCK/seccomp-default.json" "$T/file-seccomp.json"
jq --arg p "$T/file-seccomp.json" '.seccomp = {"profile": $p}' "$TEST_POLICY" > "$T/file-profile.json"
rm -rf "$CACHE"
POLICY="$T/file-profile.json" srun -- $ESC --only userns_unshare
is "$(jget "$OUT" .result)" denied "a profile from a file applies (cache miss)"
if ! is_root; then
        # Every file an unprivileged caller owns is within its payloads' reach
        # (they run as its uid): no filter is ever read from or stored on disk.
        ok "$([ ! -e "$CACHE" ]; echo $?)" "unprivileged: no cache directory is made, the filter is compiled per launch"
else
        E=$(entry)
        ok "$([ -f "$E" ]; echo $?)" "the compiled filter is stored in the cache"
        is "$(stat -c '%a %u' "$E" 2>/dev/null)" "600 $(id -u)" "cache entry: mode 0600, owned by the caller"
        is "$(stat -c '%a' "$CACHE/seccomp")" 700 "cache directory: mode 0700"
        before=$(stat -c '%i %Y %s' "$E")
        sleep 1
        POLICY="$T/file-profile.json" srun -- $ESC --only userns_unshare
        is "$(jget "$OUT" .result)" denied "cache hit: the filter still applies"
        is "$(stat -c '%i %Y %s' "$E")" "$before" "cache hit: the entry is used as is (not rewritten)"
        # strace: make deps installs it
        n=$(strace -f -e trace=seccomp "$SR" --policy "$T/file-profile.json" -- /bin/true 2>&1 | grep -c '^.*seccomp(')
        is "$n" 1 "cache hit: one seccomp(2) call in all (the load), libseccomp never probes the kernel"

        # A corrupt entry is rebuilt, never trusted.
        size=$(stat -c %s "$E")
        printf 'garbage' >> "$E"
        POLICY="$T/file-profile.json" srun -- $ESC --only userns_unshare
        is "$(jget "$OUT" .result)" denied "corrupt entry: the filter still applies"
        is "$(stat -c %s "$E")" "$size" "corrupt entry: rebuilt"
        # Flip a byte inside the program (same size): the checksum catches it.
        printf '\377' | dd of="$E" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
        cp "$E" "$T/flipped"
        POLICY="$T/file-profile.json" srun -- $ESC --only userns_unshare
        is "$RC/$(jget "$OUT" .result)" 0/denied "entry with a flipped byte: launch works, filter applies"
        ok "$(cmp -s "$E" "$T/flipped"; [ $? -ne 0 ]; echo $?)" "entry with a flipped byte: rewritten"
        chmod 0644 "$E"
        POLICY="$T/file-profile.json" srun -- $ESC --only userns_unshare
        is "$(stat -c %a "$E")" 600 "entry with group/other bits: rebuilt with mode 0600"
        # A planted entry with the right checksum but another owner is not used.
        chown 65534 "$E"
        POLICY="$T/file-profile.json" srun -- /bin/true
        is "$(stat -c %u "$E")" 0 "entry owned by someone else: replaced by one of ours"
fi

# A cache reachable read-write from inside the sandbox (here also writable
# by others) is not used.
mkdir -p "$T/exposed" && chmod 0777 "$T/exposed"
SEALRUN_CACHE_DIR="$T/exposed/cache" "$SR" --policy "$TEST_POLICY" --bind "$T/exposed" /data -- /bin/true
is "$?" 0 "cache under a read-write bind: the launch works"
ok "$([ -z "$(ls "$T/exposed/cache/seccomp" 2>/dev/null)" ]; echo $?)" "cache under a read-write bind: nothing is stored or read there"
SEALRUN_CACHE_DIR=off "$SR" --policy "$TEST_POLICY" -- /bin/true
is "$?" 0 "SEALRUN_CACHE_DIR=off: compiled in memory, launch works"

# A profile file: {"profile": PATH}.
# The stock profile allows uname: take it out of the allow list, then deny it.
jq '.syscalls |= map(.names |= map(select(. != "uname"))) | .syscalls += [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]' \
        "$STOCK/seccomp-default.json" > "$T/profile.json"
POLICY=$(tpol with-profile ".seccomp = {\"profile\": \"$T/profile.json\"}"); srun -- /bin/uname; unset POLICY
is "$RC" 1 "a profile file is applied (uname denied)"
like "$ERR" "Permission denied" "the profile's errnoRet reaches the payload"

# --- capabilities
POLICY=$(tpol caps '.capabilities = ["CAP_NET_BIND_SERVICE"]'); srun -- /bin/sh -c 'grep ^Cap /proc/self/status'; unset POLICY
bit=$(printf '%016x' $((1 << 10)))
like "$OUT" "CapEff:[[:space:]]+$bit" "a kept capability is effective in the payload (uid 1000 inside)"
like "$OUT" "CapAmb:[[:space:]]+$bit" "... and ambient, so it survives execve"
like "$OUT" "CapBnd:[[:space:]]+$bit" "... and the bounding set holds nothing else"
srun -- /bin/sh -c 'grep ^Cap /proc/self/status'
is "$(printf '%s\n' "$OUT" | awk '{print $2}' | sort -u)" 0000000000000000 "default: every set is empty"

# --- Landlock at run time: what applies to this kernel's ABI (as sealrun negotiates it)
ABI=$(landlock_abi)
diag "Landlock ABI (as sealrun finds it): $ABI"
# fs rules below ABI 5 (3) leave device ioctls (truncate) open: refused unless accepted
POLICY=$(tpol ll-rights '.landlock = {"fs": [{"path": "/", "access": ["read", "write", "execute"]}]}'); srun -- /bin/true; unset POLICY
if [ "$ABI" -ge 5 ]; then
        is "$RC" 0 "fs rules on ABI $ABI (>= 5): every right is restricted, the launch goes on"
elif [ "$ABI" -ge 1 ]; then
        is "$RC/$(printf '%s' "$ERR" | grep -c 'needs Landlock ABI [35], the kernel has')" "77/1" \
           "fs rules on ABI $ABI (< 5) without fs_rights_optional: refused (77), naming the ABI"
else
        is "$RC" 77 "no Landlock in this kernel: a required section is refused (77)"
fi
POLICY=$(tpol ll-missing '.landlock = {"fs": [{"path": "/usr", "access": ["read", "execute"]}, {"path": "/opt/none", "access": ["read"]}], "fs_rights_optional": true}'); srun -- /bin/true; unset POLICY
is "$RC" 77 "a Landlock path missing in the sandbox: refused (77)"
if [ "$ABI" -ge 1 ]; then
        like "$ERR" '\$\.landlock\.fs\[1\]: /opt/none' "... naming the rule"
else
        like "$ERR" '\$\.landlock: the kernel has no Landlock' "... this kernel has no Landlock: the section is refused, named"
fi
is "$(jget "$STATUS" .refused)" landlock "status JSON: refused = landlock"
POLICY=$(tpol ll-opt '.landlock = {"fs": [{"path": "/usr", "access": ["read", "execute"]}, {"path": "/t", "access": ["read", "execute"]}, {"path": "/opt/none", "access": ["read"], "optional": true}], "fs_rights_optional": true}'); srun -- $ESC --only landlock_path; unset POLICY
if [ "$ABI" -ge 1 ]; then
        is "$RC/$(jget "$OUT" .result)" 0/denied "optional missing path: the launch goes on, Landlock enforced"
        like "$(jget "$STATUS" '.not_enforced | join(";")')" 'landlock\.fs\[2\]: /opt/none does not exist' "status JSON: not_enforced names the skipped rule"
else
        is "$RC" 77 "no Landlock in this kernel: a required section is refused (77)"
        is "$(jget "$STATUS" .refused)" landlock "status JSON: refused = landlock"
fi
POLICY=$(tpol ll-net '.landlock = {"net": {"bind": [4243]}}'); srun -- $ESC --only landlock_bind,landlock_connect; unset POLICY
if [ "$ABI" -ge 4 ]; then
        is "$(jget "$OUT" '.result' | tr '\n' ' ')" "allowed denied " "Landlock net: the granted port binds, connect elsewhere is denied"
elif [ "$ABI" -ge 1 ]; then
        like "$RC $ERR" "^77 .*TCP port rules need Landlock ABI 4, the kernel has $ABI" "Landlock ABI $ABI < 4: port rules are refused (77), naming the ABI"
else
        like "$RC $ERR" '^77 .*the kernel has no Landlock' "no Landlock in this kernel: port rules are refused (77)"
fi
