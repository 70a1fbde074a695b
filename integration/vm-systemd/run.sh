#!/bin/sh
# VM tier (host side): a Debian rootfs with systemd as pid 1 under qemu TCG, the build installed, guest-test.sh's TAP checked.
#
#   integration/vm-systemd/run.sh        (as root; `make vm-check`)
#
# Steps: (1) a Debian bookworm minbase rootfs from mmdebstrap, packed once as
# a gzip cpio and cached in $BUILD/vm-cache/base-<hash of suite+packages>.cpio.gz;
# (2) `make install DESTDIR=` of this tree plus the test unit into a small
# second cpio (the kernel unpacks concatenated archives in order, so the
# base is never repacked); (3) boot the host's Debian kernel with /init
# (a bind-mount shim, see ./init) handing over to systemd; the test unit
# writes TAP to the second serial port (so kernel and systemd console output
# on ttyS0 never interleaves with it) and powers the VM off; (4) the TAP is
# printed and checked here. Exit 0 when every test passed.
#
# Environment: BUILD (build dir), VM_CACHE, VM_KERNEL (default: newest /boot/vmlinuz-*-amd64),
# VM_TIMEOUT (seconds, default 480), VM_KEEP=1 (keep the work directory), VM_REQUIRED=1
# (a missing tool is a failure, not a skip).
# Exit: 0 pass, 1 fail, 77 cannot run here (not root, no qemu, mmdebstrap or kernel).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$SRC/build}
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
CACHE=${VM_CACHE:-$BUILD/vm-cache}
SUITE=bookworm
# systemd as pid 1, the runtime libraries of the binaries, and what the guest test uses (jq, pgrep).
PKGS=systemd,systemd-sysv,udev,dbus,libseccomp2,libcap2,libsodium23,libnl-3-200,libnl-route-3-200,libjansson4,libssl3,jq,procps
TIMEOUT=${VM_TIMEOUT:-480}

skip_all() {     # exit 77: cannot run here (as integration/vm/run.sh)
        echo "vm-systemd: cannot run here: $*"
        [ "${VM_REQUIRED:-0}" = 1 ] && exit 1
        exit 77
}
[ "$(id -u)" -eq 0 ] || skip_all "needs root (mmdebstrap root mode, device nodes in the initramfs)"
for t in mmdebstrap qemu-system-x86_64 cpio gzip; do
        command -v "$t" >/dev/null || skip_all "$t is not installed"
done
KERNEL=${VM_KERNEL:-$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)}
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || skip_all "no readable /boot/vmlinuz-*-amd64 (install linux-image-amd64)"
[ -x "$BUILD/sealrun" ] || { echo "vm-systemd: $BUILD/sealrun is not built (make all)" >&2; exit 1; }

now() { date +%s; }
T0=$(now)
mkdir -p "$CACHE"
KEY=$(printf '%s\n' "$SUITE" minbase "$PKGS" "$(sha256sum < "$HERE/init")" | sha256sum | cut -c1-16)
BASE="$CACHE/base-$KEY.cpio.gz"
W=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-vm.XXXXXX")
cleanup() { [ "${VM_KEEP:-0}" = 1 ] && echo "# kept $W" || rm -rf "$W"; }
trap cleanup EXIT

