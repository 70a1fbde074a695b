#!/bin/sh
# Review: the credentials are wiped in place even when the supervisor is
# SIGKILLed mid-task. A host process holds an fd on the staged credential
# file (the payload sends it out over a bound unix socket) and reads it once
# the sandbox is gone: a scrubbed file reads as zeros, an unscrubbed one
# still holds the plaintext in pages the kernel frees without wiping.
. "$(dirname "$0")/lib.sh"
plan 6

FDP="$IBIN/fdpass"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/canary-/' > "$T/c"
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
{ printf '{"tenant":"acme","credentials":[{"name":"tok","value":"'; cat "$T/c"; printf '"}]}'; } |
        "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" \
                --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
mkdir -m 0777 "$T/s"
chmod 0755 "$T"    # as root the payload is nobody on the host

# start CASE PAYLOAD-TAIL: a holder on the host, then the task in the background (S, H)
start() {
        rm -f "$T/s/sock" "$T/go" "$T/got"
        timeout 60 "$FDP" hold "$T/s/sock" "$T/go" "$T/got" &
        H=$!
        i=0
        while [ ! -S "$T/s/sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        "$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t --bind "$T/s" /s --tenant acme --profile "$T/acme.sealed" \
                --key "$T/acme.key" --trust "$T/issuer.pub" -- /bin/sh -c \
                '/t/fdpass send /s/sock "$CREDENTIALS_DIRECTORY/tok" && echo ready; '"$2" > "$T/$1.out" 2>&1 &
        S=$!
        i=0
        while ! grep -q ready "$T/$1.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
# collect: let the holder read through its fd
collect() { touch "$T/go"; wait "$H"; }
has_canary() { grep -qF -f "$T/c" "$T/got" 2>/dev/null; }

start normal 'exit 0'
wait "$S"
is "$?" 0 "baseline: the task exits normally"
collect
ok "$([ -s "$T/got" ] && ! has_canary; echo $?)" "baseline: after a normal exit the held credential file reads as zeros"

start killed 'exec sleep 30'
ok "$(grep -q ready "$T/killed.out"; echo $?)" "the payload handed out an fd on its credential file"
kill -9 "$S"
wait "$S" 2>/dev/null
# sandbox init shares sealrun's command line, which names $T
i=0
while pgrep -f -- "$T/acme.sealed" >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ok "$(pgrep -f -- "$T/acme.sealed" >/dev/null; [ $? -ne 0 ]; echo $?)" "supervisor SIGKILLed: no sandbox process is left"
collect
ok "$(! has_canary; echo $?)" "supervisor SIGKILLed: the credential was still wiped in place"
ok "$(grep -l ' /run/credentials ' /proc/[0-9]*/mountinfo 2>/dev/null | while read -r f; do
        tr '\0' ' ' < "${f%/mountinfo}/cmdline" 2>/dev/null | grep -q -- "$T" && echo "$f"; done | grep -q .; [ $? -ne 0 ]; echo $?)" \
        "supervisor SIGKILLed: no credentials mount is left"
