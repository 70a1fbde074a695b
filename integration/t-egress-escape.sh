#!/bin/sh
# network mode "proxy": the payload attacks the egress proxy and tries to get
# around it. Each try is paired with a control showing the same probe
# succeeds against a target nothing protects. The proxy's protection does not
# rest on Landlock signal scoping (kernel 6.12+): the same tries run with the
# policy's Landlock scopes removed, as on the VM tier's 6.1 kernel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
. "$(dirname "$0")/egress/lib.sh"
plan 40

eg_www
$PY "$EG/server.py" 127.0.0.1 "$HP" "$T/www" "$T/r1" 300 & bg_track $!
wait_file "$T/r1" 100 || { echo "Bail out! test server did not start"; exit 1; }
POL=$(eg_policy main '.landlock = {"scope": {"signal": true, "abstract-unix": true}, "optional": true}')
NOSCOPE=$(eg_policy noscope 'del(.landlock)')
ESC=/t/egress_escape
CURL="/usr/bin/curl -sS -m 10"

for pol in "$POL" "$NOSCOPE"; do
        case $pol in *noscope*) tag=" (no Landlock scopes)" ;; *) tag="" ;; esac
        POLICY=$pol srun -- $ESC proxy
        like "$OUT" "found yes" "the payload sees the proxy in /proc$tag"
        like "$OUT" "mem EACCES" "/proc/PROXY/mem cannot be opened$tag"
        like "$OUT" "environ EACCES" "/proc/PROXY/environ cannot be read$tag"
        like "$OUT" "fd EACCES" "/proc/PROXY/fd cannot be read$tag"
        like "$OUT" "nspid_levels 1" "the proxy has no pid in the payload's namespace: kill, ptrace, pidfd_open cannot name it$tag"
        like "$OUT" "pidfd_kill EINVAL" "a /proc/PROXY dirfd cannot be used to signal it$tag"
        POLICY=$pol srun -- $ESC killall $CURL "http://api.test:$HP/index.txt"
        like "$OUT" "hello-egress" "after kill(-1, SIGKILL) from the payload the proxy still serves$tag"
done

POLICY=$POL srun -- $ESC control
like "$OUT" "mem ok" "control: the probe opens /proc/N/mem of a process of its own"
like "$OUT" "environ ok" "control: and reads its environ"
like "$OUT" "nspid_levels 2" "control: a payload process has a pid in the payload's namespace"
like "$OUT" "pidfd_kill ok" "control: and the probe can signal it through /proc/N"

POLICY=$POL srun -- /bin/sh -c 'for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = sealrun-proxy ] && grep -E "^(CapEff|CapBnd|NoNewPrivs)" $d/status; done'
like "$OUT" "CapEff:	0000000000000000" "the proxy holds no capability"
like "$OUT" "CapBnd:	0000000000000000" "and cannot regain one (empty bounding set)"
like "$OUT" "NoNewPrivs:	1" "and runs with no_new_privs"

# ---- the proxy's own confinement: seccomp allow-list and a Landlock domain granting nothing
POLICY=$POL srun -- /bin/sh -c 'for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = sealrun-proxy ] && grep -E "^Seccomp:" $d/status; done'
like "$OUT" "Seccomp:	2" "the payload sees the proxy under a seccomp filter (mode 2)"
# the test hook makes the proxy itself try, before and after its lockdown
SEALRUN_TEST_PROXY_PROBE=1 POLICY=$POL srun -- /usr/bin/curl -sS -m 10 "http://api.test:$HP/index.txt"
is "$OUT" hello-egress "with the probe the proxy still serves"
like "$ERR" "probe before: open=ok socket=ok execve=ENOENT mmap_exec=ok kill=ok" \
        "control: before its lockdown the proxy can open a file, make a socket, reach execve, map executable memory, signal init"
like "$ERR" "probe after: open=EPERM " "after: it cannot open any file"
like "$ERR" "probe after: .*socket=EPERM" "after: it cannot create a socket (the supervisor dials)"
like "$ERR" "probe after: .*execve=EPERM" "after: it cannot execve"
like "$ERR" "probe after: .*mmap_exec=EPERM kill=EPERM" "after: no executable memory, no kill"
ABI=$(landlock_abi)
if [ "$ABI" -ge 1 ]; then
        like "$ERR" "probe landlock: open=EACCES" "Landlock alone (before seccomp) already refuses every open (ABI $ABI)"
else
        like "$ERR" "probe no-landlock: open=ok" "no Landlock in this kernel: the seccomp filter alone refuses opens"
fi
if [ "$ABI" -ge 6 ]; then
        like "$ERR" "probe landlock: .*kill=EPERM" "Landlock signal scoping: the proxy cannot signal outside its domain"
else
        skip "Landlock signal scoping needs ABI 6 (kernel has $ABI)"
fi
NOLL=$(eg_policy needll '.landlock = {"fs": [{"path": "/", "access": ["read", "execute"]}], "fs_rights_optional": true}')
if [ "$ABI" -eq 0 ]; then
        POLICY=$NOLL srun -- /bin/true
        is "$RC" 77 "a policy that requires Landlock on a kernel without it: refused (77) for the proxy too"
else
        POLICY=$NOLL srun -- /bin/true
        is "$RC" 0 "a policy that requires Landlock runs where the kernel has it (ABI $ABI)"
        [ "$RC" -eq 0 ] || diag "$ERR"
fi

POLICY=$POL srun -- $ESC bind 3128
is "$OUT" "bind EADDRINUSE" "the payload cannot take the proxy's port (bound before the payload starts)"
POLICY=$POL srun -- $ESC bind 3129
is "$OUT" "bind ok" "control: the payload can bind another port"

POLICY=$POL srun -- $ESC raw
unlike "$OUT" "raw ok" "no raw IP socket"
POLICY=$POL srun -- $ESC packet
unlike "$OUT" "packet ok" "no packet socket"

POLICY=$POL srun -- $ESC udp 192.0.2.1 53
is "$OUT" "udp ENETUNREACH" "UDP (a DNS query to any server) has no route out"
POLICY=$POL srun -- $ESC udp 127.0.0.1 53
is "$OUT" "udp ok" "control: UDP to the responder inside works"
POLICY=$POL srun -- $ESC tcp 192.0.2.1 80
is "$OUT" "tcp ENETUNREACH" "a direct TCP connect to an outside address has no route"
POLICY=$POL srun -- $ESC tcp 2001:db8::1 443
is "$OUT" "tcp ENETUNREACH" "IPv6 has no route either"
POLICY=$POL srun -- $ESC tcp 127.0.0.1 3128
is "$OUT" "tcp ok" "control: the proxy inside is reachable"
