#!/bin/sh
# network mode "proxy": real clients reach allowed hosts by name through the
# in-sandbox proxy (CONNECT, forward requests) and the DNS path; every deny
# path answers with its status code and reason, recorded in the status JSON.
# Servers run on the host loopback; names reach them through resolve pins.
# Root and unprivileged alike.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
. "$(dirname "$0")/egress/lib.sh"
. "$(dirname "$0")/audit-lib.sh"
plan 65

eg_ca
eg_www
eg_servers
POL=$(eg_policy main)
B="--ro-bind $T/ca /ca --ro-bind $EG /eg"
CURL="/usr/bin/curl -sS -m 10"

# ---- allowed: real clients --------------------------------------------------
POLICY=$POL srun $B -- $CURL "http://api.test:$HP/index.txt"
is "$OUT" hello-egress "curl: plain-HTTP forward request to an allowed name"
is "$(jget "$STATUS" .network)" proxy "status JSON says network proxy"
is "$(jget "$STATUS" '.egress.connections')" 1 "status counts the connection"
ok "$( [ "$(jget "$STATUS" '.egress.bytes')" -gt 100 ]; echo $?)" "status counts the bytes"

POLICY=$POL srun $B -- $CURL --cacert /ca/ca.pem "https://api.test:$SP/index.txt"
is "$OUT" hello-egress "curl: HTTPS through a CONNECT tunnel, certificate verified end to end"

POLICY=$POL srun $B -- $PY -c "import ssl, urllib.request as u; c = ssl.create_default_context(cafile='/ca/ca.pem'); print(u.urlopen('https://api.test:$SP/index.txt', context=c).read().decode().strip())"
is "$OUT" hello-egress "python urllib: HTTPS through the proxy"

if $PY -c 'import requests' 2>/dev/null; then
        POLICY=$POL srun $B -- $PY -c "import requests; print(requests.get('https://api.test:$SP/index.txt', verify='/ca/ca.pem').text.strip())"
        is "$OUT" hello-egress "python requests: HTTPS through the proxy"
else
        skip "python3-requests is not installed (make deps installs it)"
fi

POLICY=$POL srun $B --setenv GIT_SSL_CAINFO /ca/ca.pem -- /usr/bin/git clone -q "https://git.test:$SP/repo.git" /tmp/r
is "$RC" 0 "git clone over https through the proxy"
POLICY=$POL srun $B --setenv GIT_SSL_CAINFO /ca/ca.pem -- /bin/sh -c "git clone -q https://git.test:$SP/repo.git /tmp/r && cat /tmp/r/README"
is "$OUT" from-git "the clone holds the repository's file"

if command -v node >/dev/null 2>&1; then
        NODE=$(command -v node)
        POLICY=$POL srun $B --ro-bind "$NODE" /opt/node --setenv NODE_EXTRA_CA_CERTS /ca/ca.pem -- /opt/node -e \
                "fetch('https://api.test:$SP/index.txt').then(r => r.text()).then(t => console.log(t.trim()), e => { console.log(String(e.cause || e)); process.exit(1); })"
        is "$OUT" hello-egress "node fetch (ignores proxy variables): the DNS path and the transparent listener"
else
        skip "node is not installed (make deps installs nodejs)"
fi

POLICY=$POL srun $B -- $CURL --noproxy '*' --cacert /ca/ca.pem "https://api.test:$SP/index.txt"
is "$OUT" hello-egress "curl without the proxy: the name resolves inside to a loopback address the proxy owns"
# the transparent path: a TLS hello whose SNI names another host than the
# address stands for (domain fronting on a shared front end) is refused,
# even when that other name is allowed too
POLICY=$POL srun $B -- $CURL --noproxy '*' --cacert /ca/ca.pem --connect-to "git.test:$SP:api.test:$SP" "https://git.test:$SP/index.txt"
ok "$( [ "$RC" -ne 0 ]; echo $?)" "transparent path: SNI git.test on api.test's address is refused"
is "$(jget "$STATUS" '.egress.denied[0] | "\(.host) \(.port) \(.reason)"')" "git.test $SP sni-mismatch" "reason sni-mismatch, naming the SNI"
is "$(jget "$STATUS" '.egress.connections')" 0 "nothing was dialed"
POLICY=$POL srun $B -- $CURL --noproxy '*' --cacert /ca/ca.pem --connect-to "git.test:$SP:git.test:$SP" "https://git.test:$SP/index.txt"
is "$OUT" hello-egress "control: the same request with git.test's own address goes through"
POLICY=$POL srun $B -- /t/egress_escape dns api.test
like "$OUT" "^dns 127\.100\." "an allowed name resolves to a 127.100.x.y address"
POLICY=$POL srun $B -- /usr/bin/env
like "$OUT" "HTTPS_PROXY=http://127.0.0.1:3128" "the payload's environment names the proxy"
like "$OUT" "no_proxy=localhost,127.0.0.1,::1" "and NO_PROXY in lower case too"

