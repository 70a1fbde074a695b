#!/bin/sh
# sealrun-pool with "prebuilt": N sandboxes kept built ahead (sealrun --prepare), each used by exactly one task,
# replaced after use, and all torn down on stop (no process, cgroup or mount left).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-resources.sh"

POOL="$SEALRUN_BUILD/sealrun-pool"
plan 14
SP="$T/spool"
IN="$SP/incoming"
DONE="$SP/done"
mkdir -p "$IN"
ASOCK="$T/audit.sock"
mkdir -p "$T/audit"
printf '{"version":1,"allow":[{"uid":%s,"tenants":["acme"]}]}\n' "$(id -u)" > "$T/allow.json"
chmod 0600 "$T/allow.json"
"$AUDITD" --socket "$ASOCK" --dir "$T/audit" --allow "$T/allow.json" 2>"$T/auditd.log" &
APID=$!
stop_auditd() { kill "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; }
on_exit stop_auditd
for i in $(seq 1 100); do [ -S "$ASOCK" ] && break; sleep 0.05; done
printf '{"version":1,"tenant":"acme","policy":"%s","spool":"%s","max_tasks":2,"audit":"required","audit_socket":"%s","timeout_s":60,"stop_grace_ms":1500,"prebuilt":2}\n' \
        "$STOCK/default.json" "$SP" "$ASOCK" > "$T/pool.json"
chmod 0644 "$T/pool.json"
submit() { printf '%s\n' "$2" > "$IN/.$1.tmp" && mv "$IN/.$1.tmp" "$IN/$1.json"; }
final() { tail -n 1 "$DONE/$1.json" 2>/dev/null; }
wait_done() { for _i in $(seq 1 300); do final "$1" | grep -q exit_code && return 0; sleep 0.05; done; return 1; }
prepared() { pgrep -P "$PPID_POOL" -f -- '--prepare --claim-fd' | sort; }
mounts_snapshot > "$T/mounts.before"

"$POOL" --config "$T/pool.json" 2>"$T/pool.log" &
PPID_POOL=$!
for i in $(seq 1 100); do [ "$(prepared | wc -l)" -ge 2 ] && break; sleep 0.05; done
is "$(prepared | wc -l)" 2 "the pool keeps 2 sandboxes built ahead (sealrun --prepare)"
FIRST=$(prepared | tr '\n' ' ')
sleep 0.5   # built (their READY arrived)

submit p1 '{"task":"p1","tenant":"acme","command":["/bin/sh","-c","echo hello from p1; exit 3"]}'
wait_done p1
is "$(final p1 | jq -r .exit_code)" 3 "done/p1.json: the task's exit code"
is "$(head -n 1 "$DONE/p1.json" | jq -r .state)" running "done/p1.json: its running line first, as with a fresh sealrun"
is "$(cat "$DONE/p1.out")" "hello from p1" "done/p1.out holds the task's stdout"
like "$(grep 'task p1 started' "$T/pool.log")" "pre-built sandbox" "p1 ran in a pre-built sandbox"
USED=$(grep 'task p1 started' "$T/pool.log" | sed 's/.*sealrun pid \([0-9]*\).*/\1/')
ok "$(printf '%s' "$FIRST" | grep -qw "$USED"; echo $?)" "... one of those built before the request came"
for i in $(seq 1 100); do [ "$(prepared | wc -l)" -ge 2 ] && ! prepared | grep -qx "$USED" && break; sleep 0.05; done
is "$(prepared | wc -l)" 2 "the used one was replaced: 2 built again"
unlike "$(prepared | tr '\n' ' ')" "(^| )$USED( |$)" "... and the used one is gone (used exactly once)"

sleep 0.5
submit p2 '{"task":"p2","tenant":"acme","command":["/bin/true"]}'
submit p3 '{"task":"p3","tenant":"acme","command":["/bin/true"]}'
wait_done p2; wait_done p3
is "$(final p2 | jq -r .exit_code)$(final p3 | jq -r .exit_code)" 00 "two more tasks ran"
is "$(grep -E 'task p[23] started' "$T/pool.log" | sed 's/.*sealrun pid \([0-9]*\).*/\1/' | sort -u | wc -l)" 2 "each in its own sandbox"

ALL=$(prepared | tr '\n' ' ')
kill -TERM "$PPID_POOL"
wait "$PPID_POOL"
is "$?" 0 "the pool stops cleanly"
left=0; for p in $ALL; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
is "$left" 0 "no pre-built sandbox's supervisor is left"
cg=0; for p in $ALL; do cg=$((cg + $(left_cgroups "pid$p"))); done
is "$cg" 0 "no pre-built sandbox's cgroup is left"
is "$(new_mounts "$T/mounts.before")" "" "no mount left"
