#!/bin/sh
# make demo: run a real command in the sandbox with the stock policy and show
# what the sandbox looks like from inside, then the status JSON.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$SRC/build}
D=$(mktemp -d /tmp/sealrun-demo.XXXXXX)
chmod 0755 "$D"

# The audit collector for this run (its uid may write the demo tenant).
printf '{"version":1,"allow":[{"uid":%s,"tenants":["demo"]}]}\n' "$(id -u)" > "$D/allow.json"
chmod 0600 "$D/allow.json"
"$B/sealrun-auditd" --socket "$D/audit.sock" --dir "$D/audit" --allow "$D/allow.json" 2>"$D/auditd.log" &
APID=$!
trap 'kill "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; rm -rf "$D"' EXIT
for _i in $(seq 1 100); do [ -S "$D/audit.sock" ] && break; sleep 0.05; done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "sealrun $("$B/sealrun" --version | cut -d' ' -f2): a sandboxed shell under policy/stock/default.json"
"$B/sealrun" --policy "$SRC/policy/stock/default.json" --task demo-1 --tenant demo --status-fd 3 \
        --audit required --audit-socket "$D/audit.sock" -- /bin/sh -c '
echo "pid inside:      $$ (sandbox init is pid 1)"
echo "processes:       $(ls /proc | grep -E "^[0-9]+$" | tr "\n" " ")"
echo "whoami:          $(id)"
echo "uid map:         $(cat /proc/self/uid_map | tr -s " ")"
echo "hostname:        $(hostname)"
echo "interfaces:      $(ls /proc/sys/net/ipv4/conf 2>/dev/null | grep -v -e all -e default | tr "\n" " ")($(cat /proc/net/dev | tail -n +3 | wc -l) in /proc/net/dev)"
echo "capabilities:    $(grep CapEff /proc/self/status)"
echo "mounts:"
while read -r dev mnt fs opts rest; do printf "                 %-22s %-8s %s\n" "$mnt" "$fs" "$opts"; done < /proc/self/mounts
echo "environment:     $(env | sort | tr "\n" " ")"
echo "host /root:      $(ls /root 2>&1)"
' 3>"$D/status.json"
echo "exit code: $?"
say "status JSON (--status-fd 3)"
cat "$D/status.json"

# Sealed profiles: seal a demo profile and show the payload reading its credential
# (audited by the collector above: required is the default with a profile).
BUILD="$B" DEMO_AUDIT_SOCKET="$D/audit.sock" sh "$SRC/integration/demo-profile.sh"

say "audit lines ($D/audit/demo.jsonl, written by sealrun-auditd): demo-1 launch/exit, demo-2 launch/inject/scrub/exit"
cat "$D/audit/demo.jsonl"
say "sealctl audit-verify"
"$B/sealctl" audit-verify "$D/audit"
