#!/bin/sh
# sealrun-pool, the reference worker: spooled requests run through sealrun, another tenant's are refused and audited, N at once, clean stop.
. "$(dirname "$0")/lib.sh"

POOL="$SEALRUN_BUILD/sealrun-pool"
plan 30
S1=$((200000 + $$ % 100000))      # unique sleep durations for the process checks
S2=$((S1 + 1))
SP="$T/spool"
IN="$SP/incoming"
DONE="$SP/done"
mkdir -p "$IN"     # the pool creates it on its first start; a platform may too

# config [EXTRA JSON MEMBERS]: the pool config for tenant acme (timeout_s: no task outlives a broken test).
config() {
        printf '{"version":1,"tenant":"acme","policy":"%s","spool":"%s","max_tasks":2,"audit":"%s","stop_grace_ms":1500,"timeout_s":60%s}\n' \
                "$STOCK/default.json" "$SP" "$AMODE" "${1:-}" > "$T/pool.json"
        chmod 0644 "$T/pool.json"
}
# submit NAME JSON: the way a platform submits (write a dot file, rename it in).
submit() { printf '%s\n' "$2" > "$IN/.$1.tmp" && mv "$IN/.$1.tmp" "$IN/$1.json"; }
final() { tail -n 1 "$DONE/$1.json" 2>/dev/null; }
once() { "$POOL" --config "$T/pool.json" --once 2>>"$T/pool.log"; }

