#!/bin/sh
# The sandbox as the payload sees it: pid, mount, user, uts, ipc, net namespaces, env, fds.
. "$(dirname "$0")/lib.sh"
plan 24

echo "host-secret-file" > "$T/hostfile"
srun --task sb1 --hostname box1 -- /t/probe info
is "$RC" 0 "probe runs (exit 0)"
INFO=$OUT
is "$(jget "$INFO" .pid)" 2 "payload is pid 2 of a new pid namespace (init is 1)"
is "$(jget "$INFO" '.proc_pids | sort | join(",")')" "1,2" "/proc lists only sandbox pids"
is "$(jget "$INFO" .uid)" 1000 "uid inside is the policy's 1000"
like "$(jget "$INFO" .uid_map)" "^ *1000 +$(is_root && echo 65534 || id -u) +1" "uid 1000 maps to $(is_root && echo nobody || echo the caller), one id"
is "$(jget "$INFO" .hostname)" box1 "--hostname sets the uts name"
is "$(jget "$INFO" '[.interfaces[] | select(.up) | .name] | join(",")')" lo "only loopback is up (network none)"
is "$(jget "$INFO" '.fds | length')" 0 "no fd above 2 reaches the payload"
is "$(jget "$INFO" '[.env[] | select(startswith("PATH=") or startswith("HOME=") or startswith("USER=") or startswith("TMPDIR=") or startswith("TERM=") or startswith("LANG=") | not)] | length')" 0 "environment holds only declared names"
unlike "$(jget "$INFO" '.env | join(" ")')" "SEALRUN_BUILD|SEALRUN_SRC" "caller's other variables do not pass"
like "$(jget "$INFO" .status)" "CapEff:[[:space:]]+0000000000000000" "no effective capabilities"
is "$(jget "$INFO" '.sid == .pid')" true "payload runs in a new session"

srun -- /t/probe exists "$T/hostfile"
is "$RC" 1 "a host file outside the binds is absent"
srun -- /t/probe write /usr/sealrun-probe
is "$RC" 1 "read-only bind /usr refuses writes"
srun -- /t/probe write /etc/passwd
is "$RC" 1 "the sandbox root is read-only"
srun -- /t/probe write /tmp/x
is "$RC" 0 "tmpfs /tmp is writable"
mkdir "$T/rw" && chmod 0777 "$T/rw"   # as root the sandbox is nobody on the host
srun --bind "$T/rw" /data -- /t/probe write /data/fromsandbox
is "$RC" 0 "--bind is writable"
ok "$([ -f "$T/rw/fromsandbox" ]; echo $?)" "a --bind write reaches the host directory"

# The payload's host-side identity is never host root.
S1=$((100000 + $$ % 100000))
"$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t -- /t/probe sleep "$S1" &
SRPID=$!
sleep 1
PID=$(pgrep -f "^/t/probe sleep $S1" | head -n1)
HUID=$(awk '/^Uid:/ {print $2}' "/proc/$PID/status" 2>/dev/null)
if is_root; then is "$HUID" 65534 "seen from the host, the payload runs as nobody, not root"; else is "$HUID" "$(id -u)" "seen from the host, the payload runs as the caller"; fi
kill "$SRPID"; wait

# IPC isolation: a SysV segment made on the host is invisible inside.
SHMID=$(ipcmk -M 4096 2>/dev/null | awk '{print $NF}')
srun -- /t/probe cat /proc/sysvipc/shm
# the control: the segment exists on the host, so the check below can fail
ok "$([ -n "$SHMID" ] && grep -Eq "^ *-?[0-9]+ +$SHMID " /proc/sysvipc/shm; echo $?)" "control: the host sees its SysV segment (ipcmk, util-linux)"
unlike "$OUT" "^ *-?[0-9]+ +$SHMID " "host SysV shared memory is not visible inside"
ipcrm -m "$SHMID" 2>/dev/null

# --pass-fd keeps exactly that fd.
exec 7<"$T/hostfile"
srun --pass-fd 7 -- /t/probe info
is "$(jget "$OUT" '.fds | join(",")')" 7 "--pass-fd 7 passes fd 7 and nothing else"
exec 7<&-
srun --setenv FOO bar -- /t/probe info
like "$(jget "$OUT" '.env | join(" ")')" "FOO=bar" "--setenv reaches the payload"

srun --chdir /tmp -- /t/probe cat /proc/1/cmdline
unlike "$(printf '%s' "$OUT" | tr '\0' ' ')" "$POLICIES|$IBIN|--policy" "sandbox init's command line shows no host path or option"
