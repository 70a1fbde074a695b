#!/bin/sh
# VM tier, inside the guest (systemd is pid 1): two tenant pools as real units; TAP on /dev/ttyS1.
# Run by sealrun-vmtest.service; the host side is run.sh next to this file.
exec >/dev/ttyS1 2>&1
set -u
t0=$(date +%s)
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
n=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2 [$(( $(date +%s) - t0 )) s]"; else echo "not ok $n - $2 [$(( $(date +%s) - t0 )) s]"; fi; }
is() { if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '$1'"; echo "#  want: '$2'"; fi; }
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }
diag() { echo "# $*"; }
echo "1..39"

UNITCG="/sys/fs/cgroup/system.slice/system-sealrun\\x2dpool.slice"
AUDIT=/var/lib/sealrun/audit
spool() { echo "/var/lib/sealrun-pool/$1"; }
submit() { # submit TENANT NAME JSON
        printf '%s\n' "$3" > "$(spool "$1")/incoming/.$2.tmp" && mv "$(spool "$1")/incoming/.$2.tmp" "$(spool "$1")/incoming/$2.json"
}
final() { tail -n 1 "$(spool "$1")/done/$2.json" 2>/dev/null; }
wait_for() { # wait_for SECONDS COMMAND...: poll until COMMAND succeeds (wall clock: a poll costs a lot under TCG)
        _end=$(($(date +%s) + $1)); shift
        while [ "$(date +%s)" -le $_end ]; do "$@" && return 0; sleep 0.2; done
        return 1
}
done_exists() { [ -s "$(spool "$1")/done/$2.json" ]; }
running() { pgrep -f "^sleep $1\$" >/dev/null; }
# events TENANT EVENT TASK: how many such events the collector stored
events() { jq -c --arg e "$2" --arg t "$3" 'select(.event.event == $e and .event.task == $t)' "$AUDIT/$1.jsonl" 2>/dev/null | wc -l; }

# ---- the platform: systemd as pid 1 on a pure cgroup v2 hierarchy
is "$(cat /proc/1/comm)" systemd "pid 1 is systemd"
is "$(stat -fc %T /sys/fs/cgroup)" cgroup2fs "pure cgroup v2 (controllers: $(cat /sys/fs/cgroup/cgroup.controllers))"

