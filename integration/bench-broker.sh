#!/bin/sh
# make bench, brokered credentials (issue 18): the latency an injected HTTPS
# request adds against a passthrough tunnel to the same loopback server (one
# new connection and one client handshake per request, until the response
# head), and the broker's private memory (USS) in a task. Run by bench.sh
# after its own sections, or alone: sh integration/bench-broker.sh.
# Knobs: BENCH_BROKER_REQS (requests per side, default 300), BUILD,
# SEALRUN_TEST_USER (sealrun-test; the USS needs root: the broker is not dumpable).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
USER_NAME=${SEALRUN_TEST_USER:-sealrun-test}
N=${BENCH_BROKER_REQS:-300}
for b in sealrun sealctl integration/broker_bench; do
        [ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b is missing (run make first)" >&2; exit 1; }
done
S=$(mktemp -d /tmp/sealrun-bench-broker.XXXXXX)
SRV=
trap '[ -z "$SRV" ] || kill "$SRV" 2>/dev/null; rm -rf "$S"' EXIT
trap 'exit 130' INT TERM
chmod 0755 "$S"
mkdir -p "$S/b" "$S/ca" "$S/k"
cp "$BUILD/sealrun" "$BUILD/sealctl" "$BUILD/integration/broker_bench" "$S/b/"
if [ "$(id -u)" -eq 0 ]; then
        id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
        as_user() { runuser -u "$USER_NAME" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$S" TMPDIR=/tmp LANG=C "$@"; }
else
        as_user() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$S" TMPDIR=/tmp LANG=C "$@"; }
fi
P=$((40000 + $$ % 1000))

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench-ca \
        -keyout "$S/ca/ca.key" -out "$S/ca/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=bench.test \
        -keyout "$S/ca/srv.key" -out "$S/ca/srv.csr" 2>/dev/null
printf 'subjectAltName=DNS:bench.test,DNS:pass.test\n' > "$S/ca/ext"
openssl x509 -req -in "$S/ca/srv.csr" -CA "$S/ca/ca.pem" -CAkey "$S/ca/ca.key" -CAcreateserial -days 2 \
        -extfile "$S/ca/ext" -out "$S/ca/srv.pem" 2>/dev/null
"$S/b/sealctl" keygen --issuer --out "$S/k/issuer" >/dev/null 2>&1
"$S/b/sealctl" keygen --pool --out "$S/k/pool" >/dev/null 2>&1
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$S/k/secret"
jq -n --rawfile v "$S/k/secret" --rawfile ca "$S/ca/ca.pem" --argjson port "$P" '{tenant: "bench", credentials: [
  {name: "TOKEN", value: $v, as: "env", bind: {hosts: ["bench.test"], port: $port, inject: "bearer",
   resolve: {"bench.test": ["127.0.0.1"]}, ca_pem: $ca}}]}' |
        "$S/b/sealctl" seal --tenant bench --profile b --version 1 --not-after +1h --to "$S/k/pool.pub" \
                --sign "$S/k/issuer.key" --in - --out "$S/k/p.sealed" 2>/dev/null
rm -f "$S/k/secret"
jq --arg iss "$S/k/issuer.pub" --arg ts "$S/ca/ca.pem" --argjson p "$P" '.allow_extra_binds = true
  | .credentials = {allow_env: true, trusted_issuers: [$iss]} | .audit = {mode: "off"}
  | .network = {mode: "proxy", egress: {allow: [{host: "bench.test", ports: [$p]}, {host: "pass.test", ports: [$p]},
      {host: "127.0.0.1/32", ports: [$p]}], resolve: {"pass.test": ["127.0.0.1"]}, passthrough: ["pass.test"],
      limits: {connections: 64}}}' "$SRC/policy/stock/default.json" > "$S/policy.json"
chmod -R a+rX "$S"
[ "$(id -u)" -ne 0 ] || chown "$USER_NAME" "$S/k/pool.key"
chmod 0600 "$S/k/pool.key"

as_user "$S/b/broker_bench" serve "$P" "$S/ca/srv.pem" "$S/ca/srv.key" $((2 * N + 1)) & SRV=$!
sleep 0.3
SR="$S/b/sealrun --policy $S/policy.json --tenant bench --profile $S/k/p.sealed --key $S/k/pool.key --ro-bind $S/b /tmp/b --ro-bind $S/ca /tmp/ca --"
echo
echo "== brokered credentials: one HTTPS request per new connection through CONNECT, $N each"
# shellcheck disable=SC2086
pass=$(as_user $SR /tmp/b/broker_bench get pass.test "$P" "$N" /tmp/ca/ca.pem)
# shellcheck disable=SC2086,SC2016
inj=$(as_user $SR /bin/sh -c '/tmp/b/broker_bench get bench.test "$1" "$2" /etc/sealrun/ca-bundle.pem "$TOKEN"' sh "$P" "$N")
echo "  passthrough tunnel (one TLS end to end)        median/p90 us: $pass"
echo "  injected (broker terminates, its own TLS up)    median/p90 us: $inj"
pm=$(echo "$pass" | awk '{print $1}'); im=$(echo "$inj" | awk '{print $1}')
echo "  added at the median: $((im - pm)) us (goal of issue 18: <= 2000 us: $([ $((im - pm)) -le 2000 ] && echo met || echo NOT met))"

echo
echo "== brokered credentials: the broker's private memory (USS) after one injected request"
if [ "$(id -u)" -ne 0 ]; then
        echo "  skipped: reading a non-dumpable process's smaps needs root"
        exit 0
fi
# shellcheck disable=SC2086,SC2016
as_user $SR /bin/sh -c '/tmp/b/broker_bench get bench.test "$1" 1 /etc/sealrun/ca-bundle.pem "$TOKEN" >/dev/null; sleep 3' sh "$P" &
job=$!
sleep 1.5
# the proxy is a descendant of this job: walk the tree, not every sealrun-proxy on the host
todo=$job; proxy=
while [ -n "$todo" ] && [ -z "$proxy" ]; do
        next=
        for p in $todo; do
                [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sealrun-proxy ] && { proxy=$p; break; }
                next="$next $(pgrep -P "$p" | tr '\n' ' ')"
        done
        todo=$next
done
if [ -n "$proxy" ]; then
        awk '/^Private_(Clean|Dirty)/ {k += $2} /^Rss/ {r = $2} /^Locked/ {l = $2} END {printf "  USS %d KiB (%.2f MiB), RSS %d KiB, locked %d KiB (goal of issue 18: <= 4 MiB USS: %s)\n", k, k / 1024, r, l, k <= 4096 ? "met" : "NOT met"}' \
                "/proc/$proxy/smaps_rollup"
else
        echo "  the proxy process was not found"
fi
wait "$job" || true
