# Shared helpers for the integration tests (TAP, run by prove).
# Environment: SEALRUN_BUILD (dir with the binaries), SEALRUN_SRC (source tree).
set -u
: "${SEALRUN_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SEALRUN_BUILD:=$SEALRUN_SRC/build}"
SR="${SEALRUN_SR:-$SEALRUN_BUILD/sealrun}"   # SEALRUN_SR: the sanitizer build in make check
SEALCTL="$SEALRUN_BUILD/sealctl"
AUDITD="$SEALRUN_BUILD/sealrun-auditd"
IBIN="$SEALRUN_BUILD/integration"
PROBE="$IBIN/probe"
POLICIES="$SEALRUN_SRC/integration/policies"
TEST_POLICY="$POLICIES/test.json"
STOCK="$SEALRUN_SRC/policy/stock"

T=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-t.XXXXXX")
# Searchable (not listable) by others: as root, bind sources are opened with
# the sandbox's host uid, which must reach the fixtures below $T.
chmod 0711 "$T"
# The seccomp BPF cache of this test run (root would use /var/cache/sealrun).
: "${SEALRUN_CACHE_DIR:=$T/cache}"
export SEALRUN_CACHE_DIR
# As root, tenants' host id blocks are recorded here, never in /var/lib/sealrun.
: "${SEALRUN_TENANT_IDS:=$T/tenant-ids}"
export SEALRUN_TENANT_IDS
# Root's audit spool of this test run (root would use /var/lib/sealrun/spool).
: "${SEALRUN_AUDIT_SPOOL:=$T/spool}"
export SEALRUN_AUDIT_SPOOL
_tap_n=0
_tap_fail=0
_cleanup_hooks=""
cleanup() {
        for h in $_cleanup_hooks; do "$h" || true; done
        rm -rf "$T"
}
trap cleanup EXIT
on_exit() { _cleanup_hooks="$_cleanup_hooks $1"; }

plan() { echo "1..$1"; }
ok() { # ok COND-EXIT-STATUS DESCRIPTION
        _tap_n=$((_tap_n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"; else echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
}
is() { # is GOT WANT DESCRIPTION
        if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '$1'"; echo "#  want: '$2'"; fi
}
like() { # like GOT REGEX DESCRIPTION
        if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '$1'"; echo "#  want match: '$2'"; fi
}
unlike() {
        if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; echo "#   got: '$1'"; echo "#  must not match: '$2'"; else ok 0 "$3"; fi
}
# skip REASON [WHAT]: only for a documented host limit; make check counts the
# reasons (SEALRUN_SKIP_LOG: TIER<TAB>TEST<TAB>REASON lines, see integration/run.sh).
skip() {
        _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # skip ${2:+$2: }$1"
        if [ -n "${SEALRUN_SKIP_LOG:-}" ]; then
                printf '%s\t%s\t%s\n' "${SEALRUN_TIER:-$(id -un)}" "$(basename "$0")" "$1" >> "$SEALRUN_SKIP_LOG"
        fi
}
diag() { echo "# $*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }
# As root, bind sources are opened with the sandbox's (unprivileged) host ids:
# a clone under /root (0700, as in CI) is out of their reach, so the built
# binaries (bound at /t, or binding their own directory like the leak test)
# are copied below $T (0711) for the root tier.
if is_root && ! { command -v setpriv >/dev/null 2>&1 &&
        setpriv --reuid 65534 --regid 65534 --clear-groups test -x "$IBIN/probe" 2>/dev/null; }; then
        mkdir -m 0755 "$T/build" && cp -r "$IBIN" "$T/build/integration" &&
                for f in "$SEALRUN_BUILD"/sealrun "$SEALRUN_BUILD"/sealctl "$SEALRUN_BUILD"/sealrun-*; do
                        [ -f "$f" ] && cp "$f" "$T/build/"
                done
        # the stock policies by name: found next to the binary's directory
        # (policy_stock_path: <exe dir>/../policy/stock) when not installed
        # (and read by the pool's user: STOCK names the copy)
        mkdir -p "$T/policy" && cp -r "$SEALRUN_SRC/policy/stock" "$T/policy/stock" && STOCK="$T/policy/stock"
        chmod -R a+rX "$T/build" "$T/policy"
        [ "$SR" = "$SEALRUN_BUILD/sealrun" ] && SR="$T/build/sealrun"
        SEALRUN_BUILD="$T/build"; export SEALRUN_BUILD
        SEALCTL="$SEALRUN_BUILD/sealctl"; AUDITD="$SEALRUN_BUILD/sealrun-auditd"
        IBIN="$SEALRUN_BUILD/integration"; PROBE="$IBIN/probe"
fi
# landlock_abi: the kernel's Landlock ABI as sealrun finds it (0: none; 6: 6 or
# more), read from the notes an all-optional section leaves in not_enforced
# (the launcher's own negotiation), not assumed from this machine.
landlock_abi() {
        jq '.landlock = {"fs": [{"path": "/", "access": ["read", "execute"]}], "net": {"bind": [1]},
                "scope": {"signal": true}, "optional": true}' "$TEST_POLICY" > "$T/ll-abi.json"
        _ne=$("$SR" --policy "$T/ll-abi.json" --status-fd 3 -- /bin/true 3>&1 >/dev/null 2>&1 | tail -n 1 | jq -r '.not_enforced[]?')
        case "$_ne" in *"landlock: not available"*) echo 0; return ;; esac
        _n=$(printf '%s\n' "$_ne" | sed -n 's/.*kernel Landlock ABI \([0-9]*\).*/\1/p' | head -n 1)
        echo "${_n:-6}"
}
# Mounts in the caller's namespace, "MOUNTPOINT FSTYPE SOURCE" sorted. Other
# jobs on the host mount and unmount too, so a count proves nothing: compare
# with new_mounts, which keeps only what this test's sealrun could have left
# (a source named sealrun-*, or a mount point under this test's directory).
mounts_snapshot() { awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 2) }' /proc/self/mountinfo | sort; }
new_mounts() { # new_mounts SNAPSHOT-FILE
        mounts_snapshot | comm -13 "$1" - | awk -v t="$T" 'index($1, t) == 1 || $3 ~ /^sealrun/'
}
# jget FILE-OR-STRING JQ-FILTER
jget() { printf '%s' "$1" | jq -r "$2" 2>/dev/null; }

# Run sealrun with the test policy and the integration binaries bound at /t.
# Sets: OUT (stdout), ERR (stderr), RC, STATUS (last status JSON line).
srun() {
        : > "$T/out"; : > "$T/err"; : > "$T/status"
        "$SR" --policy "${POLICY:-$TEST_POLICY}" --status-fd 9 --ro-bind "$IBIN" /t "$@" >"$T/out" 2>"$T/err" 9>"$T/status"
        RC=$?
        OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); STATUS=$(tail -n 1 "$T/status")
        return 0
}
