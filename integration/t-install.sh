#!/bin/sh
# make install DESTDIR=: the staged tree has every file and directory the docs use, sysusers runs from it, the units verify against it.
. "$(dirname "$0")/lib.sh"

plan 16
# make check's tiers run this in a copy of the clone with its build (SEALRUN_CLONE), so the
# unprivileged tier can run make there and nothing is rebuilt (timestamps are kept).
CLONE=${SEALRUN_CLONE:-$SEALRUN_SRC}
S="$T/stage"
P=/usr/local
out=$(make -C "$CLONE" --no-print-directory install DESTDIR="$S" PREFIX="$P" 2>&1)
rc=$?
ok $rc "make install DESTDIR=... PREFIX=$P"
[ $rc -eq 0 ] || printf '%s\n' "$out" | tail -n 5 | sed 's/^/# /'

# The tree: binaries, the setup script, units, sysusers.d, man pages, stock policies.
missing=""
for f in bin/sealrun bin/sealctl bin/sealrun-auditd bin/sealrun-pool sbin/sealrun-pool-init \
        lib/systemd/system/sealrun-auditd.socket lib/systemd/system/sealrun-auditd.service \
        lib/systemd/system/sealrun-pool@.service lib/sysusers.d/sealrun.conf \
        share/man/man1/sealrun.1 share/man/man1/sealctl.1 share/man/man8/sealrun-pool.8 \
        share/sealrun/policy/agent.json share/sealrun/policy/default.json; do
        [ -f "$S$P/$f" ] || missing="$missing $f"
done
is "$missing" "" "the staged tree has the binaries, sealrun-pool-init, the units, sysusers.d, man pages and stock policies"

# Every directory below /etc/sealrun that the README, operations.md and the man page
# install into (install -D would hide a missing one; a plain install or sealctl --out would not).
dirs=$(cat "$SEALRUN_SRC/README.md" "$SEALRUN_SRC/docs/operations.md" "$SEALRUN_SRC/man/sealrun-pool.8" |
        grep -o '/etc/sealrun/[a-z.-]*/' | sort -u | tr '\n' ' ')
like "$dirs" '/etc/sealrun/issuers/ .*/etc/sealrun/pools/' "the docs name /etc/sealrun/issuers/ and /etc/sealrun/pools/ (the list below is not empty)"
missing=""
for d in $dirs /etc/sysusers.d/; do [ -d "$S$d" ] || missing="$missing $d"; done
is "$missing" "" "make install creates every /etc/sealrun directory the docs use, and /etc/sysusers.d"
is "$(stat -c %a "$S/etc/credstore.encrypted" "$S/etc/credstore" 2>/dev/null | tr '\n' ' ')" "700 700 " \
        "the credential stores exist, 0700 (systemd's convention; sealrun-pool-init --check wants it)"
is "$(jq -c . "$S/etc/sealrun/audit-allow.json" 2>/dev/null)" '{"version":1,"allow":[]}' "an empty audit allow map is installed"
echo '{"version":1,"allow":[{"uid":4242,"tenants":["acme"]}]}' > "$S/etc/sealrun/audit-allow.json"
make -C "$CLONE" --no-print-directory install DESTDIR="$S" PREFIX="$P" >/dev/null 2>&1
is "$(jq -c '.allow[0].uid' "$S/etc/sealrun/audit-allow.json" 2>/dev/null)" 4242 "make install again keeps an existing allow map"

# The units name the installed binaries.
execs=$(grep -h '^Exec[A-Za-z]*=' "$S$P/lib/systemd/system/"* | sed 's/^[^=]*=//; s/ .*//' | sort -u | tr '\n' ' ')
bad=""
for x in $execs; do case "$x" in "$P"/bin/*) [ -x "$S$x" ] || bad="$bad $x" ;; /bin/kill) ;; *) bad="$bad $x" ;; esac; done
is "$bad" "" "every ExecStart= names a binary make install put under $P/bin ($execs)"

# The documented order: sysusers first (the socket's group, the collector's user), from the
# staged sysusers.d alone (no file argument: it is on systemd-sysusers' search path).
systemd-sysusers --root="$S" >"$T/sysusers.log" 2>&1
ok $? "systemd-sysusers --root=STAGE, with no file argument"
names=$(grep -hE '^(User|Group|SocketUser|SocketGroup|SupplementaryGroups)=' "$S$P/lib/systemd/system/"* |
        sed 's/^[^=]*=//' | tr ' ' '\n' | grep -v -e '%' -e '^root$' | sort -u)
missing=""
for n in $names; do grep -q "^$n:" "$S/etc/passwd" "$S/etc/group" || missing="$missing $n"; done
is "$missing" "" "every user and group the units name exists afterwards ($(echo $names))"

# The units are on the unit search path of the staged root and their [Install] sections work.
systemctl --root="$S" enable sealrun-auditd.socket sealrun-pool@acme.service >"$T/enable.log" 2>&1
ok $? "systemctl --root=STAGE enable sealrun-auditd.socket sealrun-pool@acme.service"
is "$(readlink "$S/etc/systemd/system/sockets.target.wants/sealrun-auditd.socket") $(readlink "$S/etc/systemd/system/multi-user.target.wants/sealrun-pool@acme.service")" \
        "$P/lib/systemd/system/sealrun-auditd.socket $P/lib/systemd/system/sealrun-pool@.service" \
        "... linked from sockets.target.wants and multi-user.target.wants"

# systemd-analyze verify against the staged tree. --root=STAGE cannot work: it
# resolves every dependency (sysinit.target, sockets.target) and every command
# (/bin/kill) inside the root, which holds only what make install put there, and
# the man page check runs the host's man(1). So: the installed units with their
# paths rooted at the stage, the staged man pages on MANPATH, --man=yes.
V="$T/verify"
mkdir -p "$V"
for u in "$S$P/lib/systemd/system/"*; do
        n=$(basename "$u")
        sed "s,$P/,$S$P/,g" "$u" > "$V/$(echo "$n" | sed 's/@\.service$/@acme.service/')"
done
verify() { # verify [ENV...]: rc and output of verifying every staged unit; a warning counts as a failure
        vout=$(cd "$V" && env "$@" systemd-analyze verify --man=yes sealrun-auditd.socket sealrun-auditd.service \
                sealrun-pool@acme.service 2>&1)
        [ $? -eq 0 ] && [ -z "$vout" ]
}
verify MANPATH="$S$P/share/man"
ok $? "systemd-analyze verify --man=yes: every installed unit, binaries and man pages from the stage"
[ -n "$vout" ] && printf '%s\n' "$vout" | sed 's/^/# /'
# Controls: the same check fails when the man pages or a binary are missing from the stage.
verify MANPATH="$T/nowhere"
like "$vout" "Command 'man sealrun-pool\(8\)' failed" "control: without the staged man pages verify fails on Documentation="
mv "$S$P/bin/sealrun-pool" "$S$P/bin/sealrun-pool.off"
verify MANPATH="$S$P/share/man"
like "$vout" 'sealrun-pool@acme.service: Command .*sealrun-pool is not executable' "control: without the staged sealrun-pool verify fails on ExecStart="
mv "$S$P/bin/sealrun-pool.off" "$S$P/bin/sealrun-pool"

# The staged setup script finds the staged sealctl (beside it, ../bin) and knows --rotate-key.
like "$(sh "$S$P/sbin/sealrun-pool-init" --help 2>&1)" '--rotate-key' "the installed sealrun-pool-init runs (--help)"
