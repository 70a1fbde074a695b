#!/bin/sh
# Bad sealed profiles, keys and credential settings: refused with the
# documented exit code and one stderr line, no secret anywhere, and (for
# everything the header shows) no sandbox started at all.
. "$(dirname "$0")/lib.sh"
plan 48

D="$SEALRUN_SRC/tests/data"
CANARY=sealrun-refuse-canary-7f3a9c   # in the plaintexts below; never on any output
"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --issuer --out "$T/rogue" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/other" >/dev/null 2>&1
printf '{"tenant":"acme","credentials":[{"name":"tok","value":"%s"},{"name":"k","scope":"read:model:*","value":"%s"}]}' \
        "$CANARY" "$CANARY" > "$T/plain.json"
seal() { # seal OUT TENANT ISSUER-PREFIX POOL-PREFIX [NOT-AFTER] [VERSION] [PROFILE]
        "$SEALCTL" seal --tenant "$2" --profile "${7:-agent}" --version "${6:-3}" --not-after "${5:-+1h}" --to "$T/$4.pub" \
                --sign "$T/$3.key" --in "$T/plain.json" --out "$T/$1" 2>/dev/null
}
seal good.sealed acme issuer acme
seal rogue.sealed acme rogue acme
seal short.sealed acme issuer acme +2s
sed 's/"tenant":"acme"/"tenant":"beta"/' "$T/plain.json" > "$T/plain-beta.json"
"$SEALCTL" seal --tenant beta --profile agent --version 1 --not-after +1h --to "$T/acme.pub" --sign "$T/issuer.key" \
        --in "$T/plain-beta.json" --out "$T/beta.sealed" 2>/dev/null
jq --arg iss "$T/issuer.pub" '.credentials = {"scope_ceiling": ["read:model:*"], "trusted_issuers": [$iss]}' "$TEST_POLICY" > "$T/pol.json"
POL="$T/pol.json"
cp "$D/sample-pool.key" "$T/sample.key" && chmod 0600 "$T/sample.key"
cp "$D/sample-issuer.pub" "$T/sample-issuer.pub" && chmod 0644 "$T/sample-issuer.pub"

# run PROFILE [sealrun args...]: the payload would leave a line on stdout if it ever ran
run() {
        prof=$1; shift
        : > "$T/status"
        "$SR" --policy "$POL" --status-fd 9 --tenant "${TENANT:-acme}" --profile "$prof" "$@" -- /bin/sh -c 'echo RAN' \
                >"$T/out" 2>"$T/err" 9>"$T/status"
        rc=$?
}
# The refusal is clean: one line on stderr, no payload run, no secret shown,
# no "running" line (the payload never ran), credentials reported as they were (nothing
# injected, nothing scrubbed), and (unless after=1) nothing cloned: pid null in the status.
clean() {
        [ "$(wc -l < "$T/err")" -eq 1 ] || return 1
        [ ! -s "$T/out" ] || return 1
        ! grep -qF -e "$CANARY" -e FIXTURE-CANARY "$T/err" "$T/status" || return 1
        [ "$(wc -l < "$T/status")" -eq 1 ] || return 1
        [ "$(jq -c '(.credentials // {injected: [], scrubbed: false}) | [.injected, .scrubbed]' "$T/status")" = '[[],false]' ] || return 1
        [ "${after:-0}" = 1 ] || grep -q '"pid":null,' "$T/status" || return 1
}
# expect CODE REGEX DESCRIPTION PROFILE [args...]
expect() {
        code=$1 re=$2 desc=$3; shift 3
        run "$@"
        if [ "$rc" = "$code" ] && grep -Eq -- "$re" "$T/err" && clean; then ok 0 "$desc: exit $code, one clean line"
        else ok 1 "$desc: exit $code, one clean line"; echo "#   rc=$rc"; sed 's/^/#   stderr: /' "$T/err"; fi
}
mounts_snapshot > "$T/mounts.before"

run "$T/good.sealed" --key "$T/acme.key"
is "$rc/$(cat "$T/out")" "0/RAN" "the untampered profile runs (control)"

