#!/bin/sh
# Mounts imply their Landlock access, and the command line's mount flags stay
# inside the policy: the issue's reproduction (a --bind written under the
# agent policy's Landlock section), what is never implied (write on a
# ro-bind, execute anywhere), the opt-out, --bind-try/--ro-bind-try, --tmpfs,
# --workdir (ownership as root and not, git, sources) and --network. Each
# denial is an attempt from inside, next to a control run where it succeeds.
. "$(dirname "$0")/lib.sh"
R=""
plan 41

chmod 0755 "$T"
ABI=$(landlock_abi)
diag "Landlock ABI (as sealrun finds it): $ABI"
# run POLICY ARGS...: like srun, without the /t bind (the stock policies' Landlock
# sections do not reach it), status on fd 9
run() {
        _p=$1; shift
        "$SR" --policy "$_p" --status-fd 9 "$@" >"$T/out" 2>"$T/err" 9>"$T/status"
        RC=$?
        OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); STATUS=$(tail -n 1 "$T/status")
}
# A policy that allows extra binds, by difference from the stock agent (its
# Landlock section grants /usr, /etc, /proc, /dev, /run, /tmp and home only).
printf '{"extends": "%s/agent.json", "allow_extra_binds": true}\n' "$STOCK" > "$T/binds.json"
# As root the task is nobody on the host (plain binds are opened and written
# with the sandbox's host ids): the directory must be theirs; unprivileged, the caller's.
outdir() { mkdir -p "$1" && { ! is_root || chown 65534:65534 "$1"; }; }

# --- 1. the issue's reproduction: a --bind under a Landlock fs section ---
outdir "$T/outdir"
run "$STOCK/agent.json" --bind "$T/outdir" /data -- sh -c 'echo hi > /data/out.txt'
like "$RC $ERR" '^77 .*--bind /data: .*does not allow extra binds .*--workdir binds a host dir' "the stock agent allows no extra binds: refused (77), pointing at --workdir"
run "$T/binds.json" --bind "$T/outdir" /data -- sh -c 'echo hi > /data/out.txt'
is "$RC/$(cat "$T/outdir/out.txt" 2>/dev/null)" "0/hi" "--bind under the agent's Landlock section: the task writes /data/out.txt (exit $RC)"
[ "$RC" -eq 0 ] || diag "stderr: $ERR"
if [ "$ABI" -ge 1 ]; then
        # the same bind, opted out of its implied access, with an explicit read-only rule
        jq --arg s "$T/outdir" '.mounts += [{"type": "bind", "src": $s, "dst": "/data", "landlock": false}]
                | .landlock.fs += [{"path": "/data", "access": ["read"]}]' "$STOCK/agent.json" > "$T/optout.json"
        run "$T/optout.json" -- sh -c 'cat /data/out.txt && echo no > /data/out2.txt'
        is "$OUT" hi "control: opted out with an explicit read rule, the bind is readable"
        ok "$([ "$RC" -ne 0 ] && [ ! -e "$T/outdir/out2.txt" ]; echo $?)" "... and Landlock alone denies the write the implication would have granted (exit $RC)"
        # an optional bind whose source is absent binds nothing and implies nothing, even
        # where its dst exists (here inside the opted-out, read-only bind)
        outdir "$T/outdir/sub"
        outdir "$T/other"
        for src in "$T/absent" "$T/other"; do
                jq --arg s "$src" '.mounts += [{"type": "bind", "src": $s, "dst": "/data/sub", "optional": true}]' \
                        "$T/optout.json" > "$T/optout-sub.json"
                run "$T/optout-sub.json" -- sh -c 'echo x > /data/sub/f'
                R="$R $RC"
        done
        ok "$([ -e "$T/other/f" ] && [ ! -e "$T/outdir/sub/f" ]; echo $?)" "an absent optional bind implies no access at its dst (exits:$R; control: present, it is writable)"
else
        skip "the kernel has no Landlock: nothing is implied or denied" "opt-out read"
        skip "the kernel has no Landlock: nothing is implied or denied" "opt-out write"
        skip "the kernel has no Landlock: nothing is implied or denied" "absent optional bind"
fi
# an opt-out that no explicit rule reaches is refused at launch, naming both
jq --arg s "$T/outdir" '.mounts += [{"type": "bind", "src": $s, "dst": "/data", "landlock": false}]' \
        "$STOCK/agent.json" > "$T/optout-bad.json"
run "$T/optout-bad.json" -- true
is "$RC" 125 "a mount opted out of Landlock that no rule reaches: refused at launch (125)"
like "$ERR" '\$\.mounts\[[0-9]+\]\.landlock: false, and no \$\.landlock\.fs rule grants anything at /data' "... one line naming the mount and the Landlock rules"

