#!/bin/sh
# Pre-built sandboxes (sealrun --prepare / --run): built ahead with the pool's
# policy only, claimed exactly once, nothing of a tenant inside before the
# claim, admission before anything of the task enters, the claimer's uid
# checked, and nothing left after a refusal, a stop or a broken sandbox.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/lib-resources.sh"
plan 45

"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/beta" >/dev/null 2>&1
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/pcanary-/' > "$T/canary"
{ printf '{"tenant":"acme","credentials":[{"name":"tok","value":"'; cat "$T/canary"; printf '"}]}'; } |
        "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" \
                --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
printf '{"tenant":"beta","credentials":[{"name":"tok","value":"b"}]}' |
        "$SEALCTL" seal --tenant beta --profile agent --version 1 --not-after +1h --to "$T/beta.pub" \
                --sign "$T/issuer.key" --in - --out "$T/beta.sealed" 2>/dev/null
jq --arg iss "$T/issuer.pub" '.credentials = {"trusted_issuers": [$iss]}' "$TEST_POLICY" > "$T/pol.json"
chmod 0644 "$T/pol.json" "$T/acme.sealed" "$T/beta.sealed"
start_collector || exit 1
mounts_snapshot > "$T/mounts.before"
CANARY=$(cat "$T/canary")

# prepare NAME [EXTRA]: a pre-built sandbox of tenant acme at $T/NAME.sock; sets PREP (its pid)
prepare() {
        _n=$1; shift
        rm -f "$T/$_n.sock"
        "$SR" --prepare --claim-socket "$T/$_n.sock" --policy "$T/pol.json" --tenant acme --ro-bind "$IBIN" /t \
                --audit-socket "$ASOCK" --audit required "$@" 2>"$T/$_n.prep.err" &
        PREP=$!
        for _i in $(seq 1 200); do [ -S "$T/$_n.sock" ] && return 0; sleep 0.02; done
        diag "not built: $(cat "$T/$_n.prep.err")"
        return 1
}
# claim NAME [OPTIONS] -- COMMAND: sealrun --run; sets RC OUT ERR STATUS
claim() {
        _n=$1; shift
        : > "$T/st"
        "$SR" --run "$T/$_n.sock" --status-fd 9 "$@" >"$T/out" 2>"$T/err" 9>"$T/st"
        RC=$?
        OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); STATUS=$(tail -n 1 "$T/st")
}
init_of() { pgrep -P "$1" | head -n 1; }

# --- a claimed task: the exit code, status and stdio contract ---------------
prepare a || exit 1
INIT=$(init_of "$PREP")
ok "$([ -n "$INIT" ] && kill -0 "$INIT"; echo $?)" "the sandbox exists before any claim (init is up)"
is "$(pgrep -P "$INIT" | wc -l)" 0 "before the claim, init is alone: no payload"
# nothing of a tenant inside before the claim: environment, cmdline, files
export PCANARY_ENV="$CANARY"
unlike "$(tr '\0' ' ' < "/proc/$INIT/environ" 2>/dev/null)" "$CANARY|PCANARY" "init's environment holds nothing of the claimer"
unlike "$(tr '\0' ' ' < "/proc/$INIT/cmdline")" "acme.sealed|acme.key|--profile" "no profile or key is named in the sandbox"
CREDS=$(ls -A "/proc/$INIT/root/run/credentials" 2>&1)
is "$CREDS" "" "the credentials directory is empty (a mountpoint, nothing staged)"
ok "$(ls "/proc/$INIT/root/run/credentials" >/dev/null 2>&1; echo $?)" "control: the sandbox's root is readable from the host here"
is "$(jq -r 'select(.event.tenant=="acme") | .event.event' "$ADIR/acme.jsonl" 2>/dev/null | wc -l)" 0 "no audit event before a claim"
claim a --task pa1 --profile "$T/acme.sealed" --key "$T/acme.key" --setenv X y -- /bin/sh -c \
        'cat "$CREDENTIALS_DIRECTORY/tok"; echo; echo "x=$X env=$PCANARY_ENV"; exit 3'
is "$RC" 3 "the claimer exits with the task's code"
wait "$PREP"
is "$?" 3 "so does the pre-built sandbox's supervisor"
is "$(printf '%s' "$OUT" | head -n 1)" "$CANARY" "the claimed task got its credential (decrypted inside after the claim)"
is "$(printf '%s' "$OUT" | sed -n 2p)" "x=y env=" "--setenv reaches the payload; undeclared claimer env does not"
is "$(jget "$STATUS" .task)" pa1 "the final status names the claim's task"
is "$(jget "$STATUS" .exit_code)" 3 "the final status has its exit code"
is "$(jget "$STATUS" '.credentials.injected | join(",")')" tok "the status lists the injected credential by name"
is "$(jq -r 'select(.event.task=="pa1") | .event.event' "$ADIR/acme.jsonl" | tr '\n' ' ')" "launch inject scrub exit " \
        "the trail of the claimed task: launch, inject, scrub, exit"
