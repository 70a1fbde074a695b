#!/bin/sh
# network "veth": a per-task veth pair from the policy's pool (root pools only).
# Traffic goes only to the host end of pairs this test made. Unprivileged, the
# request is refused with 77 before anything is created.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

# 10.213.N.0/29: two /30 slots, host ends sr-0ad5NN00 (.1) and sr-0ad5NN04 (.5).
# N differs per run and is free on the host: veth names and slots are
# host-wide, so two runs at once (CI jobs, worktrees) must not share a pool.
N=$((64 + $$ % 128)); i=0
while [ -n "$(ls /sys/class/net | grep -E "^sr-0ad5$(printf %02x $N)0[04]$")" ] && [ $i -lt 128 ]; do
        N=$((64 + (N - 64 + 1) % 128)); i=$((i + 1))
done
NET=10.213.$N
HX=0ad5$(printf %02x $N)
RT=$(printf '01%02XD50A' $N)   # 10.213.N.1 as /proc/net/route prints it
POL=$(net_policy veth '.network = {"mode": "veth", "veth": {"pools": ["'$NET'.0/29"]},
        "dns": {"nameservers": ["'$NET'.1"]}}')
leftovers() { ls /sys/class/net | grep -E "^sr-${HX}0[04]\$" | tr '\n' ' '; }

if ! is_root; then
        # what applies to an unprivileged caller: the refusal (the root tier runs the pairs)
        plan 5
        POLICY=$POL srun -- /bin/true
        is "$RC" 77 "unprivileged veth request is refused with exit 77"
        is "$(wc -l < "$T/err")" 1 "one line on stderr"
        like "$ERR" '\$\.network\.mode: "veth" needs CAP_NET_ADMIN' "the line names the field and the missing capability"
        is "$(jget "$STATUS" .refused)" veth-unprivileged "status JSON gives the refusal reason"
        is "$(leftovers)" "" "no veth interface was created"
        exit 0
fi
plan 18

# 1. A server on the host end answers the sandbox (it binds before the
# address exists: IP_FREEBIND).
PORT=$(free_port 2)
"$NETTOOL" serve $NET.1 "$PORT" 1 "$T/ready" >/dev/null 2>&1 &
bg_track $!
wait_file "$T/ready"
POLICY=$POL srun -- $NT connect $NET.1 "$PORT" 3000
is "$RC" 0 "the sandbox connects to a server on the host-side veth address"
is "$OUT" "connected $NET.1:$PORT: hello $NET.2" "the server sees the sandbox's address $NET.2"
is "$(jget "$STATUS" .network)" veth "status JSON says network veth"

POLICY=$POL srun -- $NT ifaces
like "$OUT" "^lo up 127.0.0.1 ::1" "lo is up inside"
like "$OUT" "eth0 up $NET.2( |\$)" "eth0 is up with the first slot's inside address"
is "$(echo "$OUT" | wc -l)" 2 "lo and eth0 are the only interfaces"
POLICY=$POL srun -- /t/probe cat /proc/net/route
like "$OUT" "eth0	00000000	$RT" "the default route goes via the host end $NET.1"
is "$(leftovers)" "" "the pair is gone after the task"

# 2. Two concurrent tasks get distinct addresses: each writes its address and
# waits until the other has written its own, so both run at the same time.
mkdir "$T/shared" && chmod 0777 "$T/shared"
SCRIPT='/t/nettool addr eth0 > /shared/$1.tmp && mv /shared/$1.tmp /shared/$1; n=0
        while [ ! -e /shared/$2 ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n+1)); done; [ -e /shared/$2 ]'
"$SR" --policy "$POL" --ro-bind "$IBIN" /t --bind "$T/shared" /shared -- /bin/sh -c "$SCRIPT" sh a b 2>"$T/err-a" &
PA=$!
"$SR" --policy "$POL" --ro-bind "$IBIN" /t --bind "$T/shared" /shared -- /bin/sh -c "$SCRIPT" sh b a 2>"$T/err-b" &
PB=$!
wait $PA; RA=$?
wait $PB; RB=$?
is "$RA:$RB" "0:0" "two concurrent veth tasks both run"
A=$(cat "$T/shared/a" 2>/dev/null); B=$(cat "$T/shared/b" 2>/dev/null)
diag "concurrent addresses: $A and $B"
if [ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ]; then ok 0 "they get distinct addresses"; else ok 1 "they get distinct addresses ($A, $B)"; fi
like "$A $B" "^10\.213\.$N\.(2|6) 10\.213\.$N\.(2|6)\$" "both addresses are inside addresses of the pool's /30s"

# 3. While both slots are held, a third task is refused as temporary (75).
HOLD='/t/nettool addr eth0 > /shared/$1.tmp && mv /shared/$1.tmp /shared/$1; n=0
        while [ ! -e /shared/go ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n+1)); done'
"$SR" --policy "$POL" --ro-bind "$IBIN" /t --bind "$T/shared" /shared -- /bin/sh -c "$HOLD" sh c 2>/dev/null &
PC=$!
"$SR" --policy "$POL" --ro-bind "$IBIN" /t --bind "$T/shared" /shared -- /bin/sh -c "$HOLD" sh d 2>/dev/null &
PD=$!
wait_file "$T/shared/c"; wait_file "$T/shared/d"
POLICY=$POL srun -- /bin/true
is "$RC" 75 "a third task while the pool is full is refused as temporary (75)"
touch "$T/shared/go"
wait $PC $PD

# 4. 100 launches leave no veth behind.
t0=$(date +%s%N); fails=0
for i in $(seq 100); do
        "$SR" --policy "$POL" -- /bin/true 2>/dev/null || fails=$((fails + 1))
done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
diag "100 veth launches: $ms ms in all, $((ms / 100)) ms each"
is "$fails" 0 "100 veth launches all succeed"
is "$(leftovers)" "" "after 100 launches no veth interface remains"

# 5. A crash of the task: the pair is still deleted.
POLICY=$POL srun -- /bin/sh -c 'kill -SEGV $$'
is "$RC" 139 "a task killed by SIGSEGV exits 139"
is "$(leftovers)" "" "its veth pair is deleted"

# 6. A crash of the supervisor itself (SIGKILL): the sandbox dies with it, the
# kernel removes the pair with the namespace, and the slot is free again.
"$SR" --policy "$POL" -- /bin/sleep 30 2>/dev/null &
SPID=$!
n=0; while [ -z "$(leftovers)" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
is "$(leftovers)" "sr-${HX}00 " "while the task runs, its pair exists on the host"
kill -KILL "$SPID"; wait "$SPID" 2>/dev/null
n=0; while [ -n "$(leftovers)" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
diag "pair gone $((n * 100)) ms after the supervisor was killed"
is "$(leftovers)" "" "after the supervisor is killed, the pair disappears with the sandbox"