# --- 2. what is never implied ---
outdir "$T/ro"
echo ro > "$T/ro/f"
run "$T/binds.json" --ro-bind "$T/ro" /ro -- sh -c 'cat /ro/f; echo x > /ro/f; echo y > /ro/new'
is "$OUT" ro "control: a --ro-bind is readable under Landlock (read implied)"
is "$(cat "$T/ro/f"):$([ -e "$T/ro/new" ] && echo new)" "ro:" "escape: a --ro-bind cannot be written or added to (exit $RC)"
cp /bin/true "$T/outdir/tru" && chmod 0755 "$T/outdir/tru"
is_root && chown 65534:65534 "$T/outdir/tru"
run "$T/binds.json" --bind "$T/outdir" /data -- sh -c 'cp /data/tru /tmp/tru && /tmp/tru && echo tmp-ok; /data/tru && echo data-ok'
if [ "$ABI" -ge 1 ]; then
        is "$OUT" tmp-ok "escape: execute is not implied by a --bind (control: the same binary runs from /tmp, which the agent grants execute)"
        printf '{"extends": "%s", "landlock": {"fs": %s}}\n' "$T/binds.json" \
                "$(jq -c '.landlock.fs + [{"path": "/data", "access": ["read", "execute"]}]' "$STOCK/agent.json")" > "$T/exec.json"
        run "$T/exec.json" --bind "$T/outdir" /data -- sh -c '/data/tru && echo data-ok'
        is "$OUT" data-ok "control: an explicit rule grants execute on the bind"
else
        skip "the kernel has no Landlock: execute is not restricted" "execute not implied"
        skip "the kernel has no Landlock: execute is not restricted" "explicit execute"
fi

# --- 3. --bind-try, --ro-bind-try, --tmpfs ---
run "$T/binds.json" --bind-try "$T/absent" /absent --ro-bind-try "$T/ro" /ro2 -- sh -c 'cat /ro2/f; test -e /absent || echo no-absent'
is "$RC/$(echo "$OUT" | tr '\n' ' ')" "0/ro no-absent " "--bind-try with a missing source is skipped, --ro-bind-try of a present one binds"
like "$ERR" 'note: --bind-try .*/absent: the source does not exist, skipped' "... and the skip is said on stderr"
run "$T/binds.json" --bind "$T/absent" /absent -- true
ok "$([ "$RC" -ne 0 ]; echo $?)" "control: a plain --bind of the missing source fails (exit $RC)"
run "$T/binds.json" --tmpfs /scratch -- sh -c 'echo t > /scratch/f && cat /scratch/f && stat -c %u /scratch'
is "$RC/$(echo "$OUT" | tr '\n' ' ')" "0/t 1000 " "--tmpfs: a fresh tmpfs the task owns, writable under Landlock (implied)"
run "$T/binds.json" --tmpfs /scratch -- sh -c 'cp /bin/true /scratch/t && /scratch/t'
if [ "$ABI" -ge 1 ]; then ok "$([ "$RC" -ne 0 ]; echo $?)" "escape: execute is not implied by a --tmpfs (exit $RC)"
else skip "the kernel has no Landlock: execute is not restricted" "tmpfs execute"; fi
for f in "--tmpfs /scratch" "--bind-try $T/ro /x" "--ro-bind-try $T/ro /x"; do
        # shellcheck disable=SC2086
        run "$STOCK/agent.json" $f -- true
        like "$RC $ERR" "^77 .*${f%% *} .*does not allow extra binds" "$f under the stock agent (no extra binds): refused (77) naming the rule"
done

# --- 4. --workdir ---
run "$TEST_POLICY" --workdir "$T/outdir" -- true
like "$RC $ERR" '^77 .*--workdir .*sets no "workdir"' "--workdir under a policy without \"workdir\": refused (77) naming the rule"
if is_root; then
        mkdir "$T/wd" && chown 1234:1234 "$T/wd"
        run "$STOCK/agent.json" --workdir "$T/wd" -- true
        like "$RC $ERR" '^77 .*as root .*\$\.workdir\.sources' "root: --workdir needs the policy's workdir.sources (77)"
        printf '{"extends": "%s/agent.json", "workdir": {"sources": ["%s"]}}\n' "$STOCK" "$T" > "$T/wd.json"
        OWNER=1234
else
        mkdir "$T/wd"
        printf '{"extends": "%s/agent.json"}\n' "$STOCK" > "$T/wd.json"
        OWNER=$(id -u)
        skip "root only: an unprivileged --workdir is bound plainly (the user namespace maps the caller)" "workdir sources as root"
