#!/bin/sh
# sealrun-auditd on its own: acks, storage, bad clients, allow map, restarts, write errors, socket activation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
plan 37

start_collector
R=$("$SEND" "$ASOCK" "$(ev launch acme T1 1)")
is "$(jget "$R" '"\(.status) \(.seq) \(.line)"')" "ok 1 1" "a good event is acknowledged with its seq and line"
L=$(head -n1 "$ADIR/acme.jsonl")
is "$(jget "$L" '"\(.seq) \(.peer.uid) \(.event.event) \(.event.task)"')" "1 $AUID launch T1" \
   "the line carries the file seq, the SO_PEERCRED uid and the event"
like "$(jget "$L" .recv)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "the line carries the collector's receive time"
is "$(stat -c %a "$ADIR/acme.jsonl")" 640 "tenant file mode 0640"

# Bad messages: each gets an error reply naming the problem, the connection survives.
R=$("$SEND" "$ASOCK" 'not json' @big:70000 '{"schema":1,"seq":2,"time":"2025-01-01T00:00:00Z","ev' \
        "$(ev launch ACME T1 3)" "$(ev inject acme T1 4 ',"credentials":[{"name":"x","value":"s3cr3t"}]')" \
        "$(ev launch acme T1 5 ',"schema":2')" "$(ev launch acme T1 6)")
is "$(printf '%s\n' "$R" | jq -r '.error // .status' | tr '\n' ' ')" \
   "bad-json too-large bad-json bad-message bad-json bad-json ok " "garbage, oversized, half, bad slug, extra keys: error replies; then ok on the same connection"
like "$(printf '%s\n' "$R" | sed -n 4p)" '\$\.tenant' "the error reply names the field"
unlike "$(cat "$ADIR/acme.jsonl" "$T/auditd.log")" 's3cr3t' "a rejected message's values reach neither the file nor the log"
R=$("$SEND" "$ASOCK" "$(ev launch acme T1r 1)" "$(ev launch acme T1r 1)")
is "$(printf '%s\n' "$R" | jq -r '"\(.status) \(.line)"' | uniq | wc -l)" 1 "an event sent twice (same task, pid, seq) is acknowledged twice with the same line"
is "$(grep -c '"task":"T1r"' "$ADIR/acme.jsonl")" 1 "and written once"
R=$("$SEND" "$ASOCK" "$(ev launch acme T1s 5)" "$(ev exit acme T1t 3)")
is "$(printf '%s\n' "$R" | jq -r '.error // .status' | tr '\n' ' ')" "ok bad-seq " "a lower seq for another event on one connection is refused"
R=$("$SEND" "$ASOCK" "$(ev launch acme 'a/b' 1)")
is "$(jget "$R" .error)" bad-message "a task id with / is refused"
R=$("$SEND" "$ASOCK" '{"schema":1,"seq":1,"time":"2025-01-01T00:00:00Z","event":"launch","tenant":"../../etc/x","task":"t","pid":1}')
is "$(jget "$R" .error)" bad-message "a tenant that is a path is refused"
ok "$([ ! -e "$T/etc" ] && [ "$(ls "$ADIR" | grep -vc '\.jsonl$')" -eq 0 ]; echo $?)" "no file outside <tenant>.jsonl was created"

# A misbehaving crowd does not disturb a well-behaved client.
N=60
( i=1; while [ $i -le $N ]; do ev launch acme "good$i" $i; echo; i=$((i + 1)); done ) > "$T/good.in"
"$SEND" --timeout 10000 "$ASOCK" - < "$T/good.in" > "$T/good.out" &
GP=$!
BP=""
for k in 1 2 3 4; do
        ( for j in $(seq 1 30); do echo 'garbage {{{'; echo '{"schema":1,"seq":'; done ) | "$SEND" --no-wait "$ASOCK" - >/dev/null 2>&1 &
        BP="$BP $!"
        "$SEND" --no-wait "$ASOCK" @big:300000 @big:16385 @empty >/dev/null 2>&1 &
        BP="$BP $!"
        "$SEND" --no-wait --linger 1500 "$ASOCK" '{"schema":1,"seq":1,"time":"2025-' >/dev/null 2>&1 &
        BP="$BP $!"
done
wait $GP
for p in $BP; do wait "$p"; done
is "$(jq -r .status "$T/good.out" | sort | uniq -c | tr -s ' ')" " $N ok" "all $N events of the good client were acknowledged"
is "$(grep -c '"task":"good' "$ADIR/acme.jsonl")" "$N" "and all $N are in the file"
ok "$(kill -0 "$APID"; echo $?)" "the collector is still running"
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "the chain is intact after the crowd"

# Allow map: a uid may only write the tenants it is allowed.
R=$("$SEND" "$ASOCK" "$(ev launch initech T1 1)")
if is_root; then
        is "$(jget "$R" .status)" ok "root may write any tenant"
        chmod o+x "$T"  # let uid 65534 reach the socket
        R=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$SEND" "$ASOCK" "$(ev launch acme T1 1)")
        is "$(jget "$R" .error)" not-allowed "a uid not in the allow map is refused"
else
        is "$(jget "$R" .error)" not-allowed "a uid not allowed for the tenant is refused"
        R=$("$SEND" "$ASOCK" "$(ev launch globex T1 1)")
        is "$(jget "$R" .status)" ok "the same uid may write a tenant it is allowed"
