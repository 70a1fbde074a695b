#!/bin/sh
# Brokered credentials, the profile side: a credential bound to hosts is
# refused outside network mode proxy (77 binding-needs-proxy) and is never
# delivered as a value; in proxy mode the payload gets a random placeholder
# (file and env as "as" says) and the secret is in none of the payload's
# processes (host-side /proc/PID/mem scan), its environment, files or
# output. sealctl seal refuses bad bindings; inspect --key shows them,
# never values. Root and unprivileged alike.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
plan 32

MEMSCAN="$IBIN/memscan"
mkcanary() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed "s/^/$1-/" > "$T/$1.canary"; }
mkcanary bound
mkcanary unbound

"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/pool" >/dev/null 2>&1
{
        printf '{"tenant":"acme","credentials":[{"name":"GH_TOKEN","as":"both","value":"'; cat "$T/bound.canary"
        printf '","bind":{"hosts":["api.test"],"inject":"bearer","resolve":{"api.test":["127.0.0.1"]}}},'
        printf '{"name":"plain","value":"'; cat "$T/unbound.canary"; printf '"}]}'
} > "$T/p.json"
seal() { "$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/pool.pub" \
        --sign "$T/issuer.key" --in "$1" --out "$2" 2>"$T/seal.err"; }
seal "$T/p.json" "$T/p.sealed"
ok $? "sealctl seals a profile with a bound credential"

# ---- sealctl: bad bindings refused, inspect shows names and hosts ----------
badseal() { # badseal JQ WANT DESCRIPTION
        jq "$1" "$T/p.json" > "$T/bad.json"
        seal "$T/bad.json" "$T/bad.sealed"; r=$?
        is "$r/$(grep -c "$2" "$T/seal.err")/$(grep -cF -f "$T/bound.canary" "$T/seal.err")" "125/1/0" "$3"
}
badseal '.credentials[0].bind.hosts = ["127.0.0.1"]' 'bind.hosts\[0\]: an address' "seal: an address as a bound host"
badseal '.credentials[0].bind.hosts = ["a.*.test"]' 'wildcard is allowed only' "seal: a wildcard inside a name"
badseal '.credentials[0].bind.inject = "header"' 'bind.header: missing' "seal: inject header without a header name"
badseal '.credentials[0].bind.extra = 1' 'bind: unknown key' "seal: an unknown key in bind"
badseal '.credentials[0].bind.resolve = {"other.test": ["127.0.0.1"]}' 'not among the binding' "seal: a pin for an unbound name"
badseal '.credentials[0].bind.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"' \
        'not PEM certificates that OpenSSL' "seal: ca_pem OpenSSL cannot parse"
badseal '.credentials[0].value += "\r\nX: y"' 'must fit one header field' "seal: CR/LF in a bound value (never quoted)"

"$SEALCTL" inspect "$T/p.sealed" --key "$T/pool.key" > "$T/insp" 2>&1
like "$(grep 'bound:' "$T/insp")" "inject=bearer port=443 hosts=api.test" "inspect --key shows the binding"
is "$(grep -cF -f "$T/bound.canary" "$T/insp")/$(grep -cF -f "$T/unbound.canary" "$T/insp")" "0/0" "inspect shows no value"
"$SEALCTL" inspect "$T/p.sealed" --key "$T/pool.key" --json > "$T/insp.json"
is "$(jq -c '.credentials[0].bind | [.hosts, .port, .inject, .resolve]' "$T/insp.json")" \
        '[["api.test"],443,"bearer",{"api.test":["127.0.0.1"]}]' "inspect --json: hosts, port, inject, pins"
"$SEALCTL" inspect "$T/p.sealed" --key "$T/issuer.key" > /dev/null 2>&1
is $? 125 "inspect --key with an issuer key is refused"

jq --arg iss "$T/issuer.pub" '.credentials = {"allow_env": true, "trusted_issuers": [$iss]}' "$TEST_POLICY" > "$T/none.json"
jq '.network = {"mode": "proxy", "egress": {"allow": [{"host": "api.test", "ports": [443]}]}}' "$T/none.json" > "$T/proxy.json"

# ---- outside proxy mode: refused, nothing delivered ------------------------
POLICY="$T/none.json" srun --tenant acme --profile "$T/p.sealed" --key "$T/pool.key" --audit off -- \
        /bin/sh -c 'echo ran; env; cat "$CREDENTIALS_DIRECTORY"/* 2>/dev/null'
is "$RC" 77 "a bound credential outside network mode proxy: 77"
is "$(jget "$STATUS" .refused)" binding-needs-proxy "status refused: binding-needs-proxy"
like "$ERR" "credential GH_TOKEN is bound to hosts" "one stderr line names the credential"
is "$(printf '%s%s%s' "$OUT" "$ERR" "$STATUS" | grep -cF -e "$(cat "$T/bound.canary")" -e "$(cat "$T/unbound.canary")")/$(echo "$OUT" | grep -c ran)" \
        "0/0" "the payload never ran; no value in output, stderr or status"

# ---- proxy mode: placeholders in, the secret stays in the broker -----------
POLICY="$T/proxy.json" srun --tenant acme --profile "$T/p.sealed" --key "$T/pool.key" --audit off -- /bin/sh -c '
        echo "env=$GH_TOKEN"; echo "file=$(cat "$CREDENTIALS_DIRECTORY/GH_TOKEN")"
        echo "plain=$(cat "$CREDENTIALS_DIRECTORY/plain")"
