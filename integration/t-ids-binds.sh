#!/bin/sh
# Bind sources are opened with the sandbox's host ids, not the caller's: as
# root, a bind of a directory hidden behind a 0700 root-owned parent must be
# refused, not exposed (issue 13 item 3). Unprivileged callers open binds as
# themselves, which the kernel already limits to what they may reach.
. "$(dirname "$0")/lib.sh"
plan 7

chmod 0755 "$T"
mkdir -p "$T/private/project" "$T/open/project"
echo "root-only-config" > "$T/private/project/config"
echo "public-config" > "$T/open/project/config"
chmod 0644 "$T/private/project/config" "$T/open/project/config"
chmod 0755 "$T/private/project" "$T/open/project" "$T/open"
chmod 0700 "$T/private"   # like /root: only its owner may search it

# Control: the same layout behind a searchable parent is bound and read.
srun --ro-bind "$T/open/project" /data -- cat /data/config
is "$OUT" "public-config" "control: a bind behind a searchable parent is readable (exit $RC)"

if ! is_root; then
        # The caller owns the 0700 parent here: its own ids may search it.
        srun --ro-bind "$T/private/project" /data -- cat /data/config
        is "$OUT" "root-only-config" "unprivileged: the caller's own 0700 directory is bound with the caller's rights (exit $RC)"
        skip "root only: a root-owned 0700 parent cannot be made by an unprivileged caller"
        skip "root only"
        skip "root only"
        skip "root only: without a user namespace needs root"
        skip "root only"
        exit 0
fi

# The attack: as root, bind a directory whose parent only root may search.
srun --ro-bind "$T/private/project" /data -- cat /data/config
unlike "$OUT" "root-only-config" "a root-run sealrun does not expose a directory behind a 0700 root-owned parent"
is "$RC" 77 "the bind is refused (77)"
like "$ERR" "^sealrun: .*bind source $T/private/project: Permission denied for host uid [0-9]+" "one clear line names the source and the host uid"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "exactly one line on stderr"

# Without a user namespace ("user": "optional" as root in a container), sandbox
# init holds real capabilities while it opens the sources: DAC overrides must
# not open the 0700 parent either. Simulated as in t-hostcheck.sh: a user
# namespace mapping 0-65535 where no further one can be created.
nouserns() {
        mkfifo "$T/go"
        # shellcheck disable=SC2016
        unshare -U sh -c 'read x < "$0"; exec sh -c "echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec \"\$@\"" sh "$@"' "$T/go" "$@" &
        rpid=$!
        me=$(readlink /proc/self/ns/user)
        while [ "$(readlink /proc/$rpid/ns/user 2>/dev/null)" = "$me" ]; do sleep 0.01; done
        echo '0 0 65536' > /proc/$rpid/uid_map && echo '0 0 65536' > /proc/$rpid/gid_map
        echo go > "$T/go"
        wait $rpid
        r=$?
        rm -f "$T/go"
        return $r
}
jq '.namespaces.user = "optional"' "$TEST_POLICY" > "$T/opt.json"
OUT=$(nouserns "$SR" --policy "$T/opt.json" --ro-bind "$IBIN" /t --ro-bind "$T/open/project" /data -- cat /data/config 2>"$T/err")
if [ "$OUT" != "public-config" ]; then
        diag "no simulation of a host without user namespaces here: $OUT $(cat "$T/err")"
        skip "cannot simulate a host without user namespaces (unshare -U, per-namespace user.max_user_namespaces)"
        skip "cannot simulate a host without user namespaces"
        exit 0
fi
OUT=$(nouserns "$SR" --policy "$T/opt.json" --ro-bind "$IBIN" /t --ro-bind "$T/private/project" /data -- cat /data/config 2>"$T/err")
RC=$?
unlike "$OUT" "root-only-config" "without a user namespace, the 0700 root-owned parent is not passed either (control passed)"
like "$RC $(grep -v '^sealrun: note:' "$T/err")" "^77 sealrun: bind-source-denied: .*$T/private/project: Permission denied for host uid 65534" "and the bind is refused (77, bind-source-denied)"
