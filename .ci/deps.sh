#!/bin/sh
# make deps: install the Debian packages the build, the tests, the VM tier and
# the benchmarks need (python3, git, curl, nodejs: what t-agent runs under the
# agent policy; python3-pip: t-egress-tools; strace: t-confine; clang-format-14: make lint; python3-jsonschema:
# t-schema); does nothing when they are all present.
set -eu
PKGS="gcc make pkg-config libc6-dev libseccomp-dev libcap-dev libsodium-dev libnl-3-dev libnl-route-3-dev
libjansson-dev libcmocka-dev jq perl util-linux procps passwd iproute2 clang libclang-rt-14-dev
hyperfine bubblewrap systemd qemu-system-x86 linux-image-amd64 busybox-static cpio mmdebstrap
python3 python3-pip git curl nodejs strace python3-requests openssl libssl-dev clang-format-14 python3-jsonschema"
missing=""
for p in $PKGS; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$st" in *"ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
        echo "make deps: missing Debian packages:$missing (run 'make deps' as root)" >&2
        exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
