#!/bin/sh
# Smoke of the VM tier (integration/vm/run.sh --smoke): a pure cgroup v2 VM under
# qemu/TCG proves CLONE_INTO_CGROUP, memory.max + OOM report, memory.swap.max
# and memory.oom.group settings, pids.max and cleanup, and network mode proxy
# with brokered credentials on Debian's 6.1 (an allowed and an unlisted name,
# the secret injected toward a TLS server in the VM, a misdirected placeholder
# refused). Built-in kernel features only (no modules). make deps installs
# qemu, the kernel and busybox-static, so "cannot run" is a failure, except
# for an unprivileged user where Debian's kernel image is readable by root only.
. "$(dirname "$0")/lib.sh"
out=$(BUILD="$SEALRUN_BUILD" VM_TIMEOUT=${VM_TIMEOUT:-300} sh "$SEALRUN_SRC/integration/vm/run.sh" --smoke 2>&1)
rc=$?
if [ $rc -eq 77 ]; then
        plan 1
        why=$(printf '%s\n' "$out" | tail -n 1)
        k=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
        if ! is_root && [ -n "$k" ] && [ ! -r "$k" ]; then
                skip "VM smoke: the kernel image $k is readable by root only (the root tier boots it)"
        else
                ok 1 "VM smoke cannot run: $why"
        fi
        exit 0
fi
# The VM's own TAP (its plan comes last), then why it failed if it did.
printf '%s\n' "$out" | grep -E '^(ok|not ok|1\.\.[0-9]+$|#)'
if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^1\.\.'; then
        echo "1..1"
        echo "not ok 1 - the VM smoke produced no TAP (run.sh exit $rc)"
fi
exit 0
