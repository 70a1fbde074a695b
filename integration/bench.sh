#!/bin/sh
# make bench: launch cost of sealrun against bubblewrap, paired, as an
# unprivileged user, with the goals of issue 21 printed beside each ratio.
# Not a timed test: it prints figures and fails only when a command does not
# work. Sections: cold launch (wall, CPU, peak RSS), throughput at 2 and 8 in
# parallel, the supervisor's own peak RSS, a 10-credential profile with
# required audit, the --trace-fd breakdown, a scaling table, 1,000
# back-to-back launches (drift in time, fds, mounts, cgroups), the stock
# seccomp profile compiled in against compiled per launch.
# Knobs: BENCH_RUNS (pairs, default 200), BENCH_WARMUP (20), BENCH_RATE_N
# (launches per throughput run, 200), BENCH_SOAK (1000), BENCH_ROUNDS (3
# alternated rounds per throughput figure), SEALRUN_TEST_USER (sealrun-test),
# BUILD (./build).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
USER_NAME=${SEALRUN_TEST_USER:-sealrun-test}
RUNS=${BENCH_RUNS:-200}
WARMUP=${BENCH_WARMUP:-20}
RATE_N=${BENCH_RATE_N:-200}
SOAK=${BENCH_SOAK:-1000}
ROUNDS=${BENCH_ROUNDS:-3}

for tool in hyperfine jq bwrap unshare; do
        command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is not installed (make deps installs it)" >&2; exit 1; }
