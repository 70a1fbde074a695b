#!/bin/sh
# The escape suite: under the stock agent policy every probe of integration/escape
# is denied or killed; and every probe is shown able to report success somewhere
# (a permissive sandbox, or the bare host as root), so a "denied" means something.
. "$(dirname "$0")/lib.sh"
ESC="$IBIN/escape"
export SEALRUN_CACHE_DIR="$T/cache"
PROBES=$("$ESC" --list)
N=$(printf '%s\n' "$PROBES" | wc -l)
plan $((2 * N + 9))

# One jq per run: "probe result errno" lines, then awk lookups.
tsv() { jq -r '[.probe, .result, (.errno // "-")] | @tsv' "$1" > "$1.tsv" 2>/dev/null || : > "$1.tsv"; }
result() { awk -v p="$2" '$1 == p { print $2 }' "$1.tsv"; }
detail() { jq -r --arg p "$2" 'select(.probe == $p) | .detail' "$1"; }
errno_of() { awk -v p="$2" '$1 == p { print $3 }' "$1.tsv"; }

# The stock agent policy, plus what it takes to run the program: the
# integration binaries at /t and a Landlock rule to execute them. The host's
# /sys is bound read-only so the /sys probes have something to attack.
jq '.allow_extra_binds = true | .landlock.fs += [{"path": "/t", "access": ["read", "execute"]}]' \
        "$STOCK/agent.json" > "$T/agent.json"
SYS_BIND="--ro-bind /sys /sys"
[ -d /sys/kernel ] || SYS_BIND=""
# shellcheck disable=SC2086
"$SR" --policy "$T/agent.json" --ro-bind "$IBIN" /t $SYS_BIND -- /t/escape > "$T/stock.jsonl" 2> "$T/stock.err"
is "$?" 0 "the escape program runs under the stock agent policy"
is "$(wc -l < "$T/stock.jsonl")" "$N" "it reports every probe"

# Permissive: the test policy with an allow-all filter on every x86 ABI,
# capabilities kept, a tty allowed, no Landlock, an fd passed in. Once aimed
# at init and once at the program itself (a target the kernel allows).
jq '.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]}
    | .capabilities = ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_NET_BIND_SERVICE"]
    | .allow_tty = true' "$TEST_POLICY" > "$T/permissive.json"
# shellcheck disable=SC2086
"$SR" --policy "$T/permissive.json" --ro-bind "$IBIN" /t $SYS_BIND --pass-fd 5 -- /t/escape > "$T/perm.jsonl" 2>&1 5</dev/null
# shellcheck disable=SC2086
"$SR" --policy "$T/permissive.json" --ro-bind "$IBIN" /t $SYS_BIND -- /t/escape --target-self > "$T/self.jsonl" 2>&1
is "$(wc -l < "$T/perm.jsonl")" "$N" "the permissive run reports every probe"
# The bare host: kernel interfaces a user namespace never gets (bpf, /proc/sys,
# /sys, masked files) answer there, to root at least. Nothing is written: the
# probes stop at open(O_WRONLY) and use invalid arguments.
"$ESC" --target-self > "$T/host.jsonl" 7</dev/null
is "$(wc -l < "$T/host.jsonl")" "$N" "the bare-host run reports every probe"
for f in stock perm self host; do tsv "$T/$f.jsonl"; done
# Init itself stays out of reach even with no filter and CAP_SYS_PTRACE kept
# in the sandbox: it is non-dumpable and its memory belongs to the host side.
init_probes="ptrace_pid1 process_vm_readv_pid1 setns_pid1 proc_mem_pid1 proc_exe_pid1_read proc_exe_pid1_write proc_environ_pid1"
got=""
for p in $init_probes; do got="$got $(result "$T/perm.jsonl" "$p")"; done
is "$got" "$(for p in $init_probes; do printf ' denied'; done)" "permissive policy: init's memory, exe, environ, namespaces and ptrace stay refused"

for p in $PROBES; do
        r=$(result "$T/stock.jsonl" "$p")
        case "$r" in
        denied | killed) ok 0 "stock agent policy: $p is $r ($(errno_of "$T/stock.jsonl" "$p"))" ;;
        absent)
                if [ "$p" = sysrq_trigger_write ] && [ ! -e /proc/sysrq-trigger ]; then
                        ok 0 "stock agent policy: $p: the kernel has no /proc/sysrq-trigger"
                else
                        ok 1 "stock agent policy: $p is absent, nothing was attacked"
                fi ;;
        *) ok 1 "stock agent policy: $p is ${r:-missing}"; grep "\"$p\"" "$T/stock.jsonl" | sed 's/^/#   /' ;;
        esac
done

# vm.memfd_noexec (Linux 6.3+) is per pid namespace: a root caller's sandbox
# sets it to 2, so even the permissive run (no stock filter) cannot execute a
# memfd. The kernel checks sysctl writes against the host root uid, so an
# unprivileged caller's sandbox cannot, and there the stock filter's
# memfd_create rule is what refuses (asserted with the other probes below).
host_memfd=$(cat /proc/sys/vm/memfd_noexec 2>/dev/null || echo 0)
if [ ! -e /proc/sys/vm/memfd_noexec ]; then
        skip "this kernel has no vm.memfd_noexec (before 6.3): the stock filter alone refuses executable memfds"
