#!/bin/sh
# Integration tier: prove integration/t-*.sh as the current user (root in CI),
# then again as an unprivileged user with the binaries staged where it can
# reach them (CI's clone may live under /root).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
USER_NAME=${SEALRUN_TEST_USER:-sealrun-test}
TESTS=${TESTS:-$(cd "$SRC" && ls integration/t-*.sh)}
rc=0

echo "== integration tests as $(id -un) (uid $(id -u))"
(cd "$SRC" && SEALRUN_SRC="$SRC" SEALRUN_BUILD="$BUILD" prove --timer $TESTS) || rc=1

# The sanitizer build of sealrun (ASan+UBSan) through the core tests.
if [ -x "$BUILD/san/sealrun" ]; then
        echo "== integration core tests with the ASan/UBSan build of sealrun"
        (cd "$SRC" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                SEALRUN_SR="$BUILD/san/sealrun" SEALRUN_SRC="$SRC" SEALRUN_BUILD="$BUILD" \
                prove --timer ${SAN_TESTS:-integration/t-sandbox.sh integration/t-exit.sh integration/t-badinput.sh integration/t-profile.sh integration/t-profile-refuse.sh}) || rc=1
fi

if [ "$(id -u)" -ne 0 ]; then
        echo "== not root: the unprivileged tier already ran above"
        exit $rc
fi
id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
STAGE=$(mktemp -d /tmp/sealrun-check.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
chmod 0755 "$STAGE"
mkdir -p "$STAGE/build" "$STAGE/policy" "$STAGE/tests"
for f in "$BUILD"/sealrun "$BUILD"/sealctl "$BUILD"/sealrun-*; do
        [ -f "$f" ] && cp "$f" "$STAGE/build/"
done
cp -r "$BUILD/integration" "$STAGE/build/integration"
cp -r "$SRC/policy/stock" "$STAGE/policy/stock"
cp -r "$SRC/integration" "$STAGE/integration"
cp -r "$SRC/systemd" "$STAGE/systemd"
[ -d "$SRC/tests/data" ] && cp -r "$SRC/tests/data" "$STAGE/tests/data"
chmod -R a+rX "$STAGE"
echo "== integration tests as $USER_NAME (unprivileged), staged in $STAGE"
(cd "$STAGE" && runuser -u "$USER_NAME" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp \
        SEALRUN_SRC="$STAGE" SEALRUN_BUILD="$STAGE/build" prove --timer $TESTS) || rc=1
exit $rc
