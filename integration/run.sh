#!/bin/sh
# Integration tier: prove integration/t-*.sh as the current user (root in CI),
# then again as an unprivileged user with the binaries staged where it can
# reach them (CI's clone may live under /root). Ends with one line counting
# the skipped tests and their reasons (unit tests' too, under make check) and
# a closing "Result: PASS|FAIL" line.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
USER_NAME=${SEALRUN_TEST_USER:-sealrun-test}
TESTS=${TESTS:-$(cd "$SRC" && ls integration/t-*.sh)}
LOGS="$BUILD/check"
mkdir -p "$LOGS"
# make check sets SEALRUN_SKIP_LOG (the unit tests' skips are in it already);
# alone, this run starts a fresh one.
if [ -z "${SEALRUN_SKIP_LOG:-}" ]; then
        SEALRUN_SKIP_LOG="$LOGS/skips.log"
        : > "$SEALRUN_SKIP_LOG"
fi
export SEALRUN_SKIP_LOG
rc=0

# tprove LOG COMMAND...: run a prove, its output also in LOG; rc=1 when it fails
tprove() {
        _log=$1
        shift
        # set -e would end the left side at a failing prove before its rc is
        # written, and a stale 0 from an earlier run would then pass: keep the
        # status with ||, and never read an old file
        rm -f "$_log.rc"
        { _r=0; "$@" 2>&1 || _r=$?; echo "$_r" > "$_log.rc"; } | tee "$_log"
        [ "$(cat "$_log.rc" 2>/dev/null)" = 0 ] || rc=1
}

finish() {
        # One line: how many skips, by tier, and each reason once with its count.
        awk -F '\t' '
                { n++; tiers[$1]++; k = $3; c[k]++; if (index("," w[k] ",", "," $1 ",") == 0) w[k] = w[k] (w[k] == "" ? "" : ",") $1
                  if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
                END {
                        if (n == 0) { print "== skipped: 0"; exit }
                        t = ""; for (x in tiers) t = t (t == "" ? "" : ", ") x " " tiers[x]
                        r = ""; for (i = 1; i <= m; i++) r = r (i > 1 ? "; " : "") c[order[i]] "x " order[i] " [" w[order[i]] "]"
                        printf "== skipped: %d (%s): %s\n", n, t, r
                }' "$SEALRUN_SKIP_LOG"
        if [ $rc -eq 0 ]; then echo "Result: PASS"; else echo "Result: FAIL"; fi
        exit $rc
}

# clone_copy DIR: a copy of the clone with its build (timestamps kept, so make
# finds it up to date) for the README blocks that run make in the clone
# (t-docs.sh): what they write (leak.json, ...) never lands in this clone.
clone_copy() {
        mkdir -p "$1/build"
        (cd "$SRC" && tar -cf - --exclude=./build --exclude=./.git .) | tar -C "$1" -xpf -
        (cd "$BUILD" && tar -cf - obj integration ./*.a sealrun sealctl sealrun-*) | tar -C "$1/build" -xpf -
}
CLONE1=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-clone.XXXXXX")
STAGE=""
trap 'rm -rf "$CLONE1" ${STAGE:+"$STAGE"}' EXIT
clone_copy "$CLONE1"

echo "== integration tests as $(id -un) (uid $(id -u))"
tprove "$LOGS/prove-$(id -un).log" env -C "$SRC" SEALRUN_TIER="$(id -un)" SEALRUN_SRC="$SRC" SEALRUN_BUILD="$BUILD" \
        SEALRUN_CLONE="$CLONE1" prove --timer $TESTS

# The sanitizer build of sealrun (ASan+UBSan) through the core tests.
if [ -x "$BUILD/san/sealrun" ]; then
        echo "== integration core tests with the ASan/UBSan build of sealrun"
        tprove "$LOGS/prove-asan.log" env -C "$SRC" ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SEALRUN_TIER=asan \
                SEALRUN_SR="$BUILD/san/sealrun" SEALRUN_SRC="$SRC" SEALRUN_BUILD="$BUILD" \
                prove --timer ${SAN_TESTS:-integration/t-sandbox.sh integration/t-exit.sh integration/t-badinput.sh integration/t-profile.sh integration/t-profile-refuse.sh}
fi

if [ "$(id -u)" -ne 0 ]; then
        echo "== not root: the unprivileged tier already ran above"
        finish
fi
id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
# sealrun's first step is clone3(CLONE_NEWUSER); where the host forbids that to
# unprivileged users (kernel.unprivileged_userns_clone=0, AppArmor's
# restrict_unprivileged_userns, user.max_user_namespaces=0) the tier cannot run.
if ! runuser -u "$USER_NAME" -- unshare --user true 2>/dev/null; then
        why="this host does not let uid $(id -u "$USER_NAME") create user namespaces (kernel.unprivileged_userns_clone, AppArmor restrict_unprivileged_userns or user.max_user_namespaces)"
        echo "== unprivileged tier not run: $why"
        printf 'unprivileged\trun.sh\t%s\n' "$why" >> "$SEALRUN_SKIP_LOG"
        finish
fi
STAGE=$(mktemp -d /tmp/sealrun-check.XXXXXX)
chmod 0755 "$STAGE"
mkdir -p "$STAGE/build" "$STAGE/policy" "$STAGE/tests" "$STAGE/helpers/pool"
for f in "$BUILD"/sealrun "$BUILD"/sealctl "$BUILD"/sealrun-*; do
        [ -f "$f" ] && cp "$f" "$STAGE/build/"
done
cp -r "$BUILD/integration" "$STAGE/build/integration"
cp -r "$SRC/policy/stock" "$STAGE/policy/stock"
cp -r "$SRC/integration" "$STAGE/integration"
cp -r "$SRC/systemd" "$STAGE/systemd"
cp -r "$SRC/man" "$STAGE/man"
cp "$SRC/README.md" "$STAGE/README.md"
cp -r "$SRC/docs" "$STAGE/docs"
cp "$SRC/helpers/pool/sealrun-pool-init" "$STAGE/helpers/pool/"
[ -d "$SRC/tests/data" ] && cp -r "$SRC/tests/data" "$STAGE/tests/data"
clone_copy "$STAGE/clone"
chown -R "$USER_NAME" "$STAGE/clone"
: > "$STAGE/skips.log"
chmod -R a+rX "$STAGE"
chmod 0666 "$STAGE/skips.log"
echo "== integration tests as $USER_NAME (unprivileged), staged in $STAGE"
tprove "$LOGS/prove-unprivileged.log" env -C "$STAGE" runuser -u "$USER_NAME" -- env -i \
        PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp SEALRUN_TIER=unprivileged SEALRUN_SKIP_LOG="$STAGE/skips.log" \
        SEALRUN_CLONE="$STAGE/clone" \
        SEALRUN_SRC="$STAGE" SEALRUN_BUILD="$STAGE/build" prove --timer $TESTS
cat "$STAGE/skips.log" >> "$SEALRUN_SKIP_LOG"
finish