unlike "$(cat "$ADIR"/*.jsonl "$T/st" "$T/a.prep.err")" "$CANARY" "no credential byte in the trail, status or the supervisor's stderr"
ok "$([ ! -e "$T/a.sock" ]; echo $?)" "the claim socket is gone after its one claim"
claim a -- /bin/true
is "$RC" 75 "a second claim finds no sandbox (used exactly once): exit 75"

# --- the build belongs to the pool: a narrowing option is refused on a claim
prepare b || exit 1
claim b --bind "$T" /x -- /bin/true
is "$RC" 125 "a claim with --bind is refused before it connects (needs a fresh build)"
like "$ERR" "changes the sandbox's build" "the refusal says why, in one line"
claim b --network none -- /bin/true
is "$RC" 125 "a claim with --network is refused"
ok "$([ -S "$T/b.sock" ] && kill -0 "$PREP"; echo $?)" "the refused claims did not use the sandbox"

# --- admission refuses: nothing of the task entered, nothing is left --------
INIT=$(init_of "$PREP")
claim b --task pb1 --profile "$T/beta.sealed" --key "$T/acme.key" -- /bin/sh -c 'echo RAN'
is "$RC" 77 "another tenant's profile is refused (77)"
is "$OUT" "" "the payload never ran"
like "$(jget "$STATUS" .refused)" "tenant|recipient|key" "the status names the refusal"
wait "$PREP"
is "$?" 77 "the supervisor exits 77 too"
ok "$(kill -0 "$INIT" 2>/dev/null; [ $? -ne 0 ]; echo $?)" "the refused sandbox's init is gone"
is "$(jq -r 'select(.event.task=="pb1") | .event.event' "$ADIR/acme.jsonl" | tr '\n' ' ')" "deny " "the refusal is one deny event, no launch"
prepare c --task x >/dev/null
is "$?" 1 "--prepare with a task option is refused (no sandbox built)"

# --- the claimer's uid is checked (SO_PEERCRED) -----------------------------
prepare d || exit 1
if is_root && command -v setpriv >/dev/null 2>&1; then
        chmod 0777 "$T/d.sock"   # past the socket file's mode: the peer check alone decides
        setpriv --reuid 65534 --regid 65534 --clear-groups "$SR" --run "$T/d.sock" -- /bin/true >/dev/null 2>&1
        ok "$([ $? -ne 0 ]; echo $?)" "a claim from another uid fails"
        like "$(cat "$T/d.prep.err")" "claim refused: the claimer is not this sandbox's uid" "the supervisor refused it by SO_PEERCRED"
else
        skip "switching uid needs root (the unprivileged tier has no second uid)" "claim from another uid"
        skip "switching uid needs root (the unprivileged tier has no second uid)" "claim from another uid, supervisor"
fi
claim d --task pd1 -- /t/probe info
is "$RC" 0 "the owner's claim still gets the untouched sandbox"
is "$(jget "$OUT" .pid)" 2 "the payload is pid 2 of the sandbox's pid namespace"
is "$(jget "$OUT" '.fds | length')" 0 "no fd above 2 reaches the payload"
wait "$PREP"

# --- stop and breakage: torn down, never used -------------------------------
prepare e || exit 1
INIT=$(init_of "$PREP")
kill -TERM "$PREP"
wait "$PREP"
is "$?" 0 "an unclaimed sandbox stopped by SIGTERM exits 0"
ok "$(kill -0 "$INIT" 2>/dev/null; [ $? -ne 0 ]; echo $?)" "its init is gone"
ok "$([ ! -e "$T/e.sock" ]; echo $?)" "its claim socket is removed"
is "$(left_cgroups "pid$PREP")" 0 "its cgroup is removed"
prepare f || exit 1
kill -KILL "$(init_of "$PREP")"
wait "$PREP"
is "$?" 125 "a sandbox whose init died before a claim is discarded (125)"
like "$(cat "$T/f.prep.err")" "died before a task claimed it" "in one stderr line"
claim f -- /bin/true
is "$RC" 75 "and nobody can claim it (75)"

# --- a relayed signal reaches the claimed task ------------------------------
prepare g || exit 1
"$SR" --run "$T/g.sock" -- /bin/sh -c 'sleep 30' >/dev/null 2>&1 &
CL=$!
sleep 0.5
kill -TERM "$CL"
wait "$CL"
is "$?" 143 "SIGTERM to the claimer ends the task: exit 143"
wait "$PREP"

# --- the claimer dies: the task is cancelled, as a fresh sealrun's would be -
prepare h || exit 1
SLP=$((300000 + $$ % 10000))
"$SR" --run "$T/h.sock" -- /bin/sleep "$SLP" >/dev/null 2>&1 &
CL=$!
for _i in $(seq 1 100); do pgrep -f "^/bin/sleep $SLP" >/dev/null && break; sleep 0.05; done
kill -KILL "$CL"; wait "$CL" 2>/dev/null
wait "$PREP"
is "$?" 143 "SIGKILL of the claimer: the supervisor cancels the task (SIGTERM, 143)"
ok "$(pgrep -f "^/bin/sleep $SLP" >/dev/null; [ $? -ne 0 ]; echo $?)" "and its payload is gone"

is "$(new_mounts "$T/mounts.before")" "" "no mount left in the host namespace"
