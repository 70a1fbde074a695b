#!/bin/sh
# Review: a payload that can write into a persistent writable bind must not be
# able to steer the next launch's mount setup. It plants a symlink (or a FIFO)
# where the next task's policy creates a directory with a mode (or binds a
# file); the launcher runs before pivot_root, with the host's / as its root.
. "$(dirname "$0")/lib.sh"
plan 4

chmod 0755 "$T"
mkdir -m 0777 "$T/ws"
# /tmp is covered by the sandbox root while mounts are set up: the victim lives elsewhere
V=$(mktemp -d /var/tmp/sealrun-rv.XXXXXX)
rmv() { rm -rf "$V"; }
on_exit rmv
chmod 0755 "$V"
echo "not for the sandbox" > "$V/victim"
chmod 0600 "$V/victim"
# as root the sandbox is nobody on the host: the victim is a file that identity owns
is_root && chown 65534 "$V/victim"

# task 1 plants the symlink from inside
srun --bind "$T/ws" /ws -- /bin/sh -c "ln -s '$V/victim' /ws/out"
is "$RC" 0 "task 1 plants /ws/out -> a host file outside its binds"
# task 2's policy makes /ws/out a directory with mode 0777
jq --arg ws "$T/ws" '.mounts += [{"type":"bind","src":$ws,"dst":"/ws"},{"type":"dir","dst":"/ws/out","mode":"0777"}]' \
        "$TEST_POLICY" > "$T/dir.json"
POLICY="$T/dir.json" srun -- true
is "$(stat -c %a "$V/victim")" 600 "task 2's dir entry does not chmod the symlink's host target (exit $RC)"
ok "$([ "$RC" -ne 0 ]; echo $?)" "task 2 refuses a symlink where its policy wants a directory"

# task 1 plants a FIFO where task 2 binds a file: opening the mountpoint must not block
rm -f "$T/ws/out"
srun --bind "$T/ws" /ws -- /bin/sh -c "mkfifo /ws/f"
jq --arg ws "$T/ws" --arg f "$IBIN/probe" '.mounts += [{"type":"bind","src":$ws,"dst":"/ws"},{"type":"ro-bind","src":$f,"dst":"/ws/f"}]' \
        "$TEST_POLICY" > "$T/fifo.json"
timeout -s KILL 20 "$SR" --policy "$T/fifo.json" -- true >/dev/null 2>&1
RC=$?
ok "$([ "$RC" -ne 124 ] && [ "$RC" -ne 137 ]; echo $?)" "a FIFO planted at a file mountpoint does not hang the launch (exit $RC)"