fi
(cd "$T/wd" && git init -q repo && git -C repo -c user.email=a@b -c user.name=a commit -q --allow-empty -m init)
is_root && chown -R 1234:1234 "$T/wd"
run "$T/wd.json" --workdir "$T/wd" -- sh -c 'pwd; stat -c %u:%g .; echo hi > out.txt; cd repo && git status --porcelain=v1 -b | head -n 1'
is "$RC" 0 "--workdir: the task runs (exit $RC)"
[ "$RC" -eq 0 ] || diag "stderr: $ERR"
is "$(echo "$OUT" | sed -n 1p)" /work "... it starts in the policy's workdir path"
is "$(echo "$OUT" | sed -n 2p)" 1000:1000 "... and sees the directory as its own"
is "$(stat -c %u "$T/wd/out.txt" 2>/dev/null)" "$OWNER" "... the file it writes lands with the owner's uid on the host ($OWNER)"
like "$(echo "$OUT" | sed -n 3p)" '^## ' "... git in the bound repo works: no dubious ownership"
unlike "$ERR" "dubious ownership" "... and says nothing about it"
if is_root; then
        # control: the same repo, bound plainly, is someone else's to git inside
        run "$T/binds.json" --bind "$T/wd" /w -- sh -c 'cd /w/repo && git status'
        like "$ERR" "dubious ownership" "control: as root the same repo under a plain --bind stops git (not idmapped)"
        mkdir "$T/rootwd"
        run "$T/wd.json" --workdir "$T/rootwd" -- true
        like "$RC $ERR" '^77 .*owned by uid 0 .*root cannot be lent' "root: a root-owned work dir is refused (77): its files would land as root"
        mkdir -p /var/tmp/sealrun-wd.$$ && chown 1234 /var/tmp/sealrun-wd.$$
        run "$T/wd.json" --workdir /var/tmp/sealrun-wd.$$ -- true
        rmdir /var/tmp/sealrun-wd.$$
        like "$RC $ERR" "^77 .*not under the policy's workdir.sources" "escape: a work dir outside workdir.sources is refused (77)"
else
        skip "root only: idmapped mounts" "plain bind control"
        skip "root only: idmapped mounts" "root-owned work dir"
        printf '{"extends": "%s/agent.json", "workdir": {"sources": ["%s/wd"]}}\n' "$STOCK" "$T" > "$T/wd-src.json"
        run "$T/wd-src.json" --workdir "$T/outdir" -- true
        like "$RC $ERR" "^77 .*not under the policy's workdir.sources" "escape: a work dir outside workdir.sources is refused (77)"
fi
cp /bin/true "$T/wd/tru"
is_root && chown 1234:1234 "$T/wd/tru"
run "$T/wd.json" --workdir "$T/wd" -- sh -c './tru && echo ran'
if [ "$ABI" -ge 1 ]; then ok "$([ "$RC" -ne 0 ] && [ -z "$OUT" ]; echo $?)" "escape: execute is not implied in the work dir (exit $RC)"
else skip "the kernel has no Landlock: execute is not restricted" "workdir execute"; fi
run "$T/wd.json" --workdir "$T/wd" --chdir /tmp -- pwd
is "$OUT" /tmp "--chdir still wins over the work dir's path"

# --- 5. --network ---
run "$TEST_POLICY" --network veth -- true
like "$RC $ERR" '^77 .*--network veth: the policy .* allows mode none, none \(\$\.network\.modes\)' "--network veth under a none-only policy: refused (77) naming network.modes"
run "$TEST_POLICY" --network none -- true
is "$RC/$(jget "$STATUS" .network)" "0/none" "--network none: always allowed (it only takes away)"
run "$TEST_POLICY" --network bogus -- true
like "$RC $ERR" '^125 .*--network: "bogus" is not one of' "--network with an unknown mode: usage error (125)"
jq '.namespaces.net = false | .network = {"mode": "host"}' "$TEST_POLICY" > "$T/host.json"
run "$T/host.json" -- sh -c 'tail -n +3 /proc/net/dev | wc -l'
HOSTN=$OUT
run "$T/host.json" --network none -- sh -c 'tail -n +3 /proc/net/dev | wc -l'
is "$RC/$OUT/$(jget "$STATUS" .network)" "0/1/none" "--network none on a host-network policy: a namespace of its own, only lo (host mode showed $HOSTN)"
ok "$([ "${HOSTN:-0}" -ge 1 ]; echo $?)" "control: the host-mode task sees the host's interfaces ($HOSTN)"
jq '.network = {"mode": "none", "modes": ["veth"], "veth": {"pools": ["10.231.0.0/24"]}}' "$TEST_POLICY" > "$T/modes.json"
run "$T/modes.json" --network proxy -- true
like "$RC $ERR" '^77 .*allows mode none, none, veth' "--network proxy not listed in network.modes: refused (77), the allowed ones named"
# a listed mode really runs: proxy (any caller) and veth (root: CAP_NET_ADMIN on the host)
jq '.network = {"mode": "none", "modes": ["proxy", "veth"], "veth": {"pools": ["10.231.0.0/24"]},
        "egress": {"allow": [{"host": "api.test"}]}}' "$TEST_POLICY" > "$T/modes2.json"
run "$T/modes2.json" -- sh -c 'echo "[${HTTPS_PROXY:-}]"'
is "$OUT/$(jget "$STATUS" .network)" "[]/none" "control: without --network the policy's mode (none) runs, no proxy"
run "$T/modes2.json" --network proxy -- sh -c 'echo "[${HTTPS_PROXY:-}]"'
is "$RC/$OUT/$(jget "$STATUS" .network)" "0/[http://127.0.0.1:3128]/proxy" "--network proxy, listed: the egress proxy runs and the status says proxy"
if is_root; then
        run "$T/modes2.json" --network veth -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" " "'
        is "$RC/$OUT/$(jget "$STATUS" .network)" "0/eth0 lo /veth" "--network veth, listed: the task gets eth0 and the status says veth"
else
        skip "root only: mode veth needs CAP_NET_ADMIN in the host network namespace" "--network veth"
fi
