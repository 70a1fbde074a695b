#!/bin/sh
# VM tier: boot Debian's kernel under qemu (TCG) with a busybox initramfs that
# mounts a pure cgroup v2 hierarchy and runs the resource tests; the VM prints
# TAP on its serial console, this script prints it and exits 0 when all pass.
#   run.sh [--smoke]        env: BUILD, KERNEL, QEMU, VM_TIMEOUT, VM_LOG
# Exit: 0 pass, 1 fail, 77 cannot run here (no qemu, kernel or busybox-static).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-${SEALRUN_BUILD:-$SRC/build}}
TIER=full
[ "${1:-}" = --smoke ] && TIER=smoke
QEMU=${QEMU:-qemu-system-x86_64}
KERNEL=${KERNEL:-$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)}
VM_TIMEOUT=${VM_TIMEOUT:-600}

command -v "$QEMU" >/dev/null 2>&1 || { echo "vm: $QEMU not installed (make deps installs qemu-system-x86)"; exit 77; }
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || { echo "vm: no readable /boot/vmlinuz-*-amd64 (make deps installs linux-image-amd64)"; exit 77; }
[ -x "$BUILD/sealrun" ] && [ -x "$BUILD/sealctl" ] && [ -x "$BUILD/integration/hog" ] && [ -x "$BUILD/integration/vmhttp" ] || { echo "vm: build first (make all)"; exit 77; }
KVER=${KERNEL#*/vmlinuz-}

W=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-vm.XXXXXX")
trap 'rm -rf "$W"' EXIT
LOG=${VM_LOG:-$W/console.log}
KVER=$KVER sh "$SRC/integration/vm/build-initramfs.sh" "$BUILD" "$SRC" "$W/initramfs.cpio.gz" || { echo "vm: building the initramfs failed"; exit 1; }

t0=$(date +%s)
# KVM hangs on these hosts: TCG only. 2 vCPUs so cpu.max has something to cap.
timeout "$VM_TIMEOUT" "$QEMU" -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
        -kernel "$KERNEL" -initrd "$W/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet panic=-1 rdinit=/init sealrun.tier=$TIER" </dev/null >"$LOG" 2>&1
qrc=$?
t1=$(date +%s)

tr -d '\r' < "$LOG" | sed -n '/SEALRUN-TAP-BEGIN/,/SEALRUN-TAP-END/p' | grep -v 'SEALRUN-TAP-' > "$W/tap"
cat "$W/tap"
echo "# vm: tier $TIER, kernel $KVER, $((t1 - t0)) s, qemu exit $qrc"
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$W/tap")
passed=$(grep -c '^ok ' "$W/tap")
if [ -z "$planned" ] || [ "$passed" != "$planned" ] || grep -q '^not ok' "$W/tap"; then
        echo "# vm: FAILED ($passed ok of ${planned:-?} planned); console tail:"
        tr -d '\r' < "$LOG" | tail -n 40 | sed 's/^/#   /'
        exit 1
fi
exit 0