# ---- denied -------------------------------------------------------------------
POLICY=$POL srun $B -- $CURL -i "http://other.test:$HP/index.txt"
like "$OUT" "^HTTP/1.1 403" "an unlisted host gets 403"
like "$OUT" "other.test:$HP not-allowed" "the body names the reason"
is "$(jget "$STATUS" '.egress.denied[0] | "\(.host) \(.port) \(.reason)"')" "other.test $HP not-allowed" "status egress.denied names host, port and reason"

R=$("$NETTOOL" connect 127.0.0.2 "$HP")
like "$R" "^connected" "control: the server behind rebind.test (127.0.0.2) answers on the host"
POLICY=$POL srun $B -- $CURL -i "http://rebind.test:$HP/index.txt"
like "$OUT" "^HTTP/1.1 403" "a listed name that resolves to a denied address (loopback) gets 403"
is "$(jget "$STATUS" '.egress.denied[0].reason')" address-denied "reason address-denied"

POLICY=$POL srun $B -- $CURL -i --noproxy '' "http://127.0.0.2:$HP/index.txt"
is "$(jget "$STATUS" '.egress.denied[0].reason')" ip-literal "an IP literal no CIDR rule allows: ip-literal"
printf 'GET http://0x7f.0.0.2:%s/ HTTP/1.1\r\nHost: 0x7f.0.0.2:%s\r\n\r\n' "$HP" "$HP" > "$T/req"
cp "$T/req" "$T/ca/req"
POLICY=$POL srun $B -- $PY /eg/client.py raw 3128 /ca/req
like "$OUT" "^HTTP/1.1 403" "a numeric form of 127.0.0.2 (0x7f.0.0.2) is canonicalised and denied"
is "$(jget "$STATUS" '.egress.denied[0].host')" 127.0.0.2 "status shows the canonical address"
POLICY=$POL srun $B -- $CURL --noproxy '' "http://127.0.0.1:$HP/index.txt"
is "$OUT" hello-egress "control: the address the CIDR rule allows is reached as a literal"

POLICY=$POL srun $B -- $CURL -i "http://api.test:$TP/index.txt"
is "$(jget "$STATUS" '.egress.denied[0].reason')" port-not-allowed "an allowed host on another port: port-not-allowed"

POLICY=$POL srun $B -- $CURL -i "http://blocked.wild.test:$HP/index.txt"
like "$OUT" "deny-rule \(rule blocked.wild.test\)" "a deny rule wins over *.wild.test and the 403 names it"
POLICY=$POL srun $B -- $CURL "http://a.wild.test:$HP/index.txt"
is "$OUT" hello-egress "control: another name under *.wild.test is allowed"

POLICY=$POL srun $B -- /t/egress_escape dns other.test
is "$OUT" "dns NONAME" "DNS: an unlisted name is NXDOMAIN inside"
is "$(jget "$STATUS" '.egress.denied[0] | "\(.host) \(.reason)"')" "other.test not-allowed" "the DNS denial is recorded with its reason"

# ---- request smuggling and hostile clients -----------------------------------
n=0
for req in \
  'GET http://api.test:HP/ HTTP/1.1\r\nHost: api.test:HP\r\nHost: evil.test\r\n\r\n' \
  'GET http://api.test:HP/ HTTP/1.1\r\nHost: evil.test\r\n\r\n' \
  'GET http://api.test:HP/ HTTP/1.1\r\nHost: api.test:HP\r\nX-A: 1\r\n folded\r\n\r\n' \
  'POST http://api.test:HP/ HTTP/1.1\r\nHost: api.test:HP\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
  'POST http://api.test:HP/ HTTP/1.1\r\nHost: api.test:HP\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd' \
  'GET http://api.test:HP/ HTTP/1.1\nHost: api.test:HP\r\n\r\n'; do
        n=$((n + 1))
        # shellcheck disable=SC2059
        printf "$(printf '%s' "$req" | sed "s/HP/$HP/g")" > "$T/ca/s$n"
