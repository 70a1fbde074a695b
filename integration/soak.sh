#!/bin/sh
# The audit fault suite: load, supervisor SIGKILL, collector restarts, ENOSPC, SIGSTOP and early signals, then a table of
# runs, failures, leftovers and incomplete trails once the spool has drained. `make soak` runs the full counts;
# t-audit-faults.sh runs a few of each (SOAK_TAP=1 prints TAP instead of only the table).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/lib-resources.sh"

LOAD=${SOAK_LOAD:-500}; PAR=${SOAK_PAR:-8}; KILLS=${SOAK_KILLS:-50}; RESTARTS=${SOAK_RESTARTS:-30}
ENOSPC=${SOAK_ENOSPC:-20}; STOPS=${SOAK_STOPS:-16}; STOP_S=${SOAK_STOP_S:-10}; SIGNALS=${SOAK_SIGNALS:-60}
TAP=${SOAK_TAP:-0}
mkdir -p "$T/st" "$T/mark"
chmod 1777 "$T/mark"
[ "$TAP" = 1 ] && plan 26

"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
for tn in acme globex; do
        "$SEALCTL" keygen --pool --out "$T/$tn" >/dev/null 2>&1
        printf '{"tenant":"%s","credentials":[{"name":"tok","value":"v"}]}' "$tn" |
                "$SEALCTL" seal --tenant "$tn" --profile agent --version 1 --not-after +2h --to "$T/$tn.pub" \
                --sign "$T/issuer.key" --in - --out "$T/$tn.sealed" 2>/dev/null
done
# the audit tests' policy (default 5 s ack timeout); a 1 s one keeps the ENOSPC and SIGSTOP classes short
jq 'del(.audit)' "$TEST_POLICY" > "$T/pol.json"
jq 'del(.audit) + {"audit":{"ack_timeout_ms":1000}}' "$TEST_POLICY" > "$T/pol-short.json"