fi
ok "$([ ! -e "$ADIR/initech.jsonl" ] || is_root; echo $?)" "nothing was written for the refused tenant"
printf '{"version":1,"allow":[{"uid":%s,"tenants":["*"]},{"uid":65534,"tenants":["acme"]}]}\n' "$AUID" > "$T/allow.json"
kill -HUP "$APID"; sleep 0.3
R=$("$SEND" "$ASOCK" "$(ev launch initech T1 1)")
is "$(jget "$R" .status)" ok "SIGHUP reloads the allow map (\"*\" allows every tenant)"

# Two collectors never share a socket or a directory.
"$AUDITD" --socket "$ASOCK" --dir "$T/other" 2>"$T/err2"
is "$?" 75 "a second collector on a live socket exits 75"
"$AUDITD" --socket "$T/other.sock" --dir "$ADIR" 2>"$T/err2"
is "$?" 75 "a second collector on the same directory exits 75"

# SIGTERM: clean stop, every acked line on disk, socket removed, counters logged.
ACKED=$(cat "$ADIR"/*.jsonl | wc -l)
stop_collector
is "$ACRC" 0 "SIGTERM: the collector exits 0"
ok "$([ ! -e "$ASOCK" ]; echo $?)" "the socket is removed"
like "$(tail -n1 "$T/auditd.log")" "stopping: [0-9]+ events acknowledged, [1-9][0-9]* rejected" "the counters are logged at exit"
start_collector
R=$("$SEND" "$ASOCK" "$(ev exit acme T1 1)")
is "$(jget "$R" .line)" "$(($(wc -l < "$ADIR/acme.jsonl")))" "a restarted collector continues the file's sequence"
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "chains intact across the restart"
stop_collector

# A write error (file size limit standing in for a full disk): error reply, no ack, no partial line.
SIZE=$(stat -c %s "$ADIR/acme.jsonl")
prlimit --fsize=$((SIZE + 100)) "$AUDITD" --socket "$ASOCK" --dir "$ADIR" --allow "$T/allow.json" 2>>"$T/auditd.log" &
APID=$!
for _i in $(seq 1 100); do [ -S "$ASOCK" ] && break; sleep 0.05; done
R=$("$SEND" "$ASOCK" "$(ev launch acme full 1)")
is "$(jget "$R" '"\(.status) \(.error)"')" "error write-failed" "write error: an error reply instead of an ack"
is "$(stat -c %s "$ADIR/acme.jsonl")" "$SIZE" "no partial line is left behind"
stop_collector
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "the chain is intact after the write error"

# A stale socket file (collector killed) is replaced on start.
start_collector
kill_collector
ok "$([ -S "$ASOCK" ]; echo $?)" "a killed collector leaves its socket behind"
start_collector
R=$("$SEND" "$ASOCK" "$(ev launch acme T9 1)")
is "$(jget "$R" .status)" ok "a new collector replaces the stale socket"
stop_collector

# SIGTERM in the middle of a stream: every acknowledged event is in the file.
start_collector
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
seq 1 3000 | awk -v now="$NOW" '{ printf "{\"schema\":1,\"seq\":%d,\"time\":\"%s\",\"event\":\"launch\",\"tenant\":\"acme\",\"task\":\"term%d\",\"pid\":1}\n", $1, now, $1 }' > "$T/term.in"
"$SEND" "$ASOCK" - < "$T/term.in" > "$T/term.out" 2>/dev/null &
SP=$!
for _i in $(seq 1 100); do [ "$(grep -c '"ok"' "$T/term.out" 2>/dev/null)" -gt 20 ] && break; sleep 0.02; done
stop_collector
wait "$SP"
ACKS=$(grep -c '"status":"ok"' "$T/term.out")
diag "$ACKS of 3000 events acknowledged before SIGTERM"
ok "$([ "$ACKS" -gt 0 ] && [ "$ACKS" -le "$(grep -c '"task":"term' "$ADIR/acme.jsonl")" ]; echo $?)" \
   "SIGTERM mid-stream: every acknowledged event is in the file"
"$SEALCTL" audit-verify "$ADIR" >/dev/null
ok $? "and the chain is intact"

# A group-writable allow map is refused.
chmod 0660 "$T/allow.json"
"$AUDITD" --socket "$ASOCK" --dir "$ADIR" --allow "$T/allow.json" 2>"$T/err2"
is "$?" 125 "a group-writable allow map is refused (125)"
chmod 0600 "$T/allow.json"

# systemd socket activation (LISTEN_FDS): the collector takes the passed socket.
# systemd-socket-activate: package systemd (make deps)
rm -f "$ASOCK"
systemd-socket-activate --seqpacket -l "$ASOCK" "$AUDITD" --dir "$ADIR" --allow "$T/allow.json" 2>>"$T/auditd.log" &
APID=$!
for _i in $(seq 1 100); do [ -S "$ASOCK" ] && break; sleep 0.05; done
R=$("$SEND" "$ASOCK" "$(ev launch acme sa1 1)")
is "$(jget "$R" .status)" ok "socket activation: the event on the passed socket is acknowledged"
stop_collector
