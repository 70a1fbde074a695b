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
        as_user() { runuser -u "$USER_NAME" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp LANG=C "$@"; }
        WHO="$USER_NAME (uid $(id -u "$USER_NAME"), dropped from root)"
else
        as_user() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp LANG=C "$@"; }
        WHO="$(id -un) (uid $(id -u))"
fi
cd "$STAGE"

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