# one.sh TASK TENANT SOCKET [CMD...]: one credentialed, required-audit launch; rc and status kept per task.
cat > "$T/one.sh" <<EOS
#!/bin/sh
task=\$1 tenant=\$2 sock=\$3; shift 3
[ \$# -gt 0 ] || set -- /t/probe exit 0
\${SOAK_WRAP:-} "$SR" --policy "\${SOAK_POLICY:-$T/pol.json}" --ro-bind "$IBIN" /t --bind "$T/mark" /mark --tenant \$tenant --task \$task \
        --audit required --audit-socket \$sock --trust "$T/issuer.pub" --profile "$T/\$tenant.sealed" \
        --key "$T/\$tenant.key" --status-fd 9 "\$@" 9>"$T/st/\$task" 2>"$T/st/\$task.err"
echo \$? > "$T/st/\$task.rc"
EOS
chmod +x "$T/one.sh"
ONE="$T/one.sh"

# failures CLASS ALLOWED-RCS: runs of the class whose exit code is not one of ALLOWED-RCS.
failures() {
        n=0
        for f in "$T"/st/"$1"-*.rc; do
                [ -e "$f" ] || continue
                case " $2 " in *" $(cat "$f") "*) ;; *)
                        n=$((n + 1))
                        echo "# failed: ${f##*/} $(cat "$f"): $(head -c 300 "${f%.rc}.err" 2>/dev/null)" >&2; grep -A30 -e "ERROR: AddressSanitizer" -e "LeakSanitizer" -e "runtime error" "${f%.rc}.err" >&2 ;;
                esac
        done
        echo $n
}
runs() { ls "$T"/st/"$1"-*.rc 2>/dev/null | wc -l | tr -d ' '; }
leftovers() { # CLASS: processes, mounts, cgroups of the class still there
        p=$(pgrep -f -- "(--task |sleep \\\$1 )$1-" 2>/dev/null | wc -l | tr -d ' ')
        # only mounts this run's sealrun could have left (other jobs on the host mount too)
        m=$(new_mounts "$T/mounts0" | wc -l | tr -d ' ')
        c=$(left_cgroups "$1-" | tr -d ' ')
        echo "$p/$m/$c"
}
# incomplete CLASS DIR: trails that stop short (a launch, or an inject, without exit or abandoned, or events
# without a launch), events written twice, and status objects that disagree with the log (a "missing" event that is in
# the log, a "spooled" one that is not).
incomplete() {
        cls=$1; shift
        cat "$@"/*.jsonl 2>/dev/null | jq -r --arg c "$cls-" '.event | select(.task != null and (.task | startswith($c))) | "\(.task) \(.event)"' > "$T/ev.$cls"
        bad=$(awk '{ k = $1 " " $2; n[k]++; has[$1] = has[$1] " " $2 " " }
                END { for (k in n) if (n[k] > 1) bad++
                      for (t in has) { h = has[t]
                        ab = index(h, " abandoned ")
                        # cancelled or refused before its launch was sent: a deny alone is complete
                        if (!index(h, " launch ")) { if (!index(h, " deny ")) bad++ }
                        else if (!index(h, " exit ") && !ab) bad++ }
                      print bad + 0 }' "$T/ev.$cls")
        # name a few, for whoever reads the table
        awk '{ has[$1] = has[$1] " " $2; n[$1 " " $2]++ } END { for (t in has) if ((!index(has[t], " launch") && !index(has[t], " deny")) || (index(has[t], " launch") && !index(has[t], " exit") && !index(has[t], " abandoned"))) print t ":" has[t]
                for (k in n) if (n[k] > 1) print k " written " n[k] " times" }' \
                "$T/ev.$cls" | head -n 5 | sed 's/^/# incomplete: /' >&2
        mis=0
        for s in "$T"/st/"$cls"-*; do
                case "$s" in *.rc|*.err) continue ;; esac
                task=${s##*/}
                st=$(tail -n 1 "$s" 2>/dev/null)
                [ -n "$st" ] || continue
                for e in $(jget "$st" '.audit.missing[]?'); do
                        grep -qx "$task $e" "$T/ev.$cls" && mis=$((mis + 1))
                done
                for e in $(jget "$st" '.audit.spooled[]?'); do
                        grep -qx "$task $e" "$T/ev.$cls" || mis=$((mis + 1))
                done
        done
        echo "$bad $mis"
}
ROWS=""
row() { # CLASS DESCRIPTION ALLOWED-RCS [DIR]
        f=$(failures "$1" "$3"); l=$(leftovers "$1"); set -- "$@" "${4:-$ADIR}"
        i=$(incomplete "$1" "$4"); inc=${i% *}; mis=${i#* }
        ROWS="$ROWS| $2 | $(runs "$1") | $f | $l | $inc | $mis |
"
        if [ "$TAP" = 1 ]; then
                is "$f" 0 "$2: no failures"
                is "$l" "0/0/0" "$2: no process, mount or cgroup left"
                is "$inc" 0 "$2: no incomplete or duplicated trail"
                is "$mis" 0 "$2: status audit lists agree with the log"
        fi
}
flush() { "$SEALCTL" audit-flush >/dev/null 2>&1 || true; }

mounts_snapshot > "$T/mounts0"
start_collector || exit 1
START=$(date +%s)

# 1. load: LOAD launches per tenant, PAR at a time per tenant, both tenants at once.
# (wait on pids only: a bare `wait` would wait for the collector too)
LPS=""
for tn in acme globex; do
        seq 1 "$LOAD" | sed "s/^/ld-$tn-/" | xargs -P "$PAR" -I{} "$ONE" {} "$tn" "$ASOCK" &
        LPS="$LPS $!"
done
wait $LPS
flush
row ld "load $LOAD × $PAR × 2 tenants" "0"

# 2. supervisor SIGKILL after inject: the trail must end in "abandoned".
for i in $(seq 1 "$KILLS"); do
        task=kl-$i
        "$SR" --policy "$T/pol.json" --ro-bind "$IBIN" /t --bind "$T/mark" /mark --tenant acme --task $task \
                --audit required --audit-socket "$ASOCK" --trust "$T/issuer.pub" --profile "$T/acme.sealed" \
                --key "$T/acme.key" -- /bin/sh -c 'touch /mark/$0; sleep $1' "$task" 30 2>/dev/null &
        SP=$!
        for _i in $(seq 1 200); do [ -e "$T/mark/$task" ] && break; sleep 0.02; done
        kill -KILL "$SP"; wait "$SP" 2>/dev/null
        [ -e "$T/mark/$task" ] && echo 137 > "$T/st/$task.rc" || echo 1 > "$T/st/$task.rc"
done
# a SIGKILLed supervisor's cgroup is removed by a later launch once it is 3 s old, at most 32 per launch (docs/resources.md, "Which cgroup")
sleep 3.5
for i in $(seq 0 32 "$KILLS"); do "$ONE" kl-sweep$i acme "$ASOCK"; done
flush
row kl "supervisor SIGKILL after inject" "137 0"

# 3. collector restarts (SIGKILL and SIGTERM in turn, down 0–400 ms) under load.
seq 1 $((RESTARTS * 12)) | sed 's/^/rs-/' | xargs -P "$PAR" -I{} "$ONE" {} acme "$ASOCK" &
LP=$!
for i in $(seq 1 "$RESTARTS"); do
        sleep "0.$(( (i * 37) % 5 + 1 ))"
        if [ $((i % 2)) -eq 0 ]; then kill_collector; else stop_collector; fi
        sleep "0.$(( (i * 53) % 40 ))"
        start_collector || break
done
wait "$LP"
flush
# 75: a launch whose collector stayed unreachable past sealrun's 1 s reconnect
# window (a restart on a loaded host) is refused as temporary, before anything ran
row rs "collector restarts × $RESTARTS under load" "0 75"

# 4. ENOSPC: a collector on a full tmpfs; tasks before and while it is full. Refusals (75) are expected; every trail
#    started must complete once space is back and the spool has drained.
if is_root; then
        FDIR="$T/fulldir"; FSOCK="$T/full.sock"; mkdir -p "$FDIR"
        mount -t tmpfs -o size=512k tmpfs "$FDIR"
        OLD_ADIR=$ADIR OLD_SOCK=$ASOCK OLD_PID=$APID
        ADIR="$FDIR/audit" ASOCK=$FSOCK APID=
        start_collector
        SOAK_POLICY=$T/pol-short.json; export SOAK_POLICY
        half=$((ENOSPC / 2))
        LPS=""
        for task in $(seq 1 "$half" | sed 's/^/ns-/'); do
                "$ONE" "$task" acme "$FSOCK" /bin/sh -c 'touch /mark/$0; sleep 1' "$task" &
                LPS="$LPS $!"
        done
        sleep 0.5
        dd if=/dev/zero of="$FDIR/fill" bs=4k 2>/dev/null
        seq $((half + 1)) "$ENOSPC" | sed 's/^/ns-/' | xargs -P "$PAR" -I{} "$ONE" {} acme "$FSOCK"
        wait $LPS
        rm -f "$FDIR/fill"
        flush
        stop_collector
        cp -r "$FDIR/audit" "$T/fullcopy"
        umount "$FDIR"
        ADIR=$OLD_ADIR ASOCK=$OLD_SOCK APID=$OLD_PID
        unset SOAK_POLICY
        row ns "ENOSPC on the audit dir" "0 75" "$T/fullcopy"
else
        ROWS="$ROWS| ENOSPC on the audit dir | skipped: needs root to mount a small tmpfs | | | | |
"
        [ "$TAP" = 1 ] && for _i in 1 2 3 4; do skip "ENOSPC: mounting a full tmpfs needs root"; done
fi

# 5. SIGSTOP: the collector stops for STOP_S seconds while tasks end; exits are held ≤ 5 s, then spooled (root)
#    or listed; after SIGCONT and a drain the log and the status objects agree.
seq 1 "$STOPS" | sed 's/^/st-/' | SOAK_POLICY=$T/pol-short.json xargs -P "$STOPS" -I{} "$ONE" {} globex "$ASOCK" /bin/sh -c 'sleep 1' &
LP=$!
sleep 0.7
kill -STOP "$APID"
sleep "$STOP_S"
kill -CONT "$APID"
wait "$LP"
sleep 0.5; flush
row st "collector SIGSTOP ${STOP_S} s" "0 75"

# 6. early signals: TERM, INT, HUP sent 0–20 ms after sealrun's exec, in 1/3 ms steps.
for i in $(seq 1 "$SIGNALS"); do
        task=sig-$i
        case $((i % 3)) in 0) sg=TERM ;; 1) sg=INT ;; *) sg=HUP ;; esac
        SOAK_WRAP="$IBIN/sigat $sg $(( (i * 1000 / 3) % 21000 ))" "$ONE" "$task" acme "$ASOCK"
        # a proper end: a final status object and at most one stderr line
        if [ -z "$(tail -n 1 "$T/st/$task" 2>/dev/null | jq -r '.exit_code // empty' 2>/dev/null)" ] ||
           [ "$(wc -l < "$T/st/$task.err")" -gt 1 ]; then
                echo "# silent or noisy: $task $sg rc $(cat "$T/st/$task.rc"): $(head -c 200 "$T/st/$task.err")" >&2
                echo 1 > "$T/st/$task.rc"
        fi
done
sleep 0.5; flush
row sig "early signals (TERM/INT/HUP 0–20 ms)" "0 75 125 $((128 + 15)) $((128 + 2)) $((128 + 1))"

if is_root; then
        FL=$("$SEALCTL" audit-flush 2>&1)
        [ "$TAP" = 1 ] && like "$FL" " 0 of running tasks, 0 left" "the spool has drained"
else
        [ "$TAP" = 1 ] && skip "the spool is root's (unprivileged callers hold and retry)"
fi
stop_collector
"$SEALCTL" audit-verify "$ADIR" >/dev/null
CHAIN=$?
[ "$TAP" = 1 ] && ok "$CHAIN" "every chain verifies after all faults"

printf '\n| fault class | runs | failures | leftovers (proc/mount/cgroup) | incomplete trails | status ≠ log |\n|---|---|---|---|---|---|\n%s' "$ROWS" >&2
echo "chains: $([ "$CHAIN" -eq 0 ] && echo intact || echo BROKEN); left at the end: $(for c in ld kl rs ns st sig; do leftovers $c; done | awk -F/ '{ p += $1; c += $3 } END { print p "/" c }') (proc/cgroup); $(($(date +%s) - START)) s; $(uname -r); $(id -un)" >&2