# An audit collector for the deny events.
ASOCK="$T/audit.sock"
mkdir -p "$T/audit"
printf '{"version":1,"allow":[{"uid":%s,"tenants":["acme"]}]}\n' "$(id -u)" > "$T/allow.json"
chmod 0600 "$T/allow.json"
"$AUDITD" --socket "$ASOCK" --dir "$T/audit" --allow "$T/allow.json" 2>"$T/auditd.log" &
APID=$!
stop_auditd() { kill "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; }
on_exit stop_auditd
for i in $(seq 1 100); do [ -S "$ASOCK" ] && break; sleep 0.05; done
AMODE=required
config ",\"audit_socket\":\"$ASOCK\""

# 1. A request runs through sealrun; its status stream and output land in done/.
submit t1 '{"task":"t1","tenant":"acme","command":["/bin/sh","-c","echo hello from t1; exit 3"]}'
once
is "$?" 0 "sealrun-pool --once drains the spool and exits 0"
is "$(final t1 | jq -r .exit_code)" 3 "done/t1.json: the task's exit code (last line = sealrun's final status)"
is "$(head -n 1 "$DONE/t1.json" | jq -r .state)" running "done/t1.json: first line is sealrun's running line"
is "$(cat "$DONE/t1.out")" "hello from t1" "done/t1.out holds the task's stdout"
is "$(ls "$IN" "$SP/claimed" | grep -c json)" 0 "incoming/ and claimed/ are empty afterwards"

# 2. Another tenant's request is refused, never run, and audited.
submit t2 '{"task":"t2","tenant":"globex","command":["/bin/sh","-c","echo ran"]}'
once
is "$(final t2 | jq -r '[.exit_code, .refused] | join(" ")')" "77 cross-tenant" "a request for tenant globex is refused (77 cross-tenant)"
is "$(wc -l < "$DONE/t2.json")" 1 "... without starting a sandbox (no running line)"
[ -e "$DONE/t2.out" ]; ok $((1 - $?)) "... and without running the command"
d=$(cat "$T/audit"/acme.jsonl 2>/dev/null | jq -c '.. | objects | select(.event? == "deny" and .task? == "t2") | [.tenant, .reason]' | head -n 1)
is "$d" '["acme","cross-tenant"]' "the collector holds a deny event (tenant acme, reason cross-tenant) for t2"

# 3. Bad requests: one refusal each (125, the file and the field named), the pool keeps going.
submit b1 '{"task":"b1","tenant":"acme","command":["true"],"env":{"X":"1"}}'
submit b2 '{"task":"b2","tenant":"acme","profile":"../globex/p.sealed","command":["true"]}'
submit b3 'not json'
mkfifo "$IN/b4.json"
ln -s /etc/passwd "$IN/b5.json"
submit ok1 '{"task":"ok1","tenant":"acme","command":["/bin/true"]}'
printf '{"task":"h","tenant":"acme","command":["true"]}' > "$IN/.hidden.json"
printf '{"task":"h","tenant":"acme","command":["true"]}' > "$IN/h.json.tmp"
once
is "$(for b in b1 b2 b3 b4 b5; do final $b | jq -r '"\(.exit_code) \(.refused)"'; done | sort -u)" "125 bad-request" "bad requests are refused with 125 bad-request"
like "$(final b1 | jq -r .error)" '^b1\.json: \$\.env: unknown key$' "the error names the file and the field"
like "$(final b2 | jq -r .error)" '\$\.profile' "a profile path that leaves the profiles directory is refused"
is "$(final ok1 | jq -r .exit_code)" 0 "a good request after the bad ones still runs"
is "$(ls -A "$IN" | sort | tr '\n' ' ')" ".hidden.json h.json.tmp " "files that are not NAME.json (writers' temporaries) are left alone"
rm -f "$IN/.hidden.json" "$IN/h.json.tmp"

# 4. Duplicate task id: refused, the first status is kept.
submit dup '{"task":"t1","tenant":"acme","command":["/bin/true"]}'
once
is "$(final t1 | jq -r .exit_code)" 3 "a second request with task id t1 does not overwrite t1's status"
is "$(ls "$SP/claimed" "$IN" | grep -c json)" 0 "... and is dropped from the spool"

# 5. At most max_tasks (2) at once, and both slots are used.
for i in 1 2 3 4; do
        submit c$i '{"task":"c'$i'","tenant":"acme","command":["/bin/sh","-c","date +%s%N; sleep 1; date +%s%N"]}'
done
t0=$(date +%s%N)
once
t1=$(date +%s%N)
peak=$(for i in 1 2 3 4; do s=$(sed -n 1p "$DONE/c$i.out"); e=$(sed -n 2p "$DONE/c$i.out"); echo "$s 1"; echo "$e -1"; done |
        sort -n | awk '{ n += $2; if (n > m) m = n } END { print m }')
is "$peak" 2 "4 one-second tasks with max_tasks 2: never more than 2 at once, and 2 overlap"
ms=$(( (t1 - t0) / 1000000 ))
ok "$([ "$ms" -ge 1900 ] && [ "$ms" -lt 6000 ]; echo $?)" "... finishing in two rounds ($ms ms)"

# 6. Stop: SIGTERM to the pool reaches each task; one that ignores it has its sandbox killed after stop_grace_ms.
submit s1 '{"task":"s1","tenant":"acme","command":["/bin/sleep","'$S1'"]}'
submit s2 '{"task":"s2","tenant":"acme","command":["/bin/sh","-c","trap \"\" TERM; sleep '$S2'; :"]}'
"$POOL" --config "$T/pool.json" 2>>"$T/pool.log" &
PPID_=$!
for i in $(seq 1 100); do
        [ -s "$DONE/s1.part" ] && [ -s "$DONE/s2.part" ] && break
        sleep 0.1
done
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$PPID_"
wait "$PPID_"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc" 0 "the pool exits 0 after SIGTERM"
is "$(final s1 | jq -r .exit_code)" 143 "a running task gets SIGTERM (exit 143) and its status is recorded"
like "$(final s2 | jq -r .exit_code)" '^[0-9]+$' "a task that ignores SIGTERM still gets a final status"
ok "$([ "$ms" -lt 8000 ]; echo $?)" "... and the pool is down within stop_grace_ms plus a little ($ms ms)"
sleep 0.2
ok "$(pgrep -f "sleep ($S1|$S2)" >/dev/null; [ $? -ne 0 ]; echo $?)" "no task process survives the stop"
rm -f "$IN/s1.json" "$IN/s2.json"      # had the pool died early, no later run may pick them up

# 7. A request left in claimed/ by a pool that died is reported as interrupted (75), not re-run.
printf '{"task":"r1","tenant":"acme","command":["/bin/true"]}\n' > "$SP/claimed/r1.json"
printf '{"version":2,"task":"r1","tenant":"acme","pid":1,"state":"running"}\n' > "$DONE/r1.part"
once
is "$(final r1 | jq -r '"\(.exit_code) \(.refused)"')" "75 interrupted" "an interrupted task is marked 75 interrupted on restart"

# 8. With a profile: the pool key reaches sealrun as an fd, the payload gets its credential;
#    another tenant's profile dropped into this pool's directory does not open.
K="$T/keys"
mkdir -p "$K" "$T/profiles"
"$SEALCTL" keygen --pool --out "$K/acme" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$K/globex" >/dev/null 2>&1
"$SEALCTL" keygen --issuer --out "$K/ops" >/dev/null 2>&1
CAN=canary-$$-$(date +%s%N)
printf '{"tenant":"acme","credentials":[{"name":"gh_token","value":"%s","as":"file"}]}' "$CAN" |
        "$SEALCTL" seal --tenant acme --profile default --version 1 --not-after +1h --to "$K/acme.pub" \
        --sign "$K/ops.key" --in - --out "$T/profiles/default.sealed" >/dev/null 2>&1
printf '{"tenant":"globex","credentials":[{"name":"gh_token","value":"other","as":"file"}]}' |
        "$SEALCTL" seal --tenant globex --profile default --version 1 --not-after +1h --to "$K/globex.pub" \
        --sign "$K/ops.key" --in - --out "$T/profiles/globex.sealed" >/dev/null 2>&1
config ",\"audit_socket\":\"$ASOCK\",\"key_file\":\"$K/acme.key\",\"trust\":[\"$K/ops.pub\"],\"profiles_dir\":\"$T/profiles\""
submit p1 '{"task":"p1","tenant":"acme","profile":"default.sealed","command":["/bin/sh","-c","sha256sum < $CREDENTIALS_DIRECTORY/gh_token"]}'
submit p2 '{"task":"p2","tenant":"acme","profile":"globex.sealed","command":["/bin/true"]}'
once
is "$(cut -d' ' -f1 "$DONE/p1.out")" "$(printf '%s' "$CAN" | sha256sum | cut -d' ' -f1)" "a task with a profile reads its credential (key passed by fd)"
is "$(final p1 | jq -c '[.exit_code, .credentials.injected, .credentials.scrubbed]')" '[0,["gh_token"],true]' "... the status names it injected and scrubbed"
is "$(final p2 | jq -r .exit_code)" 77 "another tenant's profile in this pool's directory is refused (77)"
config ",\"audit_socket\":\"$ASOCK\""

# 9. The config decides the policy: an unsafe or mismatched one stops the pool before it claims anything.
chmod 0666 "$T/pool.json"
out=$("$POOL" --config "$T/pool.json" --once 2>&1)
is "$?" 77 "a group/world-writable config is refused (77)"
like "$out" 'pool\.json: the pool config is writable by group or others' "... with one line saying why"
chmod 0644 "$T/pool.json"
out=$("$POOL" --config "$T/pool.json" --tenant globex --once 2>&1)
is "$?" 77 "--tenant globex with acme's config is refused (77)"
