#!/bin/sh
# sealrun-pool, the reference worker: spooled requests run through sealrun, another tenant's are refused and audited, N at once, clean stop.
. "$(dirname "$0")/lib.sh"

POOL="$SEALRUN_BUILD/sealrun-pool"
plan 45
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

# 10. Work dirs: a request names a directory beneath the pool's work_root; the pool copies it
#     into done/<task>.work (opened with openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV)
#     and binds the copy read-write at work_path. The pool runs as its own user: as root, a user
#     made for this test (pool users exist only where root made them); unprivileged, the caller.
WR="$T/src"       # the work root
WS="$T/wspool"    # this pool's spool
WK="$T/wkey"      # this pool's key directory
mkdir -p "$WR/proj/sub" "$WR/proj2" "$WS/incoming" "$WK" "$T/rt"
echo input > "$WR/proj/a.txt"
echo deep > "$WR/proj/sub/b.txt"
ln -s "$WS" "$WR/evil"                      # planted: the spool
ln -s "$WK" "$WR/keylink"                   # planted: the key's directory
ln -s "$WS" "$WR/proj2/link"                # inside a work dir: copied as a link, never followed
"$SEALCTL" keygen --pool --out "$WK/pool" >/dev/null 2>&1
chmod -R a+rX "$WR"
as_pool() { "$@"; }
if is_root; then
        PU="sealrun-tp$$"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PU" 2>/dev/null
        del_user() { userdel "$PU" 2>/dev/null; }
        on_exit del_user
        chown -R "$PU:" "$WS" "$WK" "$T/rt"
        as_pool() { setpriv --reuid "$PU" --regid "$PU" --clear-groups "$@"; }
fi
chmod 0700 "$T/rt"
printf '{"extends":"%s","allow_extra_binds":true}\n' "$STOCK/default.json" > "$T/wpolicy.json"
wconfig() { # wconfig POLICY WORK_ROOT: the work-dir pool's config
        printf '{"version":1,"tenant":"acme","policy":"%s","spool":"%s","max_tasks":2,"audit":"off","timeout_s":60,"key_file":"%s","work_root":"%s"}\n' \
                "$1" "$WS" "$WK/pool.key" "$2" > "$T/wpool.json"
        chmod 0644 "$T/wpool.json"
}
wsubmit() { printf '%s\n' "$2" > "$WS/incoming/.$1.tmp" && mv "$WS/incoming/.$1.tmp" "$WS/incoming/$1.json"; }
wonce() { as_pool env RUNTIME_DIRECTORY="$T/rt" "$POOL" --config "$T/wpool.json" --once 2>>"$T/wpool.log"; }
wfinal() { tail -n 1 "$WS/done/$1.json" 2>/dev/null; }
wconfig "$T/wpolicy.json" "$WR"
wsubmit w1 '{"task":"w1","tenant":"acme","workdir":"proj","command":["/bin/sh","-c","pwd; cat a.txt sub/b.txt; [ -O a.txt ] && echo own; echo result > out.txt; mkdir new && echo y > new/y"]}'
wonce
is "$(wfinal w1 | jq -r .exit_code)|$(tr '\n' ' ' < "$WS/done/w1.out")" "0|/home/sandbox/work input deep own " \
        "a task with a work dir starts in it (work_path), reads its files, and owns them"
[ -s "$WS/done/w1.json" ] || sed 's/^/# /' "$T/wpool.log"
is "$(cat "$WS/done/w1.work/out.txt" "$WS/done/w1.work/new/y" 2>&1 | tr '\n' ' ')" "result y " \
        "the files it wrote come back beside the done/ record, in done/w1.work/"
ok "$([ -f "$WS/done/w1.work/a.txt" ] && [ ! -e "$WR/proj/out.txt" ] && [ ! -e "$WR/proj/new" ]; echo $?)" \
        "... a copy: the source under the work root is untouched"

# Attacks: each refused, never run. Lexical ones as malformed (125), resolved ones as workdir-denied (77).
wsubmit a1 '{"task":"a1","tenant":"acme","workdir":"proj/../../wspool","command":["/bin/true"]}'
wsubmit a2 '{"task":"a2","tenant":"acme","workdir":"'"$WS"'","command":["/bin/true"]}'
wsubmit a3 '{"task":"a3","tenant":"acme","workdir":"evil","command":["/bin/true"]}'
wsubmit a4 '{"task":"a4","tenant":"acme","workdir":"evil/done","command":["/bin/true"]}'
wsubmit a5 '{"task":"a5","tenant":"acme","workdir":"keylink","command":["/bin/true"]}'
wsubmit a6 '{"task":"a6","tenant":"acme","workdir":"proj/a.txt","command":["/bin/true"]}'
wsubmit a7 '{"task":"a7","tenant":"acme","workdir":"..","command":["/bin/true"]}'
wonce
is "$(for a in a1 a2 a7; do wfinal $a | jq -r '"\(.exit_code) \(.refused)"'; done | sort -u)" "125 bad-request" \
        "workdir with '..' or an absolute path (the spool's) is refused as malformed (125)"