done
for b in sealrun sealctl sealrun-auditd integration/benchpair; do
        [ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b is missing (run make first)" >&2; exit 1; }
done

# Stage the binaries and the policy where the unprivileged user can read them
# (the source tree may live under /root), as integration/run.sh does.
STAGE=$(mktemp -d /tmp/sealrun-bench.XXXXXX)
APID=
trap '[ -z "$APID" ] || kill "$APID" 2>/dev/null; rm -rf "$STAGE"' EXIT
trap 'exit 130' INT TERM
chmod 0755 "$STAGE"
mkdir -p "$STAGE/build" "$STAGE/policy" "$STAGE/out"
cp "$BUILD/sealrun" "$BUILD/sealctl" "$BUILD/sealrun-auditd" "$BUILD/integration/benchpair" "$BUILD/integration/egress_bench" "$STAGE/build/"
cp "$SRC/policy/stock/default.json" "$STAGE/policy/default.json"
chmod -R a+rX "$STAGE"

if [ "$(id -u)" -eq 0 ]; then
        id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
        chown "$USER_NAME" "$STAGE/out"
        as_user() { runuser -u "$USER_NAME" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp LANG=C \
                SEALRUN_CACHE_DIR="$STAGE/out/cache" "$@"; }
        WHO="$USER_NAME (uid $(id -u "$USER_NAME"), dropped from root)"
else
        as_user() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$STAGE" TMPDIR=/tmp LANG=C SEALRUN_CACHE_DIR="$STAGE/out/cache" "$@"; }
        WHO="$(id -un) (uid $(id -u))"
fi
cd "$STAGE"
BP="$STAGE/build/benchpair"
O="$STAGE/out"

# Equal isolation: every namespace, a read-only /usr with the usual symlinks,
# fresh /proc, minimal /dev, tmpfs /tmp and home, the loader cache.
SEALRUN_CMD="$STAGE/build/sealrun --policy $STAGE/policy/default.json -- /bin/true"
BWRAP_CMD="bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp --tmpfs /home/sandbox --ro-bind /etc/ld.so.cache /etc/ld.so.cache /bin/true"
UNSHARE_CMD="unshare -Urmpfn --ipc --uts /bin/true"

# Each must work as the user before it is timed.
fail=0
for c in "$SEALRUN_CMD" "$BWRAP_CMD" "$UNSHARE_CMD"; do
        # shellcheck disable=SC2086
        if ! as_user $c >"$O/check" 2>&1; then
                echo "bench: does not run as $WHO: $c" >&2
                sed 's/^/bench:   /' "$O/check" >&2
                fail=1
        fi
done
[ "$fail" -eq 0 ] || exit 1

# goal RATIO OP LIMIT: "met" / "NOT met" (OP: le or ge)
goal() { awk -v r="$1" -v l="$3" -v op="$2" 'BEGIN { m = op == "le" ? r <= l : r >= l; printf "%s", m ? "met" : "NOT met" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }
# rates NAME PAR CMD: BENCH_ROUNDS throughput runs into $O/rate-NAME-PAR
rate_once() { as_user "$BP" rate "$2" "$RATE_N" "$3" >> "$O/rate-$1-$2" || { echo "bench: launches failed: $3" >&2; exit 1; }; }
jqf() { jq -r "$1" "$2"; }

echo "== make bench: /bin/true as $WHO; kernel $(uname -r); $(nproc) cpus; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== paired: each sealrun launch is followed (or preceded, alternately) by its bubblewrap twin"

echo
echo "== cold launch, stock default policy, $RUNS pairs after $WARMUP warm-up pairs"
as_user "$BP" pair "$RUNS" "$WARMUP" "$SEALRUN_CMD" "$BWRAP_CMD" > "$O/pair.json"
as_user "$BP" pair "$((RUNS / 2))" 5 "$SEALRUN_CMD" "$UNSHARE_CMD" > "$O/pair-unshare.json"
jq -r '"  sealrun  wall median \(.a.wall_median_ms) ms  p99 \(.a.wall_p99_ms) ms  CPU \(.a.cpu_mean_ms) ms  peak RSS (launch tree) \(.a.rss_median_kb) kB",
       "  bwrap    wall median \(.b.wall_median_ms) ms  p99 \(.b.wall_p99_ms) ms  CPU \(.b.cpu_mean_ms) ms  peak RSS (launch tree) \(.b.rss_median_kb) kB"' "$O/pair.json"
W=$(jqf .wall_ratio_median "$O/pair.json")
echo "  wall / bwrap (median of pair ratios) = ${W}x   goal <= 0.8x: $(goal "$W" le 0.8)"
# CPU of the whole launch tree: wait4's rusage misses what a launcher does
# not reap (bwrap's parent exits on its init's exit code, without waiting for
# it), so perf stat's task-clock, which follows every descendant, decides.
if as_user perf stat -x, -e task-clock -r 2 true >/dev/null 2>&1; then
        cpu_of() { # RUNS CMD: task-clock ms per launch
                # shellcheck disable=SC2086
                as_user perf stat -x, -e task-clock -r "$1" $2 2>&1 >/dev/null | awk -F, '/task-clock/ { print $1 }'
        }
        : > "$O/cpu-s"; : > "$O/cpu-b"
        for _r in $(seq "$ROUNDS"); do
                cpu_of "$((RUNS / ROUNDS))" "$SEALRUN_CMD" >> "$O/cpu-s"
                cpu_of "$((RUNS / ROUNDS))" "$BWRAP_CMD" >> "$O/cpu-b"
        done
        CS=$(median < "$O/cpu-s"); CB=$(median < "$O/cpu-b"); C=$(ratio "$CS" "$CB")
        echo "  CPU  / bwrap (perf stat task-clock, launch tree, $ROUNDS alternated rounds) = $CS / $CB ms = ${C}x   goal <= 1.0x: $(goal "$C" le 1.0)"
else
        C=$(ratio "$(jqf .a.cpu_mean_ms "$O/pair.json")" "$(jqf .b.cpu_mean_ms "$O/pair.json")")
        echo "  CPU  / bwrap (wait4 user+sys; perf stat not usable here, bwrap's unreaped init not counted) = ${C}x   goal <= 1.0x: $(goal "$C" le 1.0)"
fi
echo "  wall / unshare -Urmpfn               = $(jqf .wall_ratio_median "$O/pair-unshare.json")x   (no goal: unshare builds no filesystem)"

echo
echo "== throughput, $RATE_N launches per run, $ROUNDS alternated rounds, median launches/s"
for P in 2 8; do
        for _r in $(seq "$ROUNDS"); do rate_once sealrun "$P" "$SEALRUN_CMD"; rate_once bwrap "$P" "$BWRAP_CMD"; done
        S=$(jq .per_s "$O/rate-sealrun-$P" | median); B=$(jq .per_s "$O/rate-bwrap-$P" | median); R=$(ratio "$S" "$B")
        echo "  $P in parallel: sealrun $S/s  bwrap $B/s  ratio ${R}x   goal >= 1.25x: $(goal "$R" ge 1.25)"
done

echo
echo "== --trace-fd breakdown, median of $((RUNS / 2)) launches (us between points), supervisor peak RSS"
: > "$O/trace"
for _i in $(seq "$((RUNS / 2))"); do
        as_user "$STAGE/build/sealrun" --trace-fd 3 --policy "$STAGE/policy/default.json" -- /bin/true 3>>"$O/trace"
done
jq -s -r '
  def med: sort | .[(length - 1) / 2 | floor];
  (.[0].points | map(.name)) as $names
  | ([.[] | .cpu_at_enable_us] | med) as $cpu
  | "  CPU of the process up to option parsing   \($cpu) us (includes runuser/env before their exec)",
    (range(1; $names | length) as $i
     | ([.[] | .points[$i].t_us - .points[$i - 1].t_us] | med) as $d
     | "  \(($names[$i - 1] + ".." + $names[$i] + "                                        ")[0:40]) \($d) us"),
    "  start..cleanup_done                      \([.[] | .points[-1].since_start_us] | med) us",
    "  supervisor peak RSS \([.[] | .supervisor_maxrss_kb] | med) kB   goal <= 1536 kB: \(if ([.[] | .supervisor_maxrss_kb] | med) <= 1536 then "met" else "NOT met" end)"
' "$O/trace"

if command -v perf >/dev/null 2>&1 && as_user perf stat -x, -e task-clock -r 2 true >/dev/null 2>&1; then
        echo "  exec, loader, constructors and exit alone (sealrun --version, perf stat): $(as_user perf stat -x, -e task-clock -r 100 \
                "$STAGE/build/sealrun" --version 2>&1 >/dev/null | awk -F, '/task-clock/ { print $1 }') ms CPU"
fi

echo
echo "== 10 credentials, required audit (a collector run by the same user), 1 in parallel"
as_user "$STAGE/build/sealctl" keygen --issuer --out "$O/issuer" >/dev/null
as_user "$STAGE/build/sealctl" keygen --pool --out "$O/pool" >/dev/null
{
        printf '{"tenant":"bench","credentials":['
        for i in 0 1 2 3 4 5 6 7 8 9; do
                [ "$i" -eq 0 ] || printf ,
                printf '{"name":"cred_%s","value":"bench-value-%s-0123456789abcdef"}' "$i" "$i"
        done
        printf ']}'
} | as_user "$STAGE/build/sealctl" seal --tenant bench --profile bench --version 1 --not-after +1h --to "$O/pool.pub" \
                --sign "$O/issuer.key" --in - --out "$O/bench.sealed"
as_user sh -c "printf '{\"version\":1,\"allow\":[{\"uid\":%s,\"tenants\":[\"bench\"]}]}\n' \"\$(id -u)\" > $O/allow.json; chmod 0600 $O/allow.json"
jq --arg iss "$O/issuer.pub" '.credentials = {"trusted_issuers": [$iss]}' "$STAGE/policy/default.json" > "$STAGE/policy/creds.json"
chmod a+r "$STAGE/policy/creds.json"
# runuser stays the collector's parent: its pid comes from the pid file. No
# stdout of ours stays open in it.
# shellcheck disable=SC2016
as_user sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$O/auditd.pid" "$STAGE/build/sealrun-auditd" --socket "$O/audit.sock" \
        --dir "$O/audit" --allow "$O/allow.json" >/dev/null 2>"$O/auditd.log" &
for _i in $(seq 100); do grep -q 'listening on' "$O/auditd.log" 2>/dev/null && break; sleep 0.05; done
APID=$(cat "$O/auditd.pid")
CREDS="$STAGE/build/sealrun --policy $STAGE/policy/creds.json --tenant bench --profile $O/bench.sealed --key $O/pool.key --audit-socket $O/audit.sock"
CREDS_CMD="$CREDS --audit required -- /bin/true"
CREDS_OFF="$CREDS --audit off -- /bin/true"
# shellcheck disable=SC2086
as_user $CREDS_CMD >"$O/check" 2>&1 || { echo "bench: the credential launch does not run:" >&2; cat "$O/check" >&2; exit 1; }
as_user "$BP" pair "$RUNS" 5 "$CREDS_CMD" "$BWRAP_CMD" > "$O/pair-creds.json"
W=$(jqf .wall_ratio_median "$O/pair-creds.json")
echo "  sealrun+creds+audit wall median $(jqf .a.wall_median_ms "$O/pair-creds.json") ms, bwrap $(jqf .b.wall_median_ms "$O/pair-creds.json") ms"
echo "  wall / bwrap = ${W}x   goal <= 1.0x: $(goal "$W" le 1.0)"
echo "  at 8 in parallel, required audit vs audit off (same launches):"
for _r in $(seq "$ROUNDS"); do rate_once creds-audit 8 "$CREDS_CMD"; rate_once creds-off 8 "$CREDS_OFF"; done
S=$(jq .per_s "$O/rate-creds-audit-8" | median); B=$(jq .per_s "$O/rate-creds-off-8" | median); R=$(ratio "$S" "$B")
echo "  required $S/s (p50 $(jq .lat_median_ms "$O/rate-creds-audit-8" | median) ms)  off $B/s  ratio ${R}x   goal >= 0.8x: $(goal "$R" ge 0.8)"

echo
echo "== pre-built sandboxes (sealrun --prepare / --run): claimed -> payload exec, 2 in parallel, 10 credentials, required audit"
# One round: 2 sandboxes built ahead, both claimed at once; --trace-fd of the
# --prepare has the "claimed" and "payload_exec" points.
cat > "$STAGE/build/pre-round.sh" <<'PRE'
#!/bin/sh
# pre-round.sh OUT ROUND SEALRUN POLICY SEALED KEY AUDIT-SOCKET
O=$1 R=$2 SR=$3
for k in 1 2; do
        rm -f "$O/pre-$k.sock"
        "$SR" --prepare --claim-socket "$O/pre-$k.sock" --policy "$4" --tenant bench --audit required \
                --audit-socket "$7" --trace-fd 3 3>>"$O/pre-trace" 2>>"$O/pre-err" &
done
for _i in $(seq 500); do [ -S "$O/pre-1.sock" ] && [ -S "$O/pre-2.sock" ] && break; sleep 0.01; done
for k in 1 2; do "$SR" --run "$O/pre-$k.sock" --task "pre-$R-$k" --profile "$5" --key "$6" -- /bin/true 2>>"$O/pre-err" & done
wait
PRE
chmod a+rx "$STAGE/build/pre-round.sh"
as_user sh -c ': > "$1/pre-trace"' sh "$O"
PRE_N=${BENCH_PREBUILT:-100}
for _r in $(seq "$PRE_N"); do
        as_user "$STAGE/build/pre-round.sh" "$O" "$_r" "$STAGE/build/sealrun" "$STAGE/policy/creds.json" "$O/bench.sealed" \
                "$O/pool.key" "$O/audit.sock"
done
[ "$(grep -c claimed "$O/pre-trace")" -ge "$PRE_N" ] || { echo "bench: pre-built claims failed:" >&2; tail -n 5 "$O/pre-err" >&2; exit 1; }
jq -rs '
  def pt(n): [.points[] | select(.name == n) | .t_us][0];
  [.[] | select(pt("claimed") and pt("payload_exec")) | (pt("payload_exec") - pt("claimed"))] | sort |
  (.[(length - 1) / 2 | floor]) as $med | (.[(length * 0.99 | ceil) - 1]) as $p99 |
  "  \(length) claims: median \($med) us   goal <= 1000 us: \(if $med <= 1000 then "met" else "NOT met" end)",
  "  p99 \($p99) us   goal <= 5000 us: \(if $p99 <= 5000 then "met" else "NOT met" end)"
' "$O/pre-trace"
kill "$APID" 2>/dev/null; wait 2>/dev/null || true; APID=

echo
echo "== scaling, $RATE_N launches per run (sealrun; bwrap beside it)"
echo "  | in parallel | sealrun launches/s | CPU per launch | p50 / p99 ms | bwrap launches/s | bwrap CPU (wait4: misses its init) |"
for P in 1 2 8 32; do
        rate_once scale "$P" "$SEALRUN_CMD"; rate_once scalebw "$P" "$BWRAP_CMD"
        jq -r --argjson b "$(tail -n1 "$O/rate-scalebw-$P")" \
           '"  | \(.par) | \(.per_s) | \(.cpu_per_launch_ms) ms | \(.lat_median_ms) / \(.lat_p99_ms) | \($b.per_s) | \($b.cpu_per_launch_ms) ms |"' \
           < "$O/rate-scale-$P"
done

echo
echo "== $SOAK launches back to back: growth in time, fds, mounts, cgroups, leftovers"
snap() {
        printf '%s %s %s %s\n' "$(wc -l < /proc/self/mountinfo)" \
                "$(find /sys/fs/cgroup -name '*sealrun*' 2>/dev/null | wc -l)" \
                "$(cut -f1 /proc/sys/fs/file-nr)" \
                "$(find /tmp /dev/shm -maxdepth 1 -newer "$O/pair.json" -name '*sealrun*' -user "$(as_user id -u)" ! -path "$STAGE" 2>/dev/null | wc -l)"
}
B0=$(snap)
as_user "$BP" rate 1 "$SOAK" "$SEALRUN_CMD" > "$O/soak.json"
B1=$(snap)
jq -r '"  launches \(.n) failed \(.failed): median of the first 100 \(.first100_median_ms) ms, of the last 100 \(.last100_median_ms) ms"' "$O/soak.json"
echo "$B0 $B1" | awk '{ printf "  host mounts %d -> %d, sealrun cgroups %d -> %d, open files (system-wide) %d -> %d, sealrun files of the bench user in /tmp,/dev/shm %d -> %d\n", $1, $5, $2, $6, $3, $7, $4, $8 }'
jq -r '"  time drift (last/first): \((.last100_median_ms / .first100_median_ms * 100 | round) / 100)x"' "$O/soak.json"

# The stock seccomp profile compiled in at build time against the same rules
# compiled by libseccomp on every launch (its text from a file: an
# unprivileged caller keeps no cache, so this is what each launch would pay).
cp "$SRC/policy/stock/seccomp-default.json" "$STAGE/policy/stock-file-seccomp.json"
jq --arg p "$STAGE/policy/stock-file-seccomp.json" '.seccomp = {profile: $p}' "$STAGE/policy/default.json" > "$STAGE/policy/stock-file.json"
chmod a+r "$STAGE/policy/"*.json
FILE_CMD="$STAGE/build/sealrun --policy $STAGE/policy/stock-file.json -- /bin/true"
echo
echo "== seccomp: the stock profile compiled in vs compiled per launch from its JSON, $RUNS pairs"
as_user "$BP" pair "$RUNS" 5 "$SEALRUN_CMD" "$FILE_CMD" > "$O/pair-seccomp.json"
jq -r '"  compiled in: wall median \(.a.wall_median_ms) ms, CPU \(.a.cpu_mean_ms) ms;  per launch: wall median \(.b.wall_median_ms) ms, CPU \(.b.cpu_mean_ms) ms;  wall ratio \(.wall_ratio_median)x"' "$O/pair-seccomp.json"

# Network mode "proxy" (issue 17): connection setup through the proxy (CONNECT,
# the supervisor's dial, SCM_RIGHTS) vs directly to the same loopback server;
# a 256 MiB transfer through a CONNECT tunnel vs direct; the supervisor's own
# CPU time per proxied connection (its /proc stat, dial threads included,
# minus a run without connections).
EB="$STAGE/build/egress_bench"
P1=$((30000 + $$ % 1000)); P2=$((P1 + 1000))
jq --argjson p1 "$P1" --argjson p2 "$P2" '.allow_extra_binds = true | .network = {mode: "proxy", egress: {
    allow: [{host: "bench.test", ports: [$p1, $p2]}, {host: "127.0.0.1/32", ports: [$p1, $p2]}],
    resolve: {"bench.test": ["127.0.0.1"]}, limits: {connections: 64}}}' \
    "$STAGE/policy/default.json" > "$STAGE/policy/proxy.json"