# --- every byte of header, ciphertext and signature, flipped in turn --------
size=$(wc -c < "$T/good.sealed")
mkdir "$T/flips"
perl -e 'open(F, "<", $ARGV[0]) or die; binmode F; local $/; my $d = <F>;
        for my $f (1, 128) { for my $i (0 .. length($d) - 1) { my $c = $d;
                substr($c, $i, 1) = chr(ord(substr($c, $i, 1)) ^ $f);
                open(O, ">", "$ARGV[1]/$f.$i") or die; binmode O; print O $c; close O } }' "$T/good.sealed" "$T/flips"
# Two at a time (a core each): each flipped file through sealrun with its own
# output files and its exit code; then the same checks as run + clean above
# over all of them at once (a process per check, not per file), a line per
# refusal that is not clean.
cat > "$T/flipcheck.sh" <<'CHECK'
for f; do
        o=$f.o
        : > "$o.status"
        "$SR" --policy "$POL" --status-fd 9 --tenant acme --profile "$f" --key "$T/acme.key" -- /bin/sh -c 'echo RAN' \
                >"$o.out" 2>"$o.err" 9>"$o.status"
        echo $? > "$o.rc"
done
CHECK
# flipbad FLIP: the flipped files (by name) whose refusal is not clean, with why
flipbad() {
        (
        cd "$T/flips" || exit 1
        # exit code 77, exactly one stderr line, no payload output, one status line
        awk -v flip="$1" '
                FNR == 1 { f = FILENAME; sub(/\.o\.[a-z]+$/, "", f) }
                FILENAME ~ /\.rc$/ && $0 != "77" { print f ": rc=" $0 }
                FILENAME ~ /\.(err|status)$/ { n[FILENAME]++ }
                FILENAME ~ /\.out$/ { print f ": the payload ran" }
                END { for (x in n) if (n[x] != 1) { y = x; sub(/\.o\.[a-z]+$/, "", y); print y ": " n[x] " lines in " x } }' \
                "$1".*.o.rc "$1".*.o.err "$1".*.o.status "$1".*.o.out
        for x in "$1".*.o.err "$1".*.o.status; do [ -s "$x" ] || echo "${x%.o.*}: $x is empty"; done
        grep -lF -e "$CANARY" -e FIXTURE-CANARY "$1".*.o.err "$1".*.o.status | sed 's/\.o\..*/: a secret is shown/'
        grep -L '"pid":null,' "$1".*.o.status | sed 's/\.o\..*/: a sandbox was created/'
        jq -r 'select(((.credentials // {injected: [], scrubbed: false}) | [.injected, .scrubbed]) != [[], false]) |
                input_filename | sub("\\.o\\..*"; ": credentials reported")' "$1".*.o.status
        ) | sort -u
}
# Under the sanitizer build (make check's asan tier) every flipped file still
# runs with AddressSanitizer and UBSan, but without LeakSanitizer's scan at
# exit (40 ms of each run, 2x672 runs): the refusals above and below keep it.
FLIP_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:detect_leaks=0}
for flip in 1 128; do
        ls "$T/flips" | grep -E "^$flip\.[0-9]+$" | sed "s|^|$T/flips/|" |
                SR="$SR" POL="$POL" T="$T" ASAN_OPTIONS="$FLIP_ASAN" xargs -P 2 -n 16 sh "$T/flipcheck.sh"
        n=$(ls "$T/flips" | grep -cE "^$flip\.[0-9]+$")
        flipbad "$flip" > "$T/flips.$flip.bad"
        bad=$(cut -d: -f1 "$T/flips.$flip.bad" | sort -u | wc -l)
        head -n 3 "$T/flips.$flip.bad" | sed 's/^/#   byte /'
        is "$n/$bad" "$size/0" "each of the $size bytes XOR $flip: refused with 77 before any clone"
done