like "$(wfinal a2 | jq -r .error)" '^a2\.json: \$\.workdir: must be a relative path' "... naming the file and the field"
is "$(for a in a3 a4 a5 a6; do wfinal $a | jq -r '"\(.exit_code) \(.refused)"'; done | sort -u)" "77 workdir-denied" \
        "a symlink planted in the work root (to the spool, through it, to the key's directory) or a file: 77 workdir-denied"
like "$(wfinal a3 | jq -r .error)|$(wfinal a6 | jq -r .error)" \
        '^a3\.json: \$\.workdir: "evil" under .*/src: a symlink on the way.*\|a6\.json: \$\.workdir: "proj/a\.txt" .*is not a directory' \
        "... each with its reason"
n=0; for a in a1 a2 a3 a4 a5 a6 a7; do [ -e "$WS/done/$a.out" ] || [ -e "$WS/done/$a.work" ] || n=$((n + 1)); done
is "$n" 7 "... none of them ran or got a work dir"

# A symlink inside a work dir is copied as a link and resolves inside the sandbox, where the spool is not.
wsubmit w2 '{"task":"w2","tenant":"acme","workdir":"proj2","command":["/bin/sh","-c","ls link/ || ls '"$WS"' || echo unreachable"]}'
wonce
is "$(readlink "$WS/done/w2.work/link")|$(tail -n 1 "$WS/done/w2.out")" "$WS|unreachable" \
        "a link to the spool inside a work dir is copied as a link; the task cannot reach the spool through it"
ok "$(as_pool ls "$WS/done" >/dev/null 2>&1; echo $?)" "control: the pool's user can list the spool outside the sandbox"

# What the copy cannot carry refuses the request, and the partial copy is removed.
mkdir -p "$WR/proj3/d" && echo x > "$WR/proj3/d/a" && mkfifo "$WR/proj3/d/pipe" && chmod -R a+rX "$WR/proj3"
wsubmit w4 '{"task":"w4","tenant":"acme","workdir":"proj3","command":["/bin/sh","-c","echo ran"]}'
wonce
like "$(wfinal w4 | jq -r '"\(.exit_code) \(.refused) \(.error)"')|$(ls "$WS/done" | grep -c '^w4\.\(work\|out\)')" \
        '^125 workdir w4\.json: \$\.workdir: "proj3": d/pipe: not a regular file, directory or symlink\|0$' \
        "a FIFO inside a work dir: 125 workdir naming the entry; no partial copy left, nothing run"

# The policy decides: without allow_extra_binds the task is refused by sealrun (77), never run unconfined.
wconfig "$STOCK/default.json" "$WR"
wsubmit w3 '{"task":"w3","tenant":"acme","workdir":"proj","command":["/bin/sh","-c","echo ran"]}'
wonce
like "$(wfinal w3 | jq -r '"\(.exit_code) \(.refused) \(.error)"')" '^77 policy-violation .*allow_extra_binds' \
        "a policy without allow_extra_binds refuses the work dir's bind (77 policy-violation)"

# A work root that holds the spool or the key, or lies inside the spool: the pool refuses to start.
wconfig "$T/wpolicy.json" "$T"
out=$(as_pool env RUNTIME_DIRECTORY="$T/rt" "$POOL" --config "$T/wpool.json" --once 2>&1)
like "$?|$out" '^77\|.*\$\.work_root: .* contains ' "a work_root that contains the spool and the key: the pool refuses to start (77)"
wconfig "$T/wpolicy.json" "$WS/done"
out=$(as_pool env RUNTIME_DIRECTORY="$T/rt" "$POOL" --config "$T/wpool.json" --once 2>&1)
like "$?|$out" '^77\|.*\$\.work_root: .* is inside .*wspool' "a work_root inside the spool: refused too"
if is_root; then
        wconfig "$T/wpolicy.json" "$WR"
        out=$("$POOL" --config "$T/wpool.json" --once 2>&1)
        like "$?|$out" '^77\|.*work dirs need the pool to run as its own user' "a pool run as root refuses work dirs (its tasks' ids would not own the copy)"
else
        skip "a pool run as root: root only"
fi