# (1) the base rootfs, cached
if [ ! -s "$BASE" ]; then
        echo "# building the base rootfs: mmdebstrap --variant=minbase $SUITE (+$PKGS)"
        t=$(now)
        if ! mmdebstrap --quiet --variant=minbase --include="$PKGS" "$SUITE" "$W/rootfs.tar" >"$W/mmdebstrap.log" 2>&1; then
                sed 's/^/# /' "$W/mmdebstrap.log" | tail -n 20
                # An unreachable mirror is this host's limit (apt's own words); anything else is a failure.
                if grep -qE 'Temporary failure resolving|Could not resolve|Could not connect|Failed to fetch|Network is unreachable' "$W/mmdebstrap.log"; then
                        skip_all "mmdebstrap cannot reach the Debian mirror in /etc/apt/sources.list"
                fi
                echo "vm-systemd: mmdebstrap failed" >&2
                exit 1
        fi
        mkdir "$W/base"
        tar -C "$W/base" -xf "$W/rootfs.tar"
        rm -f "$W/rootfs.tar"
        (cd "$W/base" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$BASE.tmp"
        mv "$BASE.tmp" "$BASE"
        rm -rf "$W/base"
        find "$CACHE" -name 'base-*.cpio.gz' ! -name "base-$KEY.cpio.gz" -delete
        echo "# base rootfs cached in $(($(now) - t)) s: $BASE ($(du -h "$BASE" | cut -f1))"
else
        echo "# base rootfs from the cache: $BASE"
fi

# (2) this build, installed, plus the test unit and /init
O="$W/overlay"
mkdir -p "$O"
make -s -C "$SRC" install DESTDIR="$O" PREFIX=/usr/local BUILD="$BUILD" >"$W/install.log" 2>&1 ||
        { sed 's/^/# /' "$W/install.log"; echo "vm-systemd: make install failed" >&2; exit 1; }
install -m 0755 "$HERE/init" "$O/init"
install -D -m 0755 "$HERE/guest-test.sh" "$O/usr/local/libexec/sealrun-vmtest/guest-test.sh"
install -D -m 0644 "$HERE/sealrun-vmtest.service" "$O/etc/systemd/system/sealrun-vmtest.service"
mkdir -p "$O/etc/systemd/system/multi-user.target.wants"
ln -s ../sealrun-vmtest.service "$O/etc/systemd/system/multi-user.target.wants/sealrun-vmtest.service"
# A machine id, so that systemd does not run first-boot setup.
systemd-id128 new > "$O/etc/machine-id" 2>/dev/null || od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$O/etc/machine-id"
(cd "$O" && find . -print0 | cpio --null -o -H newc --quiet -R 0:0 | gzip -1) > "$W/overlay.cpio.gz"
cat "$BASE" "$W/overlay.cpio.gz" > "$W/initrd.cpio.gz"

# (3) boot: TCG (KVM hangs on these machines), console on ttyS0, TAP on ttyS1
echo "# booting $KERNEL under qemu TCG (timeout $TIMEOUT s)"
t=$(now)
: > "$W/tap.txt"
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nographic -no-reboot \
        -kernel "$KERNEL" -initrd "$W/initrd.cpio.gz" \
        -append 'console=ttyS0 quiet panic=-1 rdinit=/init systemd.unit=multi-user.target' \
        -serial mon:stdio -serial "file:$W/tap.txt" </dev/null >"$W/console.log" 2>&1
qrc=$?
set -e
echo "# VM ran $(($(now) - t)) s (qemu exit $qrc)"

# (4) the guest's TAP
tr -d '\r' < "$W/tap.txt" > "$W/tap.clean"
cat "$W/tap.clean"
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$W/tap.clean" | head -n 1)
pass=$(grep -c '^ok ' "$W/tap.clean" || true)
fail=$(grep -c '^not ok ' "$W/tap.clean" || true)
rc=0
if [ $qrc -eq 124 ]; then echo "# vm-systemd: the VM did not power off within $TIMEOUT s"; rc=1; fi
if [ -z "$plan" ]; then echo "# vm-systemd: no TAP plan from the guest"; rc=1
elif [ $((pass + fail)) -ne "$plan" ]; then echo "# vm-systemd: planned $plan tests, ran $((pass + fail))"; rc=1; fi
grep -q '^# vm-test done' "$W/tap.clean" || { echo "# vm-systemd: the guest test did not finish"; rc=1; }
[ "$fail" -eq 0 ] || rc=1
if [ $rc -ne 0 ]; then
        echo "# last lines of the VM console:"
        tail -n 40 "$W/console.log" | tr -d '\r' | sed 's/^/#   /'
fi
echo "# vm-systemd: $pass/${plan:-?} ok, $fail failed, $(($(now) - T0)) s in all"
exit $rc
