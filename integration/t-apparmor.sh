#!/bin/sh
# The AppArmor profile (policy/apparmor/sealrun): `make install` puts it where
# the target has /etc/apparmor.d, attached to the installed path; its syntax is
# checked with apparmor_parser where one that knows AppArmor 4 (`userns,`)
# exists, and the rest of it with an older parser (Debian 12's 3.0.8).
. "$(dirname "$0")/lib.sh"
plan 5
PROFILE="$SEALRUN_SRC/policy/apparmor/sealrun"

# make check's tiers run make in a copy of the clone with its build
# (SEALRUN_CLONE, timestamps kept): nothing is rebuilt, and the unprivileged
# tier can write there too.
CLONE=${SEALRUN_CLONE:-$SEALRUN_SRC}
if [ -f "$CLONE/Makefile" ] && [ -w "$CLONE" ]; then
        mkdir -p "$T/with/etc/apparmor.d" "$T/without"
        make -s -C "$CLONE" install DESTDIR="$T/with" PREFIX=/opt/sr > "$T/make.log" 2>&1
        is "$?" 0 "make install with /etc/apparmor.d in DESTDIR"
        like "$(grep '^profile' "$T/with/etc/apparmor.d/sealrun" 2>/dev/null)" '^profile sealrun /opt/sr/bin/sealrun flags=\(unconfined\) \{$' \
                "the profile is installed, attached to \$(PREFIX)/bin/sealrun only"
        make -s -C "$CLONE" install DESTDIR="$T/without" PREFIX=/opt/sr > "$T/make2.log" 2>&1
        [ ! -e "$T/without/etc/apparmor.d" ]; ok $? "without /etc/apparmor.d no profile is installed"
else
        for _ in 1 2 3; do skip "no writable source tree with a Makefile here (staged copy)"; done
fi

if ! command -v apparmor_parser > /dev/null 2>&1; then
        skip "apparmor_parser is not installed (Debian: apt-get install apparmor)"
        skip "apparmor_parser is not installed"
        exit 0
fi
ver=$(apparmor_parser --version 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
if [ -e /etc/apparmor.d/abi/4.0 ]; then
        apparmor_parser -Q -K "$PROFILE" > "$T/aa.log" 2>&1
        ok $? "apparmor_parser $ver accepts the profile (-Q -K)"
        sed 's/^/#   /' "$T/aa.log"
else
        skip "apparmor_parser $ver predates AppArmor 4 (no abi/4.0, rejects \`userns,\`): the full profile cannot be checked here"
fi
# The rest of the profile with an AppArmor 3 parser: only the AppArmor 4
# pieces (abi 4.0, the userns rule) taken out.
sed -e 's|<abi/4.0>|<abi/3.0>|' -e '/^  userns,$/d' "$PROFILE" > "$T/aa3"
if [ -e /etc/apparmor.d/abi/3.0 ]; then
        apparmor_parser -Q -K "$T/aa3" > "$T/aa3.log" 2>&1
        ok $? "apparmor_parser $ver accepts the profile without its AppArmor 4 rule"
else
        skip "no abi/3.0 for apparmor_parser $ver"
fi