chmod a+r "$STAGE/policy/proxy.json"
EGN=${BENCH_EGRESS_CONNS:-1000}
as_user "$EB" serve "$P1" greet $((3 * EGN)) > "$STAGE/out/s1" 2>&1 & S1=$!
as_user "$EB" serve "$P2" 268435456 3 > "$STAGE/out/s2" 2>&1 & S2=$!
sleep 0.5
SR_PROXY="$STAGE/build/sealrun --policy $STAGE/policy/proxy.json --ro-bind $STAGE/build /tmp/b --"
echo
echo "== egress proxy: connection setup to a loopback server until its first byte ($EGN connections each)"
d=$(as_user "$EB" latency 127.0.0.1 "$P1" "$EGN")
# shellcheck disable=SC2086
p=$(as_user $SR_PROXY /tmp/b/egress_bench latency bench.test "$P1" "$EGN" 3128)
echo "  direct        $d"
echo "  through proxy $p"
dm=$(echo "$d" | awk '{print $2}'); pm=$(echo "$p" | awk '{print $2}')
echo "  added at the median: $((pm - dm)) us (goal of issue 17: <= 1000 us: $([ $((pm - dm)) -le 1000 ] && echo met || echo NOT met))"
echo
echo "== egress proxy: 256 MiB from a loopback server"
d=$(as_user "$EB" bulk 127.0.0.1 "$P2")
# shellcheck disable=SC2086
p=$(as_user $SR_PROXY /tmp/b/egress_bench bulk bench.test "$P2" 3128)
# the ceiling of any relay process here: a blocking splice loop, no parsing, no epoll
P3=$((P2 + 1000))
as_user "$EB" relay "$P3" "$P2" > "$STAGE/out/s3" 2>&1 & S3=$!
sleep 0.2
r=$(as_user "$EB" bulk 127.0.0.1 "$P3")
wait "$S3" 2>/dev/null || true
echo "  direct               $d"
echo "  minimal splice relay $r"
echo "  CONNECT tunnel       $p"
dm=$(echo "$d" | awk '{print $4}'); pm=$(echo "$p" | awk '{print $4}'); rm_=$(echo "$r" | awk '{print $4}')
echo "  tunnel / direct: $((pm * 100 / dm))% (goal of issue 17: >= 80%: $([ $((pm * 100 / dm)) -ge 80 ] && echo met || echo NOT met));" \
     "minimal relay / direct: $((rm_ * 100 / dm))%; tunnel / minimal relay: $((pm * 100 / rm_))%"
echo
echo "== egress proxy: supervisor CPU per connection"
cpu_of() { # CONNS → the supervisor's utime+stime in clock ticks, read while the payload sleeps
        # shellcheck disable=SC2086
        as_user $SR_PROXY /bin/sh -c "/tmp/b/egress_bench latency bench.test $P1 $1 3128 >/dev/null; sleep 2" &
        job=$!
        sleep 1.5
        # the job is a subshell; sealrun is below it (under runuser as root)
        pid=$job
        for _ in 1 2 3; do
                [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sealrun ] && break
                pid=$(pgrep -P "$pid" | head -n 1)
        done
        awk '{print $14 + $15}' "/proc/$pid/stat"
        wait "$job"
}
c0=$(cpu_of 0 | tail -n 1); cn=$(cpu_of "$EGN" | tail -n 1)
tck=$(getconf CLK_TCK)
echo "  $EGN connections: $(( (cn - c0) * 1000000 / tck / EGN )) us of supervisor CPU each ($c0 ticks without connections, $cn with)"
kill "$S1" "$S2" 2>/dev/null || true

# Brokered credentials (issue 18): its own script, runnable alone.
BUILD="$BUILD" sh "$SRC/integration/bench-broker.sh"