# --- malformed envelopes ------------------------------------------------------
head -c 100 "$T/good.sealed" > "$T/trunc1.sealed"
head -c $((size - 10)) "$T/good.sealed" > "$T/trunc2.sealed"
: > "$T/empty.sealed"
echo 'not json' > "$T/notjson.sealed"
echo '[]' > "$T/array.sealed"
echo '{"header":"x","epk":1,"nonce":[],"ciphertext":null,"signature":{}}' > "$T/types.sealed"
{ cat "$T/good.sealed"; head -c 1100000 /dev/zero | tr '\0' ' '; } > "$T/big.sealed"
expect 77 "invalid JSON" "truncated at 100 bytes" "$T/trunc1.sealed" --key "$T/acme.key"
expect 77 "invalid JSON" "truncated by 10 bytes" "$T/trunc2.sealed" --key "$T/acme.key"
expect 77 "invalid JSON" "empty file" "$T/empty.sealed" --key "$T/acme.key"
expect 77 "invalid JSON" "not JSON" "$T/notjson.sealed" --key "$T/acme.key"
expect 77 '\$: expected an object' "JSON of the wrong type" "$T/array.sealed" --key "$T/acme.key"
expect 77 '\$\.header: expected an object' "fields of the wrong types" "$T/types.sealed" --key "$T/acme.key"
expect 77 "larger than 1048576 bytes" "oversized (> 1 MiB)" "$T/big.sealed" --key "$T/acme.key"
expect 125 "cannot open" "missing profile file" "$T/nope.sealed" --key "$T/acme.key"

# --- keys ----------------------------------------------------------------------
expect 77 "sealed to pool key [0-9a-f]{16}, but --key .* is key" "wrong pool key" "$T/good.sealed" --key "$T/other.key"
chmod 0640 "$T/acme.key"
expect 77 "accessible by group or others \(mode 0640\)" "group-readable key file" "$T/good.sealed" --key "$T/acme.key"
chmod 0604 "$T/acme.key"
expect 77 "accessible by group or others \(mode 0604\)" "world-readable key file" "$T/good.sealed" --key-fd 7 7<"$T/acme.key"
chmod 0600 "$T/acme.key"
expect 125 "not a pool-secret key" "issuer key given as the pool key" "$T/good.sealed" --key "$T/issuer.key"
expect 125 "not a regular file" "key through a pipe" "$T/good.sealed" --key-fd 7 7< /dev/null
ln -s "$T/acme.key" "$T/link.key"
expect 125 "symlinks are not followed" "key through a symlink" "$T/good.sealed" --key "$T/link.key"

# --- tenant, time, trust ----------------------------------------------------------
TENANT=beta expect 77 "profile of tenant acme, but --tenant is beta" "another tenant's profile" "$T/good.sealed" --key "$T/acme.key"
expect 77 "profile of tenant beta, but --tenant is acme" "profile sealed for another tenant" "$T/beta.sealed" --key "$T/acme.key"
jq '.tenant = "beta"' "$POL" > "$T/pol-beta.json"
POL="$T/pol-beta.json" expect 77 "bound to tenant beta" "policy bound to another tenant" "$T/good.sealed" --key "$T/acme.key"
sleep 2
expect 77 "profile expired at" "expired (sealed +2s, run later)" "$T/short.sealed" --key "$T/acme.key"
jq --arg iss "$T/sample-issuer.pub" '.credentials.trusted_issuers = [$iss]' "$POL" > "$T/pol-sample.json"
POL="$T/pol-sample.json" TENANT=sample expect 77 "profile expired at 2020-01-01T00:00:00Z" "expired (committed fixture)" "$D/expired.sealed" --key "$T/sample.key"
expect 77 "signed by issuer [0-9a-f]{16}, which is not trusted" "untrusted issuer" "$T/rogue.sealed" --key "$T/acme.key"
expect 77 "not among the issuers the policy .* trusts" "--trust cannot widen the policy's issuers" "$T/rogue.sealed" --key "$T/acme.key" --trust "$T/rogue.pub"
POL="$TEST_POLICY" expect 125 "no trusted issuer" "no trusted issuer configured" "$T/good.sealed" --key "$T/acme.key"

