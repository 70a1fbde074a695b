#!/bin/sh
# Bind sources are opened with the sandbox's host ids, not the caller's: as
# root, a bind of a directory hidden behind a 0700 root-owned parent must be
# refused, not exposed (issue 13 item 3). Unprivileged callers open binds as
# themselves, which the kernel already limits to what they may reach.
. "$(dirname "$0")/lib.sh"
plan 5

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
        exit 0
fi

# The attack: as root, bind a directory whose parent only root may search.
srun --ro-bind "$T/private/project" /data -- cat /data/config
unlike "$OUT" "root-only-config" "a root-run sealrun does not expose a directory behind a 0700 root-owned parent"
is "$RC" 77 "the bind is refused (77)"
like "$ERR" "^sealrun: .*bind source $T/private/project: Permission denied for host uid [0-9]+" "one clear line names the source and the host uid"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "exactly one line on stderr"
