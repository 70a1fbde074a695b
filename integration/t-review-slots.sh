#!/bin/sh
# Slot directory squatting: another user pre-creates /tmp/sealrun-<uid> (or a
# symlink there) for a victim with no runtime directory. The victim's
# slot-limited launches use a location others cannot create where it has one
# ($XDG_RUNTIME_DIR, /run/user/<uid>) and otherwise refuse with one clear
# line and the reason slots-squatted, never a bare 77.
. "$(dirname "$0")/lib.sh"
plan 13

# The unprivileged tier checks its own launches; a squatter needs a second uid.
if ! is_root; then
        unset XDG_RUNTIME_DIR
        srun --tenant acme --max-concurrent 1 -- /bin/true
        is "$RC" 0 "no runtime directory: a slot-limited launch runs"
        d="/tmp/sealrun-$(id -u)"
        is "$(stat -c '%u %a' "$d" 2>/dev/null)" "$(id -u) 700" "its slot directory is the caller's, mode 0700"
        mkdir -m 0755 "$T/run"
        XDG_RUNTIME_DIR="$T/run" srun --tenant acme --max-concurrent 1 -- /bin/true
        ok "$([ "$RC" -eq 0 ] && [ ! -e "$T/run/sealrun" ]; echo $?)" "an \$XDG_RUNTIME_DIR with mode 0755 is not used"
        chmod 0700 "$T/run"
        XDG_RUNTIME_DIR="$T/run" srun --tenant acme --max-concurrent 1 -- /bin/true
        ok "$([ "$RC" -eq 0 ] && [ -f "$T/run/sealrun/slots/acme/slot-0" ]; echo $?)" "a private \$XDG_RUNTIME_DIR holds the slots"
        for i in $(seq 9); do skip "a squatter and its victim need two uids (root tier)"; done
        exit 0
fi

# A victim uid with no passwd entry, no runtime directory and no slot directory.
U=$((2000000000 + $$ % 100000))
while getent passwd "$U" >/dev/null || [ -e "/tmp/sealrun-$U" ] || [ -e "/run/user/$U" ]; do U=$((U + 1)); done
SQ="/tmp/sealrun-$U"
on_exit cleanup_squat
cleanup_squat() { rm -rf "$SQ" "/run/user/$U"; }
# What the victim runs must be reachable by it.
chmod 0711 "$T"
mkdir -m 0755 "$T/bin" && cp "$SR" "$T/bin/sealrun" && cp "$TEST_POLICY" "$T/bin/p.json" && chmod 0644 "$T/bin/p.json"
victim() { # victim [ENV...]: a slot-limited launch as uid U; sets RC, ERR, REASON
        setpriv --reuid="$U" --regid="$U" --clear-groups env -i PATH=/usr/bin:/bin HOME=/nonexistent "$@" \
                "$T/bin/sealrun" --policy "$T/bin/p.json" --tenant acme --max-concurrent 1 --status-fd 9 -- /bin/true \
                2> "$T/v.err" 9> "$T/v.status"
        RC=$?
        ERR=$(cat "$T/v.err")
        REASON=$(tail -n 1 "$T/v.status" | jq -r .refused 2>/dev/null)
}

victim
is "$RC/$(stat -c '%u %a' "$SQ" 2>/dev/null)" "0/$U 700" "control: no squatter, the victim's slot directory is its own, mode 0700"
rm -rf "$SQ"

# The squatter: another uid makes the directory first.
mkdir -p "$SQ/slots/acme" && chown -R 65534:65534 "$SQ" && chmod -R 0777 "$SQ"
victim
is "$RC" 77 "squatted /tmp/sealrun-$U, no runtime directory: refused (77)"
is "$REASON" slots-squatted "status: refused slots-squatted"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "one stderr line"
like "$ERR" "$SQ: owned by uid 65534.*XDG_RUNTIME_DIR" "it names the directory, its owner and the way out"

# A runtime directory of its own: squatting /tmp does not matter.
mkdir -m 0700 "$T/xdg" && chown "$U:$U" "$T/xdg"
victim XDG_RUNTIME_DIR="$T/xdg"
is "$RC" 0 "squatted /tmp, \$XDG_RUNTIME_DIR set: the launch runs"
ok "$([ "$(stat -c %u "$T/xdg/sealrun/slots/acme/slot-0" 2>/dev/null)" = "$U" ]; echo $?)" "its slots live in \$XDG_RUNTIME_DIR"
# /run/user/<uid> without the variable (a service without a login session
# but with a runtime directory, or lingering): other users cannot create it.
if [ -d /run/user ] && [ "$(stat -c %u /run/user)" = 0 ]; then
        mkdir -m 0700 "/run/user/$U" && chown "$U:$U" "/run/user/$U"
        victim
        is "$RC" 0 "squatted /tmp, /run/user/$U exists: the launch runs"
        ok "$([ -f "/run/user/$U/sealrun/slots/acme/slot-0" ]; echo $?)" "its slots live in /run/user/$U"
        rm -rf "/run/user/$U"
else
        skip "this host has no root-owned /run/user"
        skip "this host has no root-owned /run/user"
fi

# A symlink planted in its place, to a directory the victim owns: refused too.
rm -rf "$SQ"
mkdir -m 0700 "$T/decoy" && chown "$U:$U" "$T/decoy"
ln -s "$T/decoy" "$SQ"
victim
is "$RC/$REASON" 77/slots-squatted "a symlink at /tmp/sealrun-$U: refused, slots-squatted"
like "$ERR" "$SQ: .*symlink" "it says it is a symlink"
rm -f "$SQ"

# A squatter cannot hand a directory to the victim: only root can. The
# victim's own directory with a bad
# mode (left by an old umask) is refused, not used.
mkdir -m 0777 "$SQ" && chown "$U:$U" "$SQ"
victim
is "$RC/$REASON" 77/slots "the victim's own directory writable by others: refused"
victim XDG_RUNTIME_DIR="$T/xdg"
is "$RC" 0 "... and with a runtime directory the launch runs"