# --- revocation ---------------------------------------------------------------------
"$SEALCTL" revoke --revoked "$T/rl1" --tenant acme >/dev/null
"$SEALCTL" revoke --revoked "$T/rl2" --tenant acme --profile agent >/dev/null
"$SEALCTL" revoke --revoked "$T/rl3" --tenant acme --profile agent --version 3 >/dev/null
"$SEALCTL" revoke --revoked "$T/rl4" --tenant acme --profile agent --version 4 >/dev/null
"$SEALCTL" revoke --revoked "$T/rl5" --key-id "$(cut -d' ' -f3 "$T/acme.pub")" >/dev/null
"$SEALCTL" revoke --revoked "$T/rl6" --key-id "$(cut -d' ' -f3 "$T/issuer.pub")" >/dev/null
expect 77 'revoked by "tenant=acme"' "revoked: tenant" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl1"
expect 77 'revoked by "tenant=acme profile=agent"' "revoked: tenant + profile" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl2"
expect 77 'revoked by "tenant=acme profile=agent version=3"' "revoked: tenant + profile + version" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl3"
run "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl4"
is "$rc" 0 "another version's revocation does not apply"
expect 77 'revoked by "key=[0-9a-f]{16}"' "revoked: pool key id" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl5"
expect 77 'revoked by "key=[0-9a-f]{16}"' "revoked: issuer key id" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl6"
"$SEALCTL" revoke --revoked "$T/rl7" --tenant acme --profile agent --version-below 4 --reason rotated >/dev/null
"$SEALCTL" revoke --revoked "$T/rl8" --tenant acme --profile agent --version-below 3 >/dev/null
expect 77 'revoked by "tenant=acme profile=agent version<4 reason=rotated"' "revoked: every version below 4, the reason shown" \
        "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl7"
run "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl8"
is "$rc" 0 "not revoked: version 3 is not below 3"
jq --arg rl "$T/rl3" '.credentials.revocation_list = $rl' "$POL" > "$T/pol-old.json"
POL="$T/pol-old.json" expect 125 '\$\.credentials\.revocation_list: renamed: use "revoked"' "the old policy key is refused with a pointer to the new one" \
        "$T/good.sealed" --key "$T/acme.key"
jq --arg rl "$T/rl3" '.credentials.revoked = $rl' "$POL" > "$T/pol-rl.json"
POL="$T/pol-rl.json" expect 77 "revoked by" "revocation list from the policy" "$T/good.sealed" --key "$T/acme.key"
chmod 0664 "$T/rl1"
expect 77 "writable by group or others" "group-writable revocation list" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl1"
printf 'tenant=acme\nrevoke everything\n' > "$T/rl-bad" && chmod 0644 "$T/rl-bad"
expect 125 "rl-bad:2: expected" "malformed revocation list" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/rl-bad"
expect 125 "cannot open revocation list" "missing revocation list" "$T/good.sealed" --key "$T/acme.key" --revoked "$T/nope"

# --- scopes ----------------------------------------------------------------------------
expect 77 "--scope admin:org:x: above the ceiling" "scope above the ceiling" "$T/good.sealed" --key "$T/acme.key" --scope 'read:model:x' --scope admin:org:x
expect 77 "above the ceiling" "an action the ceiling does not grant" "$T/good.sealed" --key "$T/acme.key" --scope 'write:model:gpt'
expect 125 "not a scope" "malformed scope" "$T/good.sealed" --key "$T/acme.key" --scope 'read:model:gpt*'

# --- what only the sandbox can see (after decryption): still 77, payload never runs ---------
after=1
POL="$T/pol-sample.json" TENANT=sample expect 77 "tenant other, the header sample" "plaintext tenant differs from the header" "$D/bad-tenant.sealed" --key "$T/sample.key"
POL="$T/pol-sample.json" TENANT=sample expect 77 'duplicate credential name "t"' "duplicate credential names" "$D/bad-dupnames.sealed" --key "$T/sample.key"
POL="$T/pol-sample.json" TENANT=sample expect 77 '\$\.credentials\[0\]\.name' "invalid credential name" "$D/bad-name.sealed" --key "$T/sample.key"
POL="$T/pol-sample.json" TENANT=sample expect 77 "invalid JSON" "plaintext not JSON" "$D/bad-json.sealed" --key "$T/sample.key"
jq '.credentials.dir = "/usr/creds"' "$POL" > "$T/pol-dir.json"
POL="$T/pol-dir.json" expect 125 "/usr/creds" "credentials directory impossible to create" "$T/good.sealed" --key "$T/acme.key"
after=0

is "$(new_mounts "$T/mounts.before")" "" "no mount left behind"
ok "$(pgrep -f "^$SR " >/dev/null; [ $? -ne 0 ]; echo $?)" "no sealrun process left behind"
