#!/bin/sh
# make bench: launch cost of sealrun vs bubblewrap vs unshare(1), running
# /bin/true as an unprivileged user, measured in one hyperfine run.
# Not a timed test: it prints medians and ratios and fails only when a
# command does not work. Knobs: BENCH_RUNS (default 200), BENCH_WARMUP (20),
# SEALRUN_TEST_USER (default sealrun-test), BUILD (default ./build).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
USER_NAME=${SEALRUN_TEST_USER:-sealrun-test}
RUNS=${BENCH_RUNS:-200}
WARMUP=${BENCH_WARMUP:-20}

for tool in hyperfine jq bwrap unshare; do
        command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is not installed (make deps installs it)" >&2; exit 1; }
done
[ -x "$BUILD/sealrun" ] || { echo "bench: $BUILD/sealrun is missing (run make first)" >&2; exit 1; }

# Stage the binary and the policy where the unprivileged user can read them
# (the source tree may live under /root), as integration/run.sh does.
STAGE=$(mktemp -d /tmp/sealrun-bench.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
trap 'exit 130' INT TERM
chmod 0755 "$STAGE"
mkdir -p "$STAGE/build" "$STAGE/policy" "$STAGE/out"
cp "$BUILD/sealrun" "$STAGE/build/sealrun"
cp "$SRC/policy/stock/default.json" "$STAGE/policy/default.json"
chmod -R a+rX "$STAGE"

if [ "$(id -u)" -eq 0 ]; then
        id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
        chown "$USER_NAME" "$STAGE/out"
        as_user() { runuser -u "$USER_NAME" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp LANG=C \
                SEALRUN_CACHE_DIR="$STAGE/out/cache" "$@"; }
        WHO="$USER_NAME (uid $(id -u "$USER_NAME"), dropped from root)"
else
        as_user() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp LANG=C SEALRUN_CACHE_DIR="$STAGE/out/cache" "$@"; }
        WHO="$(id -un) (uid $(id -u))"
fi
cd "$STAGE"

# A pool user's seccomp cache lives in ~/.cache/sealrun; HOME here is the
# root-owned stage, so the cache goes to a directory the user owns.
# Equal isolation: every namespace, a read-only /usr with the usual symlinks,
# fresh /proc, minimal /dev, tmpfs /tmp and home, the loader cache.
SEALRUN_CMD="$STAGE/build/sealrun --policy $STAGE/policy/default.json -- /bin/true"
BWRAP_CMD="bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp --tmpfs /home/sandbox --ro-bind /etc/ld.so.cache /etc/ld.so.cache /bin/true"
UNSHARE_CMD="unshare -Urmpfn --ipc --uts /bin/true"

# Each must work as the user before it is timed.
fail=0
for c in "$SEALRUN_CMD" "$BWRAP_CMD" "$UNSHARE_CMD"; do
        # shellcheck disable=SC2086
        if ! as_user $c >"$STAGE/out/check" 2>&1; then
                echo "bench: does not run as $WHO: $c" >&2
                sed 's/^/bench:   /' "$STAGE/out/check" >&2
                fail=1
        fi
done
[ "$fail" -eq 0 ] || exit 1

echo "== make bench: /bin/true as $WHO; $(hyperfine --version); kernel $(uname -r); $(nproc) cpus"
echo "== $RUNS runs each after $WARMUP warm-up runs, no shell (hyperfine -N)"
as_user hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
        --export-json "$STAGE/out/bench.json" \
        -n sealrun "$SEALRUN_CMD" -n bwrap "$BWRAP_CMD" -n unshare "$UNSHARE_CMD"

echo
echo "== summary (median wall time per launch; ratio = median / other median)"
jq -r '
  def ms: . * 1000 * 1000 | round / 1000;
  (.results | map({key: .command, value: .}) | from_entries) as $r
  | ($r.sealrun.median) as $s | ($r.bwrap.median) as $b | ($r.unshare.median) as $u
  | (.results[] | "  \(.command | . + "         " | .[0:9]) median \(.median | ms) ms   mean \(.mean | ms) ms ± \(.stddev | ms) ms   min \(.min | ms) ms"),
    "  sealrun / bwrap   = \($s / $b * 100 | round / 100)x",
    "  sealrun / unshare = \($s / $u * 100 | round / 100)x",
    "  bwrap / unshare   = \($b / $u * 100 | round / 100)x",
    "  goal of issue 3 (sealrun <= 1.0x bwrap): \(if $s <= $b then "met" else "NOT met" end)"
' "$STAGE/out/bench.json"

# The seccomp cache (issue 6): the same launch with the compiled filter taken
# from the cache, and with the cache off so libseccomp compiles it each time;
# once with the stock profile (an allow list, ~440 rules) and once with an
# allow-list profile of every x86_64 syscall but the stock profile's denied
# ones (~300 rules, the size of Docker's default), built here from the headers.
seccomp_bench() { # NAME POLICY
        hit="env SEALRUN_CACHE_DIR=$STAGE/out/cache $STAGE/build/sealrun --policy $2 -- /bin/true"
        compile="env SEALRUN_CACHE_DIR=off $STAGE/build/sealrun --policy $2 -- /bin/true"
        # shellcheck disable=SC2086
        as_user $hit >/dev/null 2>&1 || { echo "bench: seccomp $1 does not run: $hit" >&2; return 1; }
        echo
        echo "== seccomp filter, $1: cache hit vs compiled on every launch ($RUNS runs each)"
        as_user hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
                --export-json "$STAGE/out/bench-seccomp.json" -n cache-hit "$hit" -n compile "$compile" >/dev/null
        jq -r '
          def ms: . * 1000 * 1000 | round / 1000;
          (.results | map({key: .command, value: .}) | from_entries) as $r
          | (.results[] | "  \(.command | . + "          " | .[0:10]) median \(.median | ms) ms   mean \(.mean | ms) ms ± \(.stddev | ms) ms   user+sys \((.user + .system) | ms) ms"),
            "  the cache saves \(($r.compile.median - $r["cache-hit"].median) | ms) ms per launch (median), \((($r.compile.user + $r.compile.system) - ($r["cache-hit"].user + $r["cache-hit"].system)) | ms) ms of CPU"
        ' "$STAGE/out/bench-seccomp.json"
}
seccomp_bench "stock profile" "$STAGE/policy/default.json"
UNISTD=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
if [ -r "$UNISTD" ]; then
        awk '$1 == "#define" && $2 ~ /^__NR_/ { sub("__NR_", "", $2); print $2 }' "$UNISTD" |
                jq -R -s --slurpfile stock "$SRC/policy/stock/seccomp-default.json" '
                  ([$stock[0].syscalls[] | select(.action != "SCMP_ACT_ALLOW") | .names[]] - ["clone", "ioctl", "personality", "socket", "socketpair"]) as $deny
                  | {defaultAction: "SCMP_ACT_ERRNO", syscalls: [{names: ((split("\n") | map(select(length > 0))) - $deny), action: "SCMP_ACT_ALLOW"}]}' \
                > "$STAGE/policy/allowlist-seccomp.json"
        jq --arg p "$STAGE/policy/allowlist-seccomp.json" '.seccomp = {profile: $p}' "$STAGE/policy/default.json" > "$STAGE/policy/allowlist.json"
        chmod a+r "$STAGE/policy/"*.json
        seccomp_bench "allow-list profile ($(jq '.syscalls[0].names | length' "$STAGE/policy/allowlist-seccomp.json") rules)" "$STAGE/policy/allowlist.json"
fi