# ---- setup: the collector, an issuer, two tenants' pools
systemctl daemon-reload
systemctl enable --now sealrun-auditd.socket >/dev/null 2>&1
ok $? "sealrun-auditd.socket enabled and listening ($(stat -c '%A %U:%G' /run/sealrun/audit.sock 2>/dev/null))"
mkdir -p /etc/sealrun/issuers /root/keys
chmod 0700 /root/keys
sealctl keygen --issuer --out /root/keys/ops >/dev/null 2>&1 && install -m 0644 /root/keys/ops.pub /etc/sealrun/issuers/ops.pub
for t in acme globex; do
        # --with-key host: this VM's root is a RAM disk, where systemd-creds' "auto" refuses to keep a host key.
        # The stock default policy: the agent policy's Landlock TCP rules need ABI 4, and
        # Debian 12's kernel (6.1) has ABI 2, so sealrun rightly refuses it there (77).
        out=$(sealrun-pool-init --trust /etc/sealrun/issuers/ops.pub --max-tasks 2 --with-key host \
                --policy /usr/local/share/sealrun/policy/default.json "$t" 2>&1)
        rc=$?
        ok $rc "sealrun-pool-init $t (key encrypted with systemd-creds, host key)"
        [ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
done
ok "$([ -s /etc/credstore.encrypted/sealrun-pool-acme.key ] && ! grep -q sealrun-key /etc/credstore.encrypted/sealrun-pool-acme.key; echo $?)" \
        "the pool key is stored encrypted (no plaintext key line in the credential file)"
# One sealed profile per tenant with a random canary credential.
for t in acme globex; do
        can=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
        eval "CAN_$t=\$can"
        printf '{"tenant":"%s","credentials":[{"name":"gh_token","value":"%s-%s","as":"file"}]}' "$t" "$t" "$can" |
                sealctl seal --tenant "$t" --profile default --version 1 --not-after +1h --to "/etc/sealrun/pools/$t/pool.pub" \
                        --sign /root/keys/ops.key --in - --out "/etc/sealrun/pools/$t/profiles/default.sealed" >/dev/null 2>&1
        chgrp "sealrun-$t" "/etc/sealrun/pools/$t/profiles/default.sealed"
        chmod 0640 "/etc/sealrun/pools/$t/profiles/default.sealed"
done
out=$(sealrun-pool-init --check acme 2>&1; sealrun-pool-init --check globex 2>&1)
ok "$(printf '%s\n' "$out" | grep -qE '^(MISSING|UNSAFE)'; [ $? -ne 0 ]; echo $?)" "sealrun-pool-init --check: both pools complete and safe"
printf '%s\n' "$out" | grep -E '^(MISSING|UNSAFE)' | sed 's/^/# /'
systemctl start sealrun-pool@acme.service sealrun-pool@globex.service
is "$(systemctl is-active sealrun-pool@acme.service sealrun-pool@globex.service | tr '\n' ' ')" "active active " "both pool units are active (Type=notify: the worker said READY=1)"
if [ "$(systemctl is-active sealrun-pool@acme.service sealrun-pool@globex.service | tr '\n' ' ')" != "active active " ]; then
        journalctl -u sealrun-pool@acme.service -u sealrun-pool@globex.service --no-pager | tail -n 20 | sed 's/^/# /'
        echo "Bail out! the pools did not start; nothing below could pass"
        exit 1
fi

# ---- tasks of both tenants, at the same time
# Long sleeps with unique durations (so pgrep finds exactly them); the
# test ends them from the host once it has looked at the running tasks.
S=600.$(od -An -tu2 -N2 /dev/urandom | tr -d ' ')
SA1=${S}1; SA2=${S}2; SB1=${S}3; SB2=${S}4
req() { # req TASK TENANT SLEEP: read the credential, then sleep until killed; exit 0
        printf '{"task":"%s","tenant":"%s","profile":"default.sealed","command":["/bin/sh","-c","sha256sum < $CREDENTIALS_DIRECTORY/gh_token; sleep %s; exit 0"]}' "$1" "$2" "$3"
}
submit acme a1 "$(req a1 acme "$SA1")"
submit acme a2 "$(req a2 acme "$SA2")"
submit globex b1 "$(req b1 globex "$SB1")"
submit globex b2 "$(req b2 globex "$SB2")"
all_running() { running "$SA1" && running "$SA2" && running "$SB1" && running "$SB2"; }
wait_for 60 all_running
ok $? "four tasks of two tenants run at once" || true
if ! all_running; then
        for t in acme globex; do
                journalctl -u "sealrun-pool@$t.service" --no-pager | tail -n 8 | sed 's/^/# /'
                for f in "$(spool "$t")"/done/*; do [ -f "$f" ] && { echo "# $f:"; tail -n 2 "$f" | sed 's/^/#   /'; }; done
        done
fi
bad=""
for x in "acme $SA1" "acme $SA2" "globex $SB1" "globex $SB2"; do
        set -- $x
        pid=$(pgrep -f "^sleep $2\$" | head -n 1)
        cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>/dev/null)
        diag "$1 task (sleep $2): host pid $pid uid $(stat -c %u "/proc/$pid" 2>/dev/null) cgroup $cg"
        case "$cg" in
        "/system.slice/system-sealrun\\x2dpool.slice/sealrun-pool@$1.service/"?*) ;;
        *) bad="$bad $1:$cg" ;;
        esac
        [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$(id -u "sealrun-$1")" ] || bad="$bad $1:uid"
done
is "$bad" "" "each task runs in a cgroup below its own pool's unit, as its pool's user"

# ---- the pool key: in the unit's credentials directory only, never in an environment or a command line
pats=""
for t in acme globex; do
        key=$(systemd-creds decrypt --name=pool.key "/etc/credstore.encrypted/sealrun-pool-$t.key" - 2>/dev/null | awk '{ print $4 }')
        hex=$(printf '%s' "$key" | base64 -d 2>/dev/null | od -An -tx1 | tr -d ' \n')
        ok "$([ ${#key} -ge 40 ] && grep -qF "$key" "/run/credentials/sealrun-pool@$t.service/pool.key"; echo $?)" \
                "control: $t's key (decrypted here as root) is what the unit's credential holds"
        if [ ${#key} -lt 40 ] || [ ${#hex} -lt 64 ]; then
                ok 1 "$t's pool key: cannot decrypt it to search for it (no Environment check)"
                continue
        fi
        # One systemctl call for every loaded unit (each call costs about a second under TCG).
        units=$(systemctl list-units --all --plain --no-legend | awk '{ print $1 }')
        hits=$(systemctl show -p Id -p Environment $units 2>/dev/null |
                awk -v k="$key" -v h="$hex" '/^Id=/ { id = substr($0, 4) } /^Environment=/ && (index($0, k) || index(tolower($0), h)) { print id }' | tr '\n' ' ')
        systemctl show-environment | grep -qF -e "$key" -e "$hex" && hits="$hits (manager)"
        is "$hits" "" "$t's pool key is in no unit's Environment (systemctl show -p Environment, all units)"
        pats="$pats -e $key -e $hex"
done
# One grep over every process (a fork costs ~0.1 s under TCG), while the four
# tasks run; the patterns come from a root-only file so that grep's own
# command line does not hold them.
if [ -n "$pats" ]; then
        printf '%s\n' $pats | grep -v '^-e$' > /root/keys/patterns
        hits=$(grep -laiF -f /root/keys/patterns /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\n' ' ')
        rm -f /root/keys/patterns
        is "$hits" "" "neither pool key (base64 or hex) is in any process's environ or cmdline ($(ls -d /proc/[0-9]* | wc -l) processes, tasks running)"
else
        ok 1 "neither pool key could be decrypted to search for it"
fi
pkill -f "^sleep ${S}[1-4]\$"

wait_for 60 done_exists acme a1 && wait_for 30 done_exists acme a2 && wait_for 30 done_exists globex b1 && wait_for 30 done_exists globex b2
is "$(for x in "acme a1" "acme a2" "globex b1" "globex b2"; do set -- $x; final "$1" "$2" | jq -r .exit_code; done | tr '\n' ' ')" "0 0 0 0 " \
        "all four tasks exit 0"
want_a=$(printf 'acme-%s' "$CAN_acme" | sha256sum | cut -d' ' -f1)
want_b=$(printf 'globex-%s' "$CAN_globex" | sha256sum | cut -d' ' -f1)
is "$(cut -d' ' -f1 "$(spool acme)/done/a1.out") $(cut -d' ' -f1 "$(spool globex)/done/b1.out")" "$want_a $want_b" \
        "each task read its own tenant's credential"
is "$(events acme inject a1) $(events acme scrub a1) $(events globex inject b1) $(events globex scrub b1)" "1 1 1 1" \
        "the collector has inject and scrub for each task, in its tenant's file"

# ---- the tenant boundary: another tenant's request, profile, key and spool
submit acme x1 '{"task":"x1","tenant":"globex","profile":"default.sealed","command":["/bin/true"]}'
wait_for 30 done_exists acme x1
is "$(final acme x1 | jq -r '"\(.exit_code) \(.refused)"')" "77 cross-tenant" "a request for globex sent to acme's pool is refused"
is "$(jq -r 'select(.event.event == "deny" and .event.task == "x1") | "\(.event.tenant) \(.event.reason) uid=\(.peer.uid)"' "$AUDIT/acme.jsonl" 2>/dev/null)" \
        "acme cross-tenant uid=$(id -u sealrun-acme)" "... and audited: a deny in acme's file, sent by acme's pool user"
[ "$(events acme deny x1)" = 1 ] || { final acme x1 | sed 's/^/# status: /'; jq -c '.event' "$AUDIT/acme.jsonl" | tail -n 4 | sed 's/^/# audit: /'; }
is "$(events globex deny x1)" 0 "... nothing of it lands in globex's audit file"
cp /etc/sealrun/pools/globex/profiles/default.sealed /etc/sealrun/pools/acme/profiles/globex.sealed
chgrp sealrun-acme /etc/sealrun/pools/acme/profiles/globex.sealed
submit acme x2 '{"task":"x2","tenant":"acme","profile":"globex.sealed","command":["/bin/true"]}'
wait_for 30 done_exists acme x2
is "$(final acme x2 | jq -r .exit_code)" 77 "globex's sealed profile dropped into acme's pool does not open there (77)"
denied=0
for f in /run/credentials/sealrun-pool@globex.service/pool.key "$(spool globex)/done/b1.out" /etc/sealrun/pools/globex/pool.json; do
        runuser -u sealrun-acme -- cat "$f" >/dev/null 2>&1 || denied=$((denied + 1))
done
is "$denied" 3 "acme's pool user cannot read globex's key credential, spool or config"

# ---- stopping a pool kills its running tasks; scrub events arrive
SS=${S}9
submit acme s1 "$(req s1 acme "$SS")"
wait_for 60 running "$SS"
ok $? "a long task runs in acme's pool"
systemctl stop sealrun-pool@acme.service
is "$(systemctl is-active sealrun-pool@acme.service)" inactive "systemctl stop sealrun-pool@acme returns with the unit stopped"
ok "$(running "$SS"; [ $? -ne 0 ]; echo $?)" "... and the task's processes are gone"
ok "$([ ! -d "$UNITCG/sealrun-pool@acme.service" ]; echo $?)" "... and so is the unit's cgroup subtree"
is "$(final acme s1 | jq -c '[.exit_code, .credentials.scrubbed]')" "[143,true]" "the stopped task's final status: SIGTERM (143), credentials scrubbed"
is "$(events acme scrub s1) $(events acme exit s1)" "1 1" "the scrub and exit events of the stopped task reached the collector"
is "$(systemctl is-active sealrun-pool@globex.service)" active "globex's pool is untouched"

# ---- acme's key rotated (systemd-creds encrypted) and a work dir, while its pool is stopped
printf '{"extends":"/usr/local/share/sealrun/policy/default.json","allow_extra_binds":true}\n' > /etc/sealrun/pool-policy.json
chmod 0644 /etc/sealrun/pool-policy.json
out=$(sealrun-pool-init --policy /etc/sealrun/pool-policy.json --work-root /srv/sealrun/acme acme 2>&1); rc=$?
is "$rc|$(jq -r .work_root /etc/sealrun/pools/acme/pool.json)|$(stat -c '%a %U:%G' /srv/sealrun/acme 2>&1)" \
        "0|/srv/sealrun/acme|770 root:sealrun-acme" "sealrun-pool-init --policy --work-root on the existing acme pool"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
old=$(cut -d' ' -f3 /etc/sealrun/pools/acme/pool.pub)
out=$(sealrun-pool-init --rotate-key --with-key host acme 2>&1); rc=$?
new=$(cut -d' ' -f3 /etc/sealrun/pools/acme/pool.pub)
dec=$(systemd-creds decrypt --name=pool.key /etc/credstore.encrypted/sealrun-pool-acme.key - 2>/dev/null | awk '{ print $2, $3 }')
is "$rc|$dec|$([ "$new" != "$old" ] && echo changed)" "0|pool-secret $new|changed" \
        "--rotate-key: the encrypted credential now decrypts to the new key ($old -> $new)"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
ok "$([ -f "/etc/credstore.encrypted/sealrun-pool-acme.key.old-$old" ]; echo $?)" "... the old credential is kept aside, unused"
rm -f /etc/sealrun/pools/acme/profiles/globex.sealed
CAN2=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '{"tenant":"acme","credentials":[{"name":"gh_token","value":"acme2-%s","as":"file"}]}' "$CAN2" |
        sealctl seal --tenant acme --profile default --version 2 --not-after +1h --to /etc/sealrun/pools/acme/pool.pub \
                --sign /root/keys/ops.key --in - --out /etc/sealrun/pools/acme/profiles/default.sealed >/dev/null 2>&1
chgrp sealrun-acme /etc/sealrun/pools/acme/profiles/default.sealed
chmod 0640 /etc/sealrun/pools/acme/profiles/default.sealed
eval "$(printf '%s\n' "$out" | grep '^sealctl revoke ')" >/dev/null 2>&1
mkdir -p /srv/sealrun/acme/proj && echo input > /srv/sealrun/acme/proj/a.txt
systemctl start sealrun-pool@acme.service
is "$(systemctl is-active sealrun-pool@acme.service)" active "acme's pool restarts with the new key"
submit acme r1 '{"task":"r1","tenant":"acme","profile":"default.sealed","workdir":"proj","command":["/bin/sh","-c","sha256sum < $CREDENTIALS_DIRECTORY/gh_token; cat a.txt; echo result > out.txt"]}'
wait_for 60 done_exists acme r1
want=$(printf 'acme2-%s' "$CAN2" | sha256sum | cut -d' ' -f1)
is "$(final acme r1 | jq -r .exit_code)|$(cut -d' ' -f1 "$(spool acme)/done/r1.out" | tr '\n' ' ')" "0|$want input " \
        "a task with the re-sealed profile and a work dir: its new credential, its work dir's files"
[ "$(final acme r1 | jq -r .exit_code)" = 0 ] || { tail -n 3 "$(spool acme)/done/r1.err"; final acme r1; } | sed 's/^/# /'
is "$(cat "$(spool acme)/done/r1.work/out.txt" 2>&1)|$(ls /srv/sealrun/acme/proj)" "result|a.txt" \
        "its output is in done/r1.work, the source untouched"

# ---- the audit trail is intact
out=$(sealctl audit-verify "$AUDIT" 2>&1)
ok $? "sealctl audit-verify: every tenant's hash chain is intact"
printf '%s\n' "$out" | sed 's/^/# /' | head -n 5

# ---- the leak smoke test, on a host where the units are installed (vector 11: unit environments)
if command -v sealrun-leaktest >/dev/null 2>&1; then
        sealrun-leaktest --json > /root/leaktest.json 2>/root/leaktest.err
        rc=$?
        ok $rc "sealrun-leaktest passes under systemd (exit $rc)"
        [ $rc -eq 0 ] || { jq -c '.rows[] | select(.result != "PASS") | {vector, check, result, detail, places: .places[:3]}' \
                /root/leaktest.json 2>/dev/null; tail -n 5 /root/leaktest.err; } | cut -c1-600 | sed 's/^/# /'
        is "$(jq -r '[.rows[] | select(.vector == 11) | .result] | unique | join(",")' /root/leaktest.json 2>/dev/null)" PASS \
                "leaktest vector 11 (unit environments): every row PASS, none N/A"
else
        skip "sealrun-leaktest is not built (leaktest not merged yet)"
        skip "sealrun-leaktest is not built (leaktest not merged yet): vector 11"
fi
echo "# vm-test done in $(( $(date +%s) - t0 )) s"
systemctl poweroff --no-block