'
is "$RC" 0 "proxy mode: the task runs"
ph=$(echo "$OUT" | sed -n 's/^env=//p')
like "$ph" '^sealrun-ph-[0-9a-f]{32}$' "env delivery: a placeholder sealrun-ph- + 32 hex"
is "$(echo "$OUT" | sed -n 's/^file=//p')" "$ph" "file delivery: the same placeholder"
is "$(echo "$OUT" | sed -n 's/^plain=//p')" "$(cat "$T/unbound.canary")" "an unbound credential is delivered as before"
is "$(printf '%s%s%s' "$OUT" "$ERR" "$STATUS" | grep -cF -f "$T/bound.canary")" 0 "the secret is not in output, stderr or status"
is "$(jget "$STATUS" '.credentials.injected | join(",")')/$(jget "$STATUS" .credentials.scrubbed)" "GH_TOKEN,plain/true" \
        "status: both injected, scrub confirmed (the broker's wipe included)"
is "$(jget "$STATUS" '.credentials.brokered | join(",")')/$(jget "$STATUS" '.credentials.injections | length')" "GH_TOKEN/0" \
        "status: GH_TOKEN brokered, no request injected yet"

# the audit trail names the brokered credential, never a value
chmod o+x "$T"
start_collector
POLICY="$T/proxy.json" srun --tenant acme --task B1 --profile "$T/p.sealed" --key "$T/pool.key" --audit required \
        --audit-socket "$ASOCK" -- /bin/true
stop_collector
AF=$(ls "$ADIR"/acme*.jsonl 2>/dev/null | head -n 1)
is "$RC/$(jq -c 'select(.event.event == "inject" and .event.task == "B1") | .event.credentials' "$AF" 2>/dev/null)" \
        '0/[{"name":"GH_TOKEN","brokered":true},{"name":"plain"}]' "audit inject: GH_TOKEN marked brokered (rev 3)"
is "$(cat "$ADIR"/* 2>/dev/null | grep -cF -e "$(cat "$T/bound.canary")" -e "$(cat "$T/unbound.canary")")" 0 \
        "no value in the audit files"

POLICY="$T/proxy.json" srun --tenant acme --profile "$T/p.sealed" --key "$T/pool.key" --audit off -- /bin/sh -c 'echo "$GH_TOKEN"'
ok "$([ -n "$OUT" ] && [ "$OUT" != "$ph" ]; echo $?)" "a second task gets another placeholder"

# the payload's own search: environ, every file it can read (the needle is
# the secret's hex as a file for grep; written by this host shell, then
# bound in read-only: the control shows the search finds it there)
mkdir -p "$T/nd" && cp "$T/bound.canary" "$T/nd/needle"
POLICY="$T/proxy.json" srun --tenant acme --profile "$T/p.sealed" --key "$T/pool.key" --audit off \
        --ro-bind "$T/nd" /nd -- /bin/sh -c '
        tr "\0" "\n" < /proc/self/environ | grep -cF -f /nd/needle
        grep -rlsF -f /nd/needle / --exclude-dir=proc --exclude-dir=sys --exclude-dir=nd 2>/dev/null | wc -l
        grep -rlsF -f /nd/needle /nd | wc -l'
is "$(echo $OUT)" "0 0 1" "inside: the secret is in no env and no file (control: the search finds the needle file)"

# host-side scan of every process of the task but the broker
"$SR" --policy "$T/proxy.json" --tenant acme --profile "$T/p.sealed" --key "$T/pool.key" --audit off \
        --status-fd 9 --ro-bind "$IBIN" /t -- /bin/sh -c 'echo "ph=$GH_TOKEN"; exec sleep 3' > "$T/scan.out" 2>&1 9>"$T/scan.status" &
SUP=$!
i=0
while ! grep -q ph= "$T/scan.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
INIT=$(head -n 1 "$T/scan.status" | jq -r .pid 2>/dev/null)
desc() { for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; desc "$c"; done; }
PAY="" BROKER=""
for p in $(desc "$INIT"); do
        if [ "$(cat /proc/"$p"/comm 2>/dev/null)" = sealrun-proxy ]; then BROKER=$p; else PAY="$PAY $p"; fi
done
sed -n 's/^ph=//p' "$T/scan.out" | tr -d '\n' > "$T/ph.needle"
ok "$([ -n "$PAY" ] && [ -n "$BROKER" ]; echo $?)" "found the task's processes (payload side:$PAY; broker: $BROKER)"
"$MEMSCAN" "$T/ph.needle" $PAY > "$T/scan0" 2>&1; r0=$?
# each payload-side process alone: the payload's pid-namespace reaper is
# forked from init and not dumpable, so unprivileged it cannot be read
# (unreadable is reported, never counted as clean); the payload itself is
found=0 clean=""
for p in $PAY; do
        "$MEMSCAN" "$T/bound.canary" "$p" >> "$T/scan1" 2>&1
        case $? in 0) clean="$clean $(cat /proc/"$p"/comm 2>/dev/null)" ;; 1) found=1 ;; esac
done
sed 's/^/# /' "$T/scan0" "$T/scan1"
is "$r0" 1 "control: the scan finds the placeholder in the payload's memory"
is "$found" 0 "the secret is in no readable payload-side process (memory, environ, cmdline)"
like "$clean" "sleep" "the payload itself was read, and is clean"
if is_root; then
        "$MEMSCAN" "$T/bound.canary" "$INIT" > "$T/scan2" 2>&1; r2=$?
        sed 's/^/# /' "$T/scan2"
        is "$r2" 0 "nor in sandbox init"
else
        skip "sandbox init is not dumpable: only root can read its memory (the broker's likewise)"
fi
wait "$SUP"