done
for i in 1 2 3 4 5 6; do
        POLICY=$POL srun $B -- $PY /eg/client.py raw 3128 "/ca/s$i"
        is "$OUT" "HTTP/1.1 400 Bad Request" "smuggling variant $i is refused with 400 (never forwarded)"
done
is "$(jget "$STATUS" '.egress.denied[0].reason')" bad-request "status reason bad-request"

$PY -c "import sys; sys.stdout.write('GET http://api.test:$HP/ HTTP/1.1\r\nHost: api.test:$HP\r\nX: ' + 'a' * 20000 + '\r\n\r\n')" > "$T/ca/big"
POLICY=$POL srun $B -- $PY /eg/client.py raw 3128 /ca/big
like "$OUT" "^HTTP/1.1 431" "an oversized request head gets 431"

POLICY=$POL srun $B -- $PY /eg/client.py slow 3128
like "$OUT" "^HTTP/1.1 408 Request Timeout 1\.[0-9]" "a slow client is cut off at the header timeout (1 s)"

printf 'CONNECT api.test:%s HTTP/1.1\r\nHost: api.test:%s\r\n\r\n' "$HP" "$HP" > "$T/ca/flood"
POLICY=$POL srun $B -- /bin/sh -c "$PY /eg/client.py flood 3128 1000 /ca/flood; $CURL http://api.test:$HP/index.txt"
# refused: 503, or a reset when the client's head arrived after the proxy closed
C200=$(printf '%s\n' "$OUT" | awk '$1 == 200 {n += $NF} END {print n + 0}')
CREF=$(printf '%s\n' "$OUT" | awk '$1 != 200 && $1 != "hello-egress" {n += $NF} END {print n + 0}')
ok "$( [ "$C200" -ge 1 ] && [ "$C200" -le 16 ] && [ $((C200 + CREF)) -eq 1000 ]; echo $?)" "1000 connections at once: at most 16 tunnels (got $C200), the rest refused (got $CREF)"
[ "$C200" -le 16 ] || diag "$OUT"
like "$OUT" "hello-egress" "after the flood the proxy still serves: nothing leaked"

# ---- dial failures ---------------------------------------------------------------
PORT_CLOSED=$(free_port 14)
POLICY=$(eg_policy closed ".network.egress.allow += [{\"host\": \"api.test\", \"ports\": [$PORT_CLOSED]}, {\"host\": \"127.0.0.1/32\", \"ports\": [$PORT_CLOSED]}]")
POLICY=$POLICY srun $B -- $CURL -i "http://api.test:$PORT_CLOSED/"
like "$OUT" "^HTTP/1.1 502" "nothing listens on the allowed port: 502"
is "$(jget "$STATUS" '.egress.denied[0].reason')" connect-failed "reason connect-failed"

# a listener whose accept queue is full drops further SYNs: the dial times out
$PY -c "
import socket, time, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $TP)); s.listen(0)
c = [socket.create_connection(('127.0.0.1', $TP)) for _ in range(2)]
open('$T/r4', 'w').close(); time.sleep(60)" & bg_track $!
wait_file "$T/r4"
POLICY=$POL srun $B -- $CURL -i "http://slow.test:$TP/"
like "$OUT" "^HTTP/1.1 504" "a dial that does not complete within connect_timeout_ms: 504"

# ---- limits and policy --------------------------------------------------------------
POLICY=$(eg_policy bytes '.network.egress.limits.bytes = 100000')
POLICY=$POLICY srun $B -- $CURL -o /dev/null "http://api.test:$HP/big"
ok "$( [ "$RC" -ne 0 ]; echo $?)" "limits.bytes: a 2 MiB download is cut at 100 kB"
is "$(jget "$STATUS" '.egress.denied[0].reason')" byte-limit "reason byte-limit"

BAD=$(eg_policy bad '.network.egress.allow[1].host = "b\u00fccher.test"')
POLICY=$BAD srun -- /bin/true
is "$RC" 125 "a non-ASCII host in the policy: exit 125"
like "$ERR" 'network\.egress\.allow\[1\]\.host' "the error names the JSON path"

