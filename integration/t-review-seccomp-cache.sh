#!/bin/sh
# Seccomp BPF cache poisoning: a payload with $HOME, every $XDG_* directory
# and $SEALRUN_CACHE_DIR bound read-write plants a valid-looking RET ALLOW
# entry wherever a filter cache could live (and overwrites every file there
# with one); the next stock launch must still deny unshare(CLONE_NEWUSER).
. "$(dirname "$0")/lib.sh"
plan 9
ESC=/t/escape

# What an attacker needs to name the stock filter's cache entry is public:
# libseccomp's version (the library sealrun loads), the native audit
# architecture, the kernel and the stock profile's text.
lib=$(ldd "$SR" 2>/dev/null | awk '/libseccomp/ { print $3 }')
libver=$(readlink -f "$lib" | sed -n 's/.*libseccomp\.so\.\([0-9]*\.[0-9]*\.[0-9]*\)$/\1/p')
case "$(uname -m)" in
x86_64) native=3221225534 ;;   # AUDIT_ARCH_X86_64
aarch64) native=3221225655 ;;  # AUDIT_ARCH_AARCH64
*) native=0 ;;
esac
stock_len=$(wc -c < "$STOCK/seccomp-default.json")
KEY=$({ printf 'sealrun-seccomp/1 libseccomp %s native %s kernel %s %s\nbuiltin %s\n' \
        "$libver" "$native" "$(uname -r)" "$(uname -v)" "$stock_len"; cat "$STOCK/seccomp-default.json"; } |
        b2sum -l 256 | cut -c1-64)

# The attack, run inside the sandbox: mkentry KEY FILE writes a cache entry
# (magic, key, one instruction, flags 0, unkeyed BLAKE2b-256 checksum) whose
# program is RET ALLOW.
mkdir -p "$T/attack"
cat > "$T/attack/poison.sh" <<'EOF'
set -u
mkentry() {
        { printf 'SRBPF02\n'; printf %s "$1" | xxd -r -p; printf '\001\000\000\000\000\000\000\000'; } > /tmp/hdr
        printf '\006\000\000\000\000\000\377\177' > /tmp/prog
        sum=$(cat /tmp/hdr /tmp/prog | b2sum -l 256 | cut -c1-64)
        { cat /tmp/hdr; printf %s "$sum" | xxd -r -p; cat /tmp/prog; } > "$2.new" && chmod 0600 "$2.new" && mv -f "$2.new" "$2"
}
root=$1 key=$2 n=0
# every file already there, keyed by its own name when it looks like an entry
for f in $(find "$root" -type f); do
        k=$(basename "$f" .bpf)
        printf %s "$k" | grep -Eq '^[0-9a-f]{64}$' || k=$key
        mkentry "$k" "$f" && n=$((n + 1))
done
# and the stock filter's entry wherever a cache could be looked up
for d in home/.cache/sealrun/seccomp xdg/cache/sealrun/seccomp xdg/runtime/sealrun/seccomp cache/seccomp; do
        mkdir -p "$root/$d" && chmod 0700 "$root/$d" && mkentry "$key" "$root/$d/$key.bpf" && n=$((n + 1))
done
echo "planted $n"
EOF

# The victim's environment: everything a cache location is derived from
# lives under $V (world-writable as root, where the payload is another uid).
V="$T/victim"
mkdir -p "$V/home" "$V/xdg/cache" "$V/xdg/config" "$V/xdg/data" "$V/xdg/state" "$V/xdg/runtime" "$V/cache"
chmod 0700 "$V/xdg/runtime"
if is_root; then chmod -R 0777 "$V"; chmod 0711 "$T"; fi
victim() { # victim COMMAND...: sealrun with the victim's environment
        HOME="$V/home" XDG_CACHE_HOME="$V/xdg/cache" XDG_CONFIG_HOME="$V/xdg/config" XDG_DATA_HOME="$V/xdg/data" \
                XDG_STATE_HOME="$V/xdg/state" XDG_RUNTIME_DIR="$V/xdg/runtime" SEALRUN_CACHE_DIR="$V/cache" "$@"
}
unshare_result() { jq -r 'select(.probe == "userns_unshare") | .result' "$1" 2>/dev/null; }

