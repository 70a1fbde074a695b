#!/bin/sh
# sealctl: keygen, seal, inspect, verify, revoke as a user sees them (exit codes, files, messages, no plaintext echoed).
. "$(dirname "$0")/lib.sh"
plan 44

S="$SEALCTL"
CANARY=sealctl-canary-51d0e2
cd "$T" || exit 1

# --- keygen ---------------------------------------------------------------------
id=$("$S" keygen --pool --out pool 2>"$T/err"); rc=$?
is "$rc" 0 "keygen --pool exits 0"
like "$id" '^[0-9a-f]{16}$' "keygen prints the key id"
is "$(stat -c %a pool.key)/$(stat -c %a pool.pub)" "600/644" "secret key 0600, public key 0644"
like "$(cat pool.pub)" "^sealrun-key/1 pool-public $id [A-Za-z0-9+/]{43}=$" "public key file: one line, kind, id, base64"
like "$(head -c 43 pool.key)" "^sealrun-key/1 pool-secret $id $" "secret key file starts with kind and id"
"$S" keygen --issuer --out issuer >/dev/null 2>&1
"$S" keygen --issuer --out rogue >/dev/null 2>&1
like "$(cat issuer.pub)" "^sealrun-key/1 issuer-public [0-9a-f]{16} " "keygen --issuer makes an issuer key"
"$S" keygen --pool --out pool >/dev/null 2>"$T/err"; rc=$?
is "$rc" 125 "keygen refuses to overwrite an existing key"
like "$(cat "$T/err")" "never overwrites" "and says why"
"$S" keygen --out x >/dev/null 2>&1; r1=$?
"$S" keygen --pool --issuer --out x >/dev/null 2>&1; r2=$?
is "$r1/$r2" "125/125" "keygen needs exactly one of --pool and --issuer"
# the id is BLAKE2b-256(public key)[0:8] in hex (docs/profiles.md "Keys and key files"): check with another implementation
want=$(cut -d' ' -f4 pool.pub | base64 -d | b2sum -l 256 | cut -c1-16)
is "$id" "$want" "key id = first 16 hex digits of BLAKE2b-256 of the public key (b2sum, coreutils)"

# --- seal -----------------------------------------------------------------------
printf '{"tenant":"acme","credentials":[{"name":"tok","value":"%s"},{"name":"ENV_K","as":"env","scope":"read:model:*","value_base64":"aGk="}]}' \
        "$CANARY" > plain.json
sealp() { "$S" seal --tenant "${TEN:-acme}" --profile agent --version 3 --not-after "${NA:-+1h}" --to pool.pub --sign issuer.key "$@" >"$T/out" 2>"$T/err"; rc=$?; }
sealp --in plain.json --out acme.sealed
is "$rc" 0 "seal exits 0"
like "$(cat "$T/err")" "acme/agent version 3 \(2 credentials\) sealed to pool $id" "seal reports what it sealed (names the pool)"
sealp --in - --out stdin.sealed < plain.json
is "$rc" 0 "seal reads the plaintext from stdin"
sealp --in plain.json --out -
like "$(cat "$T/out")" '^\{"header":\{"format":"sealrun-profile/1","tenant":"acme"' "--out - writes the envelope to stdout"
nocanary() { ! grep -qF "$CANARY" "$@"; }
ok "$(nocanary acme.sealed stdin.sealed "$T/out" "$T/err"; echo $?)" "the envelope holds no plaintext"

# plaintext validation: exit 125, names the place, never echoes the plaintext
bad() { # bad REGEX DESCRIPTION JSON
        printf '%s' "$3" > bad.json
        sealp --in bad.json --out bad.sealed
        if [ "$rc" = 125 ] && grep -Eq -- "$1" "$T/err" && nocanary "$T/err" "$T/out" && [ ! -e bad.sealed ]; then ok 0 "seal refuses $2"
        else ok 1 "seal refuses $2"; echo "#   rc=$rc"; sed 's/^/#   /' "$T/err"; fi
}
bad '\$\.tenant is "beta", but --tenant is "acme"' "a tenant differing from --tenant" \
        '{"tenant":"beta","credentials":[{"name":"t","value":"'$CANARY'"}]}'
bad 'duplicate credential name "t"' "duplicate names" \
        '{"tenant":"acme","credentials":[{"name":"t","value":"'$CANARY'"},{"name":"t","value":"x"}]}'
bad '\$\.credentials\[0\]\.name' "a name with '/'" '{"tenant":"acme","credentials":[{"name":"a/b","value":"'$CANARY'"}]}'
bad '\$\.credentials\[0\]\.as' "an unknown delivery" '{"tenant":"acme","credentials":[{"name":"t","as":"disk","value":"'$CANARY'"}]}'
bad 'value_base64: not valid base64' "bad base64" '{"tenant":"acme","credentials":[{"name":"t","value_base64":"'$CANARY'"}]}'
bad 'invalid JSON' "non-JSON plaintext (without quoting it)" '{"tenant":"acme","credentials":[{"name":"t","value":"'$CANARY'"'
bad 'unknown key' "an unknown key (without naming it)" '{"tenant":"acme","credentials":[{"name":"t","value":"v","'$CANARY'":1}]}'
NA=2001-01-01T00:00:00Z sealp --in plain.json --out past.sealed
is "$rc" 125 "seal refuses a --not-after in the past"
NA=tomorrow sealp --in plain.json --out past.sealed
is "$rc" 125 "seal refuses a --not-after that is not a time"
"$S" seal --tenant acme --profile agent --version 3 --not-after +1h --to issuer.pub --sign issuer.key --in plain.json --out x.sealed >/dev/null 2>"$T/err"
like "$?:$(cat "$T/err")" "^125:.*key kind is issuer-public, expected pool-public" "seal refuses an issuer key as recipient"
chmod 0640 issuer.key
sealp --in plain.json --out x.sealed
is "$rc" 77 "seal refuses a group-readable signing key"
chmod 0600 issuer.key

