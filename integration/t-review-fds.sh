#!/bin/sh
# --key-fd and --status-fd on 0, 1 or 2: fds 0-2 always reach the payload,
# so the pool's secret key given as --key-fd 0 could be read by `cat`, and a
# payload could forge status lines on --status-fd 1. Both are refused (125,
# one line naming the flag); fds from 3 up keep working and stay closed for
# the payload.
. "$(dirname "$0")/lib.sh"
plan 15

"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
printf '{"tenant":"acme","credentials":[{"name":"tok","value":"not-the-key"}]}' |
        "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" \
                --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
# The secret part of the key file: what must never reach a payload.
SECRET=$(awk '{ print $4 }' "$T/acme.key")
PROF="--tenant acme --profile $T/acme.sealed --trust $T/issuer.pub"

# Control: the key given on fd 3 works, and fd 3 is closed for the payload.
# shellcheck disable=SC2086
"$SR" --policy "$TEST_POLICY" $PROF --key-fd 3 -- /bin/sh -c 'cat /run/credentials/tok 2>/dev/null || cat "$CREDENTIALS_DIRECTORY/tok"; cat <&3; exit 0' \
        3< "$T/acme.key" > "$T/out3" 2> "$T/err3"
rc=$?
is "$rc/$(head -n 1 "$T/out3")" "0/not-the-key" "control: --key-fd 3 decrypts the profile"
unlike "$(cat "$T/out3" "$T/err3")" "$SECRET" "control: the payload cannot read the key through fd 3"

for fd in 0 1 2; do
        # shellcheck disable=SC2086
        eval '"$SR" --policy "$TEST_POLICY" $PROF --key-fd $fd -- /bin/sh -c "cat <&$fd" '"$fd"'< "$T/acme.key"' \
                > "$T/out" 2> "$T/err"
        rc=$?
        out=$(cat "$T/out" "$T/err")
        ok "$([ "$rc" -eq 125 ] && [ "$(wc -l < "$T/err")" -le 1 ]; echo $?)" "--key-fd $fd: refused, exit 125 (got $rc)"
        unlike "$out" "$SECRET" "--key-fd $fd: the payload never reads the key"
        cp "$T/err" "$T/err$fd"
done
# (with --key-fd 2 the key file is stderr: the line has nowhere to go)
like "$(cat "$T/err0")" "^sealrun: --key-fd: fd 0 " "the line names the flag"

# --status-fd: a payload writing to stdout must not be able to pose as sealrun.
FORGED='{"version":1,"exit_code":0,"refused":null,"forged":true}'
"$SR" --policy "$TEST_POLICY" --status-fd 1 -- /bin/sh -c "echo '$FORGED'" > "$T/sout" 2> "$T/serr"
rc=$?
is "$rc" 125 "--status-fd 1: refused, exit 125"
unlike "$(cat "$T/sout")" forged "--status-fd 1: the payload never ran to forge a status line"
like "$(cat "$T/serr")" "^sealrun: --status-fd: fd 1 " "one line naming the flag"
for fd in 0 2; do
        eval '"$SR" --policy "$TEST_POLICY" --status-fd $fd -- /bin/true '"$fd"'> "$T/s$fd"' 2> "$T/serr$fd"
        is "$?" 125 "--status-fd $fd: refused"
done
# Control: fd 9 still carries the status and nothing of the payload.
srun -- /bin/sh -c "echo '$FORGED'; echo '$FORGED' >&9; true"
is "$RC/$(grep -c forged "$T/status")" 0/0 "control: --status-fd 9 works and the payload cannot write to it"