# Control: the probe succeeds where no filter denies it.
jq '.seccomp = {"defaultAction": "SCMP_ACT_ALLOW"}' "$TEST_POLICY" > "$T/allow.json"
victim "$SR" --policy "$T/allow.json" --ro-bind "$IBIN" /t -- $ESC --only userns_unshare > "$T/ctl.jsonl" 2> "$T/ctl.err"
is "$(unshare_result "$T/ctl.jsonl")" allowed "control: unshare(CLONE_NEWUSER) succeeds under an allow-all filter"

# A first stock launch, so that any cache the launcher keeps is warm.
victim "$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t -- $ESC --only userns_unshare > "$T/warm.jsonl" 2> "$T/warm.err"
is "$(unshare_result "$T/warm.jsonl")" denied "stock launch: unshare(CLONE_NEWUSER) denied"

# The attacker's key is the one the launcher uses (checked where a cache is
# trusted: root's own directory), so the planted entries are not mis-named.
# A build with the stock filter compiled in (make's default, SECCOMP_EMBED=1)
# never looks a stock filter up on disk at all.
if is_root && nm "$SR" 2>/dev/null | grep -q ' seccomp_stock_embedded$'; then
        mkdir -m 0700 "$T/rootcache"
        SEALRUN_CACHE_DIR="$T/rootcache" "$SR" --policy "$TEST_POLICY" -- /bin/true
        is "$(ls "$T/rootcache/seccomp" 2>/dev/null)" "" "root: the stock filter is compiled in, nothing is cached for it"
elif is_root; then
        mkdir -m 0700 "$T/rootcache"
        SEALRUN_CACHE_DIR="$T/rootcache" "$SR" --policy "$TEST_POLICY" -- /bin/true
        is "$(ls "$T/rootcache/seccomp" 2>/dev/null)" "$KEY.bpf" "root: the stock filter is cached under the key an attacker computes"
else
        stored=$(find "$V" -name '*.bpf' 2>/dev/null | head -n 3)
        is "$stored" "" "unprivileged: no filter was stored where a payload of this uid can write"
fi

# The attack: the payload sees the whole victim tree read-write.
victim "$SR" --policy "$TEST_POLICY" --ro-bind "$T/attack" /a --bind "$V" /v -- /bin/sh /a/poison.sh /v "$KEY" \
        > "$T/attack.out" 2> "$T/attack.err"
rc=$?
like "$(cat "$T/attack.out")" "^planted [1-9]" "the payload planted RET ALLOW entries (rc $rc)"
ok "$([ -f "$V/home/.cache/sealrun/seccomp/$KEY.bpf" ] && [ -f "$V/cache/seccomp/$KEY.bpf" ]; echo $?)" \
        "the planted entries are in place on the host"

# Next stock launches, in every way the victim might start one (as root the
# default location is /var/cache/sealrun: the test uses its own root-owned one).
if is_root; then DEFCACHE="SEALRUN_CACHE_DIR=$T/rootcache"; else DEFCACHE="-u SEALRUN_CACHE_DIR"; fi
next() { # next NAME PROBE ENV-ARGS...: the probe's result under the stock filter
        n=$1 p=$2
        shift 2
        # shellcheck disable=SC2086
        victim env "$@" "$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t -- $ESC --only "$p" > "$T/$n.jsonl" 2> "$T/$n.err"
        jq -r .result "$T/$n.jsonl" 2>/dev/null
}
is "$(next n1 userns_unshare)" denied "next stock launch (SEALRUN_CACHE_DIR in the victim tree): unshare denied"
# shellcheck disable=SC2086
is "$(next n2 userns_unshare $DEFCACHE)" denied "next stock launch (default cache location, \$XDG_CACHE_HOME): unshare denied"
# shellcheck disable=SC2086
is "$(next n3 userns_unshare -u XDG_CACHE_HOME $DEFCACHE)" denied "next stock launch (default cache location, ~/.cache): unshare denied"
# keyctl is in the same stock deny set: a second syscall through the same filter
# shellcheck disable=SC2086
is "$(next n4 keyctl $DEFCACHE)" denied "next stock launch: keyctl denied"