# --- inspect ----------------------------------------------------------------------
out=$("$S" inspect acme.sealed)
like "$out" "tenant: +acme" "inspect shows the tenant"
like "$out" "recipient: +$id" "inspect shows the recipient key id"
is "$("$S" inspect --json acme.sealed | jq -r '[.format, .tenant, .profile, (.version|tostring), .recipient] | join(" ")')" \
        "sealrun-profile/1 acme agent 3 $id" "inspect --json: the header as JSON"
echo '{}' > junk.sealed
"$S" inspect junk.sealed >/dev/null 2>&1
is "$?" 77 "inspect of a malformed file: 77"

# --- verify -------------------------------------------------------------------------
"$S" verify acme.sealed --trust issuer.pub >"$T/out" 2>&1
is "$?" 0 "verify with the right issuer: 0"
"$S" verify acme.sealed --trust rogue.pub >"$T/out" 2>"$T/err"
like "$?:$(cat "$T/err")" "^77:.*not trusted" "verify with another issuer: 77, untrusted"
"$S" verify acme.sealed --trust rogue.pub issuer.pub >/dev/null 2>&1
is "$?" 0 "verify accepts several keys after --trust"
sed 's/"version":3/"version":4/' acme.sealed > tampered.sealed
"$S" verify tampered.sealed --trust issuer.pub >/dev/null 2>"$T/err"
like "$?:$(cat "$T/err")" "^77:.*signature does not verify" "verify of a tampered header: 77, bad signature"

# --- revoke ---------------------------------------------------------------------------
"$S" revoke --revoked rl --tenant acme --profile agent --version 3 >"$T/out" 2>&1
is "$?:$(cat "$T/out")" "0:revoked: tenant=acme profile=agent version=3" "revoke appends an entry"
"$S" revoke --revoked rl --key-id "$id" --reason key-leaked >/dev/null 2>&1
is "$(grep -v '^#' rl | tr '\n' '|')" "tenant=acme profile=agent version=3|key=$id reason=key-leaked|" "the list holds one entry per line, with its reason"
"$S" verify acme.sealed --trust issuer.pub --revoked rl >/dev/null 2>"$T/err"
like "$?:$(cat "$T/err")" '^77:.*revoked by "tenant=acme profile=agent version=3"' "verify --revoked: 77"
"$S" revoke --revoked rl --tenant acme --profile agent --version 3 --reason again >"$T/out" 2>&1
like "$?:$(cat "$T/out")" '^0:already revoked: tenant=acme profile=agent version=3 reason=again \(by "tenant=acme profile=agent version=3" in rl; nothing written\)$' \
        "revoking twice is idempotent and says so"
is "$(grep -vc '^#' rl)" 2 "no duplicate line"
"$S" revoke --list rl --tenant acme --profile agent --version-below 3 >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out"):$(cat "$T/err")" \
        "0:revoked: tenant=acme profile=agent version<3:sealctl revoke: note: --list is deprecated, use --revoked FILE (the name sealrun, sealctl verify and sealrun-pool-init use)" \
        "--version-below N writes version<N; the old --list works with a one-line deprecation note"
"$S" revoke --revoked rl --tenant acme --profile agent --version 2 >"$T/out" 2>&1
like "$(cat "$T/out")" '^already revoked: .*by "tenant=acme profile=agent version<3"' "a version below an existing bound is already revoked"
"$S" revoke --revoked rl --tenant acme --version 3 >/dev/null 2>&1; r1=$?
"$S" revoke --revoked rl --key-id XYZ >/dev/null 2>&1; r2=$?
"$S" revoke --revoked rl --tenant acme --key-id "$id" >/dev/null 2>&1; r3=$?
"$S" revoke --revoked rl --tenant acme --profile agent --version-below 1 >/dev/null 2>&1; r4=$?
"$S" revoke --revoked rl --tenant acme --profile agent --version 3 --version-below 4 >/dev/null 2>&1; r5=$?
"$S" revoke --revoked rl --tenant acme --reason 'two words' >/dev/null 2>&1; r6=$?
"$S" revoke --revoked rl --tenant acme --profile agent --version-below 4x >/dev/null 2>&1; r7=$?
is "$r1/$r2/$r3/$r4/$r5/$r6/$r7" "125/125/125/125/125/125/125" \
        "revoke: --version without --profile, a bad key id, both kinds, version-below 1, both version flags, a reason with a space, 4x: 125"
bad=none
for c in keygen seal inspect verify revoke audit-verify; do
        "$S" $c -h >"$T/h1" 2>&1; h1=$?
        "$S" $c --help >"$T/h2" 2>&1; h2=$?
        [ "$h1/$h2" = 0/0 ] && cmp -s "$T/h1" "$T/h2" && [ "$(wc -l < "$T/h1")" -ge 3 ] && grep -q "^usage: sealctl $c " "$T/h1" || { echo "# $c: $h1/$h2"; bad=$c; }
done
is "$bad" none "every subcommand takes -h and --help, with a usage of several lines"
chmod 0666 rl
"$S" revoke --revoked rl --tenant acme >/dev/null 2>"$T/err"
like "$?:$(cat "$T/err")" "^77:.*writable by group or others" "revoke refuses a world-writable list"
