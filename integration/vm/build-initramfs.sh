#!/bin/sh
# Build the VM tier's initramfs: busybox-static, the built binaries with the
# shared libraries ldd names (merged-/usr layout, as the test policy expects),
# the unit tests that need a real cgroup v2, policies and /init.
# Usage: build-initramfs.sh BUILD_DIR SRC_DIR OUT.cpio.gz
set -eu
BUILD=$1 SRC=$2 OUT=$3
BUSYBOX=${BUSYBOX:-$(command -v busybox || true)}
[ -n "$BUSYBOX" ] && "$BUSYBOX" --list 2>/dev/null | grep -qx switch_root || { echo "build-initramfs: busybox-static needed" >&2; exit 2; }
case "$(file -b "$BUSYBOX" 2>/dev/null || echo static)" in *dynamic*) echo "build-initramfs: $BUSYBOX is not static" >&2; exit 2 ;; esac

R=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-vmroot.XXXXXX")
trap 'rm -rf "$R"' EXIT
mkdir -p "$R/usr/bin" "$R/usr/sbin" "$R/usr/lib/x86_64-linux-gnu" "$R/usr/lib64" "$R/usr/share/zoneinfo" \
         "$R/etc" "$R/mnt" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/run" "$R/root" "$R/vm/bin" "$R/vm/policies" "$R/vm/modules"
for l in bin sbin lib lib64; do ln -s "usr/$l" "$R/$l"; done
cp "$BUSYBOX" "$R/usr/bin/busybox"
for a in $("$BUSYBOX" --list); do
        [ "$a" = busybox ] || ln -sf busybox "$R/usr/bin/$a"
done

# A binary and every library it loads, each under /usr (merged /usr).
add_bin() { # SRC DEST
        cp "$1" "$R$2"
        ldd "$1" 2>/dev/null | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}' | while read -r lib; do
                [ -f "$lib" ] || continue
                case "$lib" in
                /lib64/*|/usr/lib64/*) dst=/usr/lib64/$(basename "$lib") ;;
                *) dst=/usr/lib/x86_64-linux-gnu/$(basename "$lib") ;;
                esac
                [ -f "$R$dst" ] || cp -L "$lib" "$R$dst"
        done
}
add_bin "$BUILD/sealrun" /usr/bin/sealrun
add_bin "$BUILD/integration/hog" /vm/bin/hog
add_bin "$BUILD/integration/probe" /vm/bin/probe
add_bin "$BUILD/integration/escape" /vm/bin/escape
add_bin "$BUILD/integration/noclone3" /vm/bin/noclone3
for t in test_cgroup test_slots; do
        [ -x "$BUILD/tests/$t" ] && add_bin "$BUILD/tests/$t" "/vm/bin/$t"
done

# Swap for the memory.swap.max test: zram, if this kernel's modules are here.
KVER=${KVER:-}
if [ -n "$KVER" ]; then
        for m in mm/zsmalloc.ko drivers/block/zram/zram.ko; do
                f=/lib/modules/$KVER/kernel/$m
                [ -f "$f" ] && cp "$f" "$R/vm/modules/"
        done
fi

# Policies: the integration test policy with limits merged in.
TP=$SRC/integration/policies/test.json
pol() { jq --argjson l "$2" '.limits += $l' "$TP" > "$R/vm/policies/$1.json"; }
cp "$TP" "$R/vm/policies/plain.json"
jq '.seccomp = {"defaultAction": "SCMP_ACT_ALLOW"}' "$TP" > "$R/vm/policies/noseccomp.json"
pol mem '{"memory":"64M"}'
pol pids '{"pids":32}'
pol cpu '{"cpu":0.5}'
pol swap0 '{"memory":"48M"}'
pol swapok '{"memory":"48M","swap":"256M"}'
pol timeout '{"kill_grace_ms":200}'
pol req '{"memory":"64M","pids":64}'
pol opt '{"memory":"64M","optional":["memory"]}'

printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$R/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "$R/etc/group"
cp "$SRC/integration/vm/init" "$R/init"
chmod 0755 "$R" "$R/init"     # mktemp made the root 0700: the sandbox's host uid must traverse it
chmod 1777 "$R/tmp"
if command -v cpio >/dev/null 2>&1; then CPIO="cpio --quiet"; else CPIO="$BUSYBOX cpio"; fi
(cd "$R" && find . | sort | $CPIO -o -H newc -R 0:0) | gzip -1 > "$OUT"
