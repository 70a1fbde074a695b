#!/bin/sh
# Review: with a credentials directory below a payload-writable directory
# (a policy's "credentials.dir" in the home tmpfs), the payload renames the
# writable ancestor away and leaves an empty directory at the path. The scrub
# must still wipe the real mount, not report "scrubbed": true for the decoy.
# A host process holds an fd on the credential file (sent out by the payload)
# and reads it after the run.
. "$(dirname "$0")/lib.sh"
plan 4

FDP="$IBIN/fdpass"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/canary-/' > "$T/c"
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
{ printf '{"tenant":"acme","credentials":[{"name":"tok","value":"'; cat "$T/c"; printf '"}]}'; } |
        "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" \
                --sign "$T/issuer.key" --in - --out "$T/acme.sealed" 2>/dev/null
jq --arg iss "$T/issuer.pub" '.credentials = {"dir": "/home/sandbox/.creds/run", "trusted_issuers": [$iss]}' \
        "$TEST_POLICY" > "$T/pol.json"
mkdir -m 0777 "$T/s"
chmod 0755 "$T"

timeout 60 "$FDP" hold "$T/s/sock" "$T/go" "$T/got" &
H=$!
i=0
while [ ! -S "$T/s/sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
POLICY="$T/pol.json" srun --bind "$T/s" /s --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" -- /bin/sh -c '
        /t/fdpass send /s/sock "$CREDENTIALS_DIRECTORY/tok" || exit 9
        cd /home/sandbox && mv .creds .moved && mkdir -p .creds/run && test -s .moved/run/tok && echo moved'
is "$RC" 0 "the task runs"
is "$OUT" moved "the payload moved the credentials mount away and left a decoy directory"
touch "$T/go"
wait "$H"
ok "$([ -s "$T/got" ] && ! grep -qF -f "$T/c" "$T/got"; echo $?)" "the real credential file was wiped in place all the same"
is "$(jget "$STATUS" .credentials.scrubbed)" true "status JSON: scrubbed"