elif is_root; then
        is "$(result "$T/perm.jsonl" memfd_exec)/$(errno_of "$T/perm.jsonl" memfd_exec)" "denied/EACCES" \
                "root: vm.memfd_noexec=2 in the sandbox's pid namespace refuses memfd execution even without the stock filter"
elif [ "$host_memfd" = 2 ]; then
        skip "the host sets vm.memfd_noexec=2: no memfd can be executed anywhere here"
else
        is "$(result "$T/perm.jsonl" memfd_exec)" allowed \
                "unprivileged: the sandbox cannot raise vm.memfd_noexec (sysctl writes need the host root uid), so only the stock filter refuses memfd execution"
fi

# IA-32 (int 0x80) and x32 exist only where the kernel has them; the bare-host
# run, unconfined, is what says so. Without them nothing can show the probe
# succeeding: the assertion is then that it fails unconfined too (killed or
# ENOSYS) and that the sandbox refuses it (already asserted above).
abi_absent() {
        case "$1" in i386_int80_getpid | x32_getpid) ;; *) return 1 ;; esac
        case "$(result "$T/host.jsonl" "$1")" in killed | absent) return 0 ;; esac
        return 1
}

for p in $PROBES; do
        where=""
        for run in perm self host; do
                [ "$(result "$T/$run.jsonl" "$p")" = allowed ] && where="$where $run"
        done
        s=$(result "$T/stock.jsonl" "$p"); se=$(errno_of "$T/stock.jsonl" "$p")
        pr=$(result "$T/perm.jsonl" "$p"); pe=$(errno_of "$T/perm.jsonl" "$p")
        if [ -n "$where" ]; then
                ok 0 "$p can succeed (allowed in:$where)"
        elif abi_absent "$p"; then
                case "$s" in
                denied | killed) ok 0 "$p: this kernel lacks the ABI (unconfined: $(result "$T/host.jsonl" "$p"), $(detail "$T/host.jsonl" "$p")); the sandbox refuses it too ($s)" ;;
                *) ok 1 "$p: the kernel lacks the ABI, yet the stock run says ${s:-nothing}" ;;
                esac
        elif [ "$p" = memfd_exec ] && [ "$host_memfd" = 2 ]; then
                skip "$p: the host sets vm.memfd_noexec=2, so no memfd can be executed anywhere here"
        elif [ "$pr" = absent ] && [ "$s/$se" != "$pr/$pe" ]; then
                # The kernel lacks it (kexec, modules, x32 here), yet the stock
                # run answered differently: the filter, not the kernel, said no.
                ok 0 "$p: the kernel lacks it ($pe), the stock filter answers first ($s $se)"
        elif [ "$p" = sysrq_trigger_write ] && [ ! -e /proc/sysrq-trigger ]; then
                skip "$p: the kernel has no /proc/sysrq-trigger"
        elif ! is_root; then
                skip "$p: shown succeeding only on the bare host as root (root tier)"
        else
                ok 1 "$p never succeeded anywhere: the probe may be unable to fail"
        fi
done

# A host that mounted tracefs (or debugfs, securityfs) below /sys: the bound
# /sys still shows those kernel interfaces masked, not a refused launch. A
# private mount namespace of the test's own gets the tracefs, as root.
if [ -n "$SYS_BIND" ] && is_root && grep -qw tracefs /proc/filesystems; then
        # shellcheck disable=SC2016,SC2086
        unshare -m sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs none /sys/kernel/tracing || exit 99
                [ -n "$(ls -A /sys/kernel/tracing)" ] || exit 98; exec "$@"' sh \
                "$SR" --policy "$T/agent.json" --ro-bind "$IBIN" /t $SYS_BIND -- /bin/sh -c 'grep " /sys/kernel/tracing " /proc/self/mountinfo | tail -n 1 | sed "s/.* - \\([^ ]*\\) .*/\\1/"' > "$T/trace.out" 2>&1
        is "$?/$(cat "$T/trace.out")" "0/tmpfs" "tracefs mounted on the host's /sys/kernel/tracing: masked by an empty tmpfs inside, the launch goes on"
else
        skip "mounting tracefs needs root and a kernel with tracefs"
fi

# The same suite against a pre-built sandbox (sealrun --prepare, then a claim
# with sealrun --run): built ahead with the same policy and binds, it must
# refuse every probe exactly as the fresh sandbox above did.
rm -f "$T/pre.sock"
# shellcheck disable=SC2086
"$SR" --prepare --claim-socket "$T/pre.sock" --policy "$T/agent.json" --ro-bind "$IBIN" /t $SYS_BIND 2>"$T/pre.err" &
PREP=$!
for _i in $(seq 1 200); do [ -S "$T/pre.sock" ] && break; sleep 0.02; done
"$SR" --run "$T/pre.sock" -- /t/escape > "$T/pre.jsonl" 2>>"$T/pre.err"
wait "$PREP"
is "$(wc -l < "$T/pre.jsonl")" "$N" "pre-built sandbox: the escape program reports every probe"
tsv "$T/pre.jsonl"
diff=""
for p in $PROBES; do
        a=$(result "$T/stock.jsonl" "$p"); b=$(result "$T/pre.jsonl" "$p")
        [ "$a" = "$b" ] || diff="$diff $p:$a/$b"
done
is "$diff" "" "pre-built sandbox: every probe ends as in a fresh sandbox of the same policy (denied, killed or absent)"
