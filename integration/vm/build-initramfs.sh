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

# Every library an object loads, and a binary with its libraries, each under
# /usr (merged /usr).
add_libs() { # OBJECT
        ldd "$1" 2>/dev/null | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}' | while read -r lib; do
                [ -f "$lib" ] || continue
                case "$lib" in
                /lib64/*|/usr/lib64/*) dst=/usr/lib64/$(basename "$lib") ;;
                *) dst=/usr/lib/x86_64-linux-gnu/$(basename "$lib") ;;
                esac
                [ -f "$R$dst" ] || cp -L "$lib" "$R$dst"
        done
}
add_bin() { # SRC DEST
        cp "$1" "$R$2"
        add_libs "$1"
}
add_bin "$BUILD/sealrun" /usr/bin/sealrun
# the TLS broker embedded in sealrun loads OpenSSL (launcher/tls.h)
[ ! -f "$BUILD/sealrun-tls.so" ] || add_libs "$BUILD/sealrun-tls.so"
add_bin "$BUILD/integration/hog" /vm/bin/hog
add_bin "$BUILD/integration/probe" /vm/bin/probe
add_bin "$BUILD/integration/escape" /vm/bin/escape
add_bin "$BUILD/integration/noclone3" /vm/bin/noclone3
add_bin "$BUILD/integration/egress_escape" /vm/bin/egress_escape
add_bin "$BUILD/integration/vmhttp" /vm/bin/vmhttp
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

# Network mode "proxy" and brokered credentials (docs/network.md): a test CA
# and a server certificate for api.test and other.test, a sealed profile whose
# API_TOKEN is bound to api.test:8443 (pinned to 127.0.0.1, the test CA in the
# binding), the issuer's public key, the pool key and the secret (to compare
# with what the server receives). Ports 8080 (HTTP) and 8443 (HTTPS) on the
# VM's own loopback.
B=$R/vm/broker
mkdir -p "$B" "$R/vm/ca"  # /vm/ca is bound into sandboxes; /vm/broker is not
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=sealrun-vm-ca \
        -keyout "$B/ca.key" -out "$B/ca.pem" 2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=api.test \
        -keyout "$B/srv.key" -out "$B/srv.csr" 2>/dev/null &&
printf 'subjectAltName=DNS:api.test,DNS:other.test\n' > "$B/ext" &&
openssl x509 -req -in "$B/srv.csr" -CA "$B/ca.pem" -CAkey "$B/ca.key" -CAcreateserial -days 2 \
        -extfile "$B/ext" -out "$B/srv.pem" 2>/dev/null || { echo "build-initramfs: openssl failed" >&2; exit 1; }
rm -f "$B/ca.key" "$B/srv.csr" "$B/ext" "$B/ca.srl"
mv "$B/ca.pem" "$B/srv.pem" "$B/srv.key" "$R/vm/ca/"
head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/sk-vm-/' > "$B/secret"
"$BUILD/sealctl" keygen --issuer --out "$B/issuer" >/dev/null 2>&1 &&
"$BUILD/sealctl" keygen --pool --out "$B/pool" >/dev/null 2>&1 &&
jq -n --rawfile v "$B/secret" --rawfile ca "$R/vm/ca/ca.pem" '{tenant: "acme", credentials: [
  {name: "API_TOKEN", value: $v, as: "env", bind: {hosts: ["api.test"], port: 8443, inject: "bearer",
   resolve: {"api.test": ["127.0.0.1"]}, ca_pem: $ca}}]}' |
        "$BUILD/sealctl" seal --tenant acme --profile vm --version 1 --not-after +6h --to "$B/pool.pub" \
                --sign "$B/issuer.key" --in - --out "$B/acme.sealed" >/dev/null 2>&1 ||
        { echo "build-initramfs: sealctl failed" >&2; exit 1; }
rm -f "$B/issuer.key"
chmod 0600 "$B/pool.key" "$B/secret"; chmod 0644 "$B/issuer.pub"
# proxy: api.test by name (a resolve pin; loopback needs the CIDR rule)
EG='{"mode": "proxy", "egress": {"allow": [{"host": "api.test", "ports": [8080, 8443]},
  {"host": "127.0.0.1/32", "ports": [8080, 8443]}], "resolve": {"api.test": ["127.0.0.1"]},
  "limits": {"connections": 8, "connect_timeout_ms": 3000, "header_timeout_ms": 3000}}}'
jq --argjson n "$EG" '.network = $n' "$TP" > "$R/vm/policies/proxy.json"
# the same with Landlock TCP rules (ABI 4) and signal scoping (ABI 6), required and optional
jq '.landlock = {"net": {"connect": [443]}}' "$R/vm/policies/proxy.json" > "$R/vm/policies/proxy-llnet.json"
jq '.landlock = {"net": {"connect": [443], "optional": true}}' "$R/vm/policies/proxy.json" > "$R/vm/policies/proxy-llnet-opt.json"
jq '.landlock = {"scope": {"signal": true}}' "$R/vm/policies/proxy.json" > "$R/vm/policies/proxy-scope.json"
jq '.landlock = {"scope": {"signal": true, "optional": true}}' "$R/vm/policies/proxy.json" > "$R/vm/policies/proxy-scope-opt.json"
jq '.landlock = {"fs": [{"path": "/", "access": ["read", "execute"]}], "net": {"bind": [1]},
    "scope": {"signal": true}, "optional": true}' "$TP" > "$R/vm/policies/ll-abi.json"
# brokered: api.test bound (its pin and CA come from the binding), other.test
# unbound (the policy's pin; the test CA as the policy's trust store)
jq '.network = {"mode": "proxy", "egress": {"allow": [{"host": "api.test", "ports": [8443]},
      {"host": "other.test", "ports": [8443]}, {"host": "127.0.0.1/32", "ports": [8443]}],
      "resolve": {"other.test": ["127.0.0.1"]}, "trust_store": "/vm/ca/ca.pem",
      "limits": {"connections": 8, "connect_timeout_ms": 3000, "header_timeout_ms": 3000}}}
  | .credentials = {"allow_env": true, "trusted_issuers": ["/vm/broker/issuer.pub"]}' "$TP" > "$R/vm/policies/broker.json"

printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$R/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "$R/etc/group"
cp "$SRC/integration/vm/init" "$R/init"
chmod 0755 "$R" "$R/init"     # mktemp made the root 0700: the sandbox's host uid must traverse it
chmod 1777 "$R/tmp"
if command -v cpio >/dev/null 2>&1; then CPIO="cpio --quiet"; else CPIO="$BUSYBOX cpio"; fi
(cd "$R" && find . | sort | $CPIO -o -H newc -R 0:0) | gzip -1 > "$OUT"