# ---- the command line narrows, never widens ---------------------------------------
POLICY=$POL srun $B --egress-allow api.test --egress-allow 127.0.0.1/32 -- $CURL -i "http://a.wild.test:$HP/index.txt"
is "$(jget "$STATUS" '.egress.denied[0].reason')" not-allowed "--egress-allow api.test 127.0.0.1/32: *.wild.test is no longer allowed"
POLICY=$POL srun $B --egress-allow api.test --egress-allow 127.0.0.1/32 -- $CURL "http://api.test:$HP/index.txt"
is "$OUT" hello-egress "and api.test still is"
POLICY=$POL srun $B --egress-allow evil.test -- /bin/true
is "$RC" 77 "--egress-allow of a host the policy does not allow: refused (77), never added"
is "$(jget "$STATUS" .refused)" egress-widen "reason egress-widen"

# ---- the stock agent policy: its Landlock TCP rules (connect 53, 80, 443) get the proxy's ports
AGENT=$(jq --argjson hp "$HP" '.allow_extra_binds = true | .network = {"mode": "proxy", "egress": {"allow": [{"host": "api.test", "ports": [$hp]},
        {"host": "127.0.0.1/32", "ports": [$hp]}], "resolve": {"api.test": ["127.0.0.1"]}}}' "$STOCK/agent.json" > "$T/agent.json" && echo "$T/agent.json")
POLICY=$AGENT srun -- $CURL "http://api.test:$HP/index.txt"
is "$OUT" hello-egress "stock agent policy in proxy mode: curl reaches the proxy through its Landlock connect rules"
POLICY=$AGENT srun -- $CURL --noproxy '*' "http://api.test:$HP/index.txt"
is "$OUT" hello-egress "and the transparent listener on the allowed port"

# ---- the audit trail: one "egress" summary per task, before "exit" ------------------
start_collector
POLICY=$POL srun $B --tenant acme --task EG1 --audit required --audit-socket "$ASOCK" -- /bin/sh -c \
        "$CURL http://api.test:$HP/index.txt; $CURL http://api.test:$HP/index.txt; $CURL -o /dev/null http://other.test:$HP/x; true"
is "$RC" 0 "a task with two allowed requests and one refusal, audit required"
EGL=$(jq -c 'select(.event.task == "EG1") | .event' "$ADIR/acme.jsonl" 2>/dev/null)
is "$(printf '%s\n' "$EGL" | jq -r .event | grep -v '^deny$' | tr '\n' ' ')" "launch egress exit " \
        "the collector's log: launch, the egress summary, then exit"
EGE=$(printf '%s\n' "$EGL" | jq -c 'select(.event == "egress")')
is "$(printf '%s' "$EGE" | jq -r '.hosts[] | "\(.host) \(.port) \(.connections)"')" "api.test $HP 2" \
        "egress event: the allowed host with its connection count"
ok "$( [ "$(printf '%s' "$EGE" | jq -r '.hosts[0].bytes')" -gt 200 ]; echo $?)" "egress event: the host's bytes"
is "$(printf '%s' "$EGE" | jq -r '.denied[] | "\(.host) \(.port) \(.reason)"')" "other.test $HP not-allowed" \
        "egress event: each refusal by name, port and reason"
is "$(printf '%s' "$EGE" | jq -r '.rev')" 3 "the egress event says it needs protocol revision 3"
"$SEALCTL" audit-verify "$ADIR/acme.jsonl" >/dev/null 2>&1
is "$?" 0 "sealctl audit-verify: the chain with the egress event is intact"
stop_collector

# ---- as root the dialed socket carries the tenant's mark (seen on the host with ss)
if is_root && command -v ss >/dev/null 2>&1; then
        WANT=$(printf 'acme' | $PY -c "
import sys
h = 2166136261
for b in sys.stdin.buffer.read(): h = ((h ^ b) * 16777619) & 0xffffffff
print(hex(0x5e000000 | (h & 0xffffff)))")
        POLICY=$POL srun $B --tenant acme -- $CURL "http://api.test:$HP/slow" &
        SRP=$!
        sleep 1
        MARK=$(ss -tnie "( dport = :$HP )" | grep -o 'fwmark:0x[0-9a-f]*' | head -n 1)
        wait "$SRP"
        is "$MARK" "fwmark:$WANT" "as root the supervisor's socket carries SO_MARK 0x5e000000 | fnv1a(tenant) & 0xffffff"
else
        skip "SO_MARK needs CAP_NET_ADMIN: root only (and ss from iproute2)"
fi
