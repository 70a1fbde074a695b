#!/bin/sh
# sealrun-leaktest: the self-test catches every planted leak, and the normal
# run (two tenants through the real sealrun and sealrun-auditd) passes every
# vector, quickly, leaving nothing behind and never printing a credential.
. "$(dirname "$0")/lib.sh"
plan 21

LT="$SEALRUN_BUILD/sealrun-leaktest"
jqf() { jq -r "$2" "$1" 2>/dev/null; }
# Rows that did not pass, one per line (names and places only: the tool never prints a canary).
failures() { jq -r '.rows[] | select(.result == "FAIL") | "# FAIL [\(.name)] \(.check) -- \(.detail) \(.places | map(.what + " " + (.file // "") + " " + (.encoding // "")) | join("; "))"' "$1" 2>/dev/null; }
# The runs' own scratch directories go below $T (other jobs on the host run the
# leak test too); the self-test's plants are at fixed places.
LTTMP="$T/lttmp"; mkdir -m 0755 "$LTTMP"; chmod o+x "$T"
leftovers() { ls -d "$LTTMP"/sealrun-leaktest.* /tmp/sealrun-leaktest-plant.* /dev/shm/sealrun-leaktest-plant.* 2>/dev/null | sort; }
before=$(leftovers)

# --- the self-test: a planted leak per detector --------------------------------
TMPDIR="$LTTMP" "$LT" --self-test --json > "$T/self.json" 2> "$T/self.err"
rc=$?
is "$rc" 0 "self-test: every detector reports its planted leak (exit 0)"
[ "$rc" -eq 0 ] || { failures "$T/self.json"; sed 's/^/# /' "$T/self.err"; }
is "$(jqf "$T/self.json" '[.rows[] | select(.result == "FAIL")] | length')" 0 "self-test: no detector missed its plant"
ok "$([ "$(jqf "$T/self.json" '[.rows[] | select(.result == "PASS")] | length')" -ge 20 ]; echo $?)" \
        "self-test: at least 20 detectors exercised"

# --- the normal run --------------------------------------------------------------
start=$(date +%s)
TMPDIR="$LTTMP" "$LT" --json --junit "$T/run.xml" > "$T/run.json" 2> "$T/run.err"
rc=$?
took=$(($(date +%s) - start))
is "$rc" 0 "normal run: every vector passes (exit 0)"
[ "$rc" -eq 0 ] || { failures "$T/run.json"; sed 's/^/# /' "$T/run.err"; }
is "$(jqf "$T/run.json" '[.rows[].vector] | unique | join(",")')" "0,1,2,3,4,5,6,7,8,9,10,11,12,14" \
        "normal run: rows for every vector of the issue (and the delivery controls, and the brokered tripwire)"
is "$(jqf "$T/run.json" '[.rows[] | select(.name == "delivery" and .result != "PASS")] | length')" 0 \
        "normal run: both tenants' payloads received their own credentials (the leak checks mean something)"
is "$(jqf "$T/run.json" '[.rows[] | select(.name == "fail-closed" and .result == "PASS")] | length')" 8 \
        "normal run: the eight refusals (tampered, expired, revoked, foreign x2, wrong pool, untrusted, collector down)"
# brokered credentials: HTTPS through the broker to the leak test's own TLS server, bound in the sealed profile
is "$(jqf "$T/run.json" '.rows[] | select(.id == "delivery.brokered-tls") | .result')" PASS \
        "brokered: the bound TLS server received exactly the sealed header; the payload saw only its placeholder"
is "$(jqf "$T/run.json" '[.rows[] | select(.vector == 14) | "\(.id)=\(.result)"] | join(",")')" \
        "tripwire.unbound-host=PASS,tripwire.plain-http=PASS,tripwire.body=PASS" \
        "brokered: the placeholder to an unbound host, over plain HTTP and in a body, refused every time"
like "$(jqf "$T/run.json" '.rows[] | select(.id == "tripwire.body") | .detail')" \
        "^3 of 3 attempts answered 403 and none reached the server; the control reached it" \
        "tripwire: every attempt was refused and its control reached the server"
is "$(jqf "$T/self.json" '[.rows[] | select(.id | test("^self-test[.](delivery[.]brokered-tls|tripwire[.]|bound-server)")) | select(.result == "PASS")] | length')" 5 \
        "self-test: requests that bypass the broker are caught (wrong header, 3 forwarded), the server accepts the right header"
ok "$([ "$took" -lt 60 ]; echo $?)" "normal run took ${took} s (well under a minute)"
is "$(leftovers)" "$before" "nothing of either run is left in /tmp or /dev/shm"

# --- against pre-built sandboxes ---------------------------------------------------
# SEALRUN_LEAKTEST_PREBUILT=1: every task that passes no fd (the fail-closed
# vector: admission refusals, the collector down) runs in a sandbox built ahead
# by sealrun --prepare and claimed with sealrun --run; the payload probes pass
# their socket with --pass-fd, which a claim cannot carry (docs/prebuilt.md),
# and keep fresh sandboxes.
SEALRUN_LEAKTEST_PREBUILT=1 TMPDIR="$LTTMP" "$LT" --json > "$T/pre.json" 2> "$T/pre.err"
rc=$?
is "$rc" 0 "pre-built: every vector passes (exit 0)"
[ "$rc" -eq 0 ] || { failures "$T/pre.json"; sed 's/^/# /' "$T/pre.err"; }
is "$(jqf "$T/pre.json" '[.rows[] | select(.name == "fail-closed" and .result == "PASS")] | length')" 8 \
        "pre-built: the eight refusals, at the claim, leave nothing anywhere"

# --- for CI: stable ids, metadata, JUnit --------------------------------------------
is "$(jqf "$T/run.json" '[.rows[].id] | [length == (unique | length), (index("environ.other-uid") != null), (index("fail-closed.revoked") != null)] | map(tostring) | join(",")')" \
        "true,true,true" "JSON: every row has a unique, stable id (environ.other-uid, fail-closed.revoked)"
like "$(jqf "$T/run.json" '.meta | [.started, .finished, .kernel, .sealrun_version, (.policy_blake2b | length | tostring)] | join("|")')" \
        "^20[0-9-]+T[0-9:]+Z\|20[0-9-]+T[0-9:]+Z\|Linux $(uname -r) .*\|sealrun [0-9.]+\|64$" \
        "JSON meta: start and end times, the kernel, the tested sealrun's version, the policy's hash"
is "$(grep -c '<testcase ' "$T/run.xml")/$(grep -c '<failure ' "$T/run.xml")" "$(jqf "$T/run.json" '.rows | length')/0" \
        "--junit: one testcase per row, no failure"
like "$(grep -o '<testcase classname="sealrun-leaktest.environ" name="environ.other-uid">' "$T/run.xml")|$(head -n 1 "$T/run.xml")" \
        '^<testcase classname="sealrun-leaktest.environ" name="environ.other-uid">\|<\?xml version="1.0"' "--junit: testcases named by the row ids"

# --- the table form ------------------------------------------------------------------
"$LT" > "$T/run.txt" 2>&1
like "$(tail -n 1 "$T/run.txt")" "^[0-9]+ checks: [0-9]+ PASS, 0 FAIL, [0-9]+ not applicable => PASS$" "the table ends with the verdict"
# Bad usage: one line, exit 2.
"$LT" --bogus > "$T/bad.out" 2> "$T/bad.err"
is "$?:$(wc -l < "$T/bad.err")" "2:1" "an unknown option is one line on stderr and exit 2"
