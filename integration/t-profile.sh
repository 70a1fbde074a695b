#!/bin/sh
# Sealed profiles end to end: the payload gets its credentials (file, and env
# when asked and allowed), nothing of them reaches the worker, the supervisor
# or a host file, and after release the mount and every copy are gone.
. "$(dirname "$0")/lib.sh"
plan 40

MEMSCAN="$IBIN/memscan"
# Canaries are made by subprocesses straight into files: this shell (the
# "worker" of these tests) never holds one, so scanning it means something.
mkcanary() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed "s/^/$1-/" > "$T/$1.canary"; }
sha() { sha256sum "$1" | cut -c1-64; }
for c in acme_file acme_env beta_file; do mkcanary "$c"; done

"$SEALCTL" keygen --issuer --out "$T/issuer" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/acme" >/dev/null 2>&1
"$SEALCTL" keygen --pool --out "$T/beta" >/dev/null 2>&1
{
        printf '{"tenant":"acme","credentials":[{"name":"tok","value":"'; cat "$T/acme_file.canary"
        printf '"},{"name":"API_KEY","as":"env","scope":"read:model:*","value":"'; cat "$T/acme_env.canary"
        printf '"},{"name":"BOTH","as":"both","value":"'; cat "$T/acme_env.canary"
        printf '"}]}'
} > "$T/acme.json"
{ printf '{"tenant":"beta","credentials":[{"name":"tok","value":"'; cat "$T/beta_file.canary"; printf '"}]}'; } > "$T/beta.json"
"$SEALCTL" seal --tenant acme --profile agent --version 1 --not-after +1h --to "$T/acme.pub" --sign "$T/issuer.key" \
        --in "$T/acme.json" --out "$T/acme.sealed" 2>/dev/null
"$SEALCTL" seal --tenant beta --profile agent --version 1 --not-after +1h --to "$T/beta.pub" --sign "$T/issuer.key" \
        --in - --out "$T/beta.sealed" < "$T/beta.json" 2>/dev/null
rm -f "$T/acme.json" "$T/beta.json"   # the plaintext exists nowhere on disk from here on
ok "$([ -s "$T/acme.sealed" ] && [ -s "$T/beta.sealed" ]; echo $?)" "sealctl sealed two tenants' profiles"

# A policy that allows env delivery and sets a scope ceiling, and one that does neither.
jq --arg iss "$T/issuer.pub" '.credentials = {"allow_env": true, "scope_ceiling": ["read:model:*"], "trusted_issuers": [$iss]}' \
        "$TEST_POLICY" > "$T/env.json"
# The same by difference ("extends"), without env delivery.
printf '{"extends": "%s", "credentials": {"allow_env": false}}\n' "$T/env.json" > "$T/noenv.json"
mounts_snapshot > "$T/mounts.before"

# --- delivery ---------------------------------------------------------------
POLICY="$T/env.json" srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.pub" -- true
is "$RC" 125 "a public key given as --key is refused (bad usage)"

POLICY="$T/env.json" srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" --scope 'read:model:*' -- /bin/sh -c '
        echo "dir=$CREDENTIALS_DIRECTORY"
        echo "file=$(sha256sum "$CREDENTIALS_DIRECTORY/tok" | cut -c1-64)"
        echo "env=$(printf %s "$API_KEY" | sha256sum | cut -c1-64)"
        echo "both_env=$(printf %s "$BOTH" | sha256sum | cut -c1-64)"
        echo "both_file=$(sha256sum "$CREDENTIALS_DIRECTORY/BOTH" | cut -c1-64)"
        echo "api_file=$(test -e "$CREDENTIALS_DIRECTORY/API_KEY" && echo yes || echo no)"
        echo "modes=$(stat -c "%a:%u" "$CREDENTIALS_DIRECTORY" "$CREDENTIALS_DIRECTORY/tok" | tr "\n" " ")"
        echo "mount=$(grep " $CREDENTIALS_DIRECTORY " /proc/self/mounts)"'
is "$RC" 0 "payload with a profile exits 0"
is "$(echo "$OUT" | sed -n 's/^dir=//p')" /run/credentials "CREDENTIALS_DIRECTORY is /run/credentials"
is "$(echo "$OUT" | sed -n 's/^file=//p')" "$(sha "$T/acme_file.canary")" "payload reads its credential file"
is "$(echo "$OUT" | sed -n 's/^env=//p')" "$(sha "$T/acme_env.canary")" "payload reads its env credential (as=env, allowed, in scope)"
is "$(echo "$OUT" | sed -n 's/^both_env=//p')/$(echo "$OUT" | sed -n 's/^both_file=//p')" \
        "$(sha "$T/acme_env.canary")/$(sha "$T/acme_env.canary")" "as=both is delivered as env and as file"
is "$(echo "$OUT" | sed -n 's/^api_file=//p')" no "an as=env credential is not written as a file"
is "$(echo "$OUT" | sed -n 's/^modes=//p')" "500:1000 400:1000 " "directory 0500, files 0400, owned by the sandbox uid"
like "$(echo "$OUT" | sed -n 's/^mount=//p')" "(tmpfs|ramfs) ro,nosuid,nodev,noexec" "private ram-backed mount, ro,nosuid,nodev,noexec"
is "$(jget "$STATUS" '.credentials | [.profile, (.profile_version|tostring), (.injected|sort|join(",")), (.skipped|join(",")), (.scrubbed|tostring)] | join(" ")')" \
        "agent 1 API_KEY,BOTH,tok  true" "status JSON names injected credentials (no values) and scrubbed: true"
nolk() { ! grep -qsF -f "$T/acme_file.canary" "$@" && ! grep -qsF -f "$T/acme_env.canary" "$@"; }
ok "$(nolk "$T/status" "$T/err"; echo $?)" "no credential value in the status JSON or stderr"

# Without --scope the scoped credential is skipped; without allow_env no env at all.
POLICY="$T/env.json" srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" -- /bin/sh -c 'echo "k=${API_KEY:-unset}"'
is "$OUT/$(jget "$STATUS" '.credentials.skipped | join(",")')" "k=unset/API_KEY" "a credential whose scope the task does not cover is skipped, by name"
is "$(jget "$STATUS" '.credentials.skipped_reasons | map(.name + ":" + .reason) | join(",")')" "API_KEY:scope-not-granted" \
        "status JSON: skipped_reasons gives the reason (scope not granted)"
is "$ERR" "sealrun: note: credential API_KEY not delivered: its scope is not granted to the task (--scope)" \
        "one stderr note names the skipped credential and why"
srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" --trust "$T/issuer.pub" -- /bin/sh -c \
        'echo "k=${API_KEY:-unset} b=${BOTH:-unset} f=$(ls "$CREDENTIALS_DIRECTORY" | tr "\n" ,)"'
is "$OUT" "k=unset b=unset f=BOTH,tok," "without allow_env in the policy nothing goes to env (files still do)"
POLICY="$T/noenv.json" srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" --scope 'read:model:*' -- /bin/sh -c \
        'echo "k=${API_KEY:-unset}"'
is "$OUT" "k=unset" "a policy extending another with allow_env false delivers no env credential"
is "$(jget "$STATUS" '.credentials.skipped_reasons | map(.name + ":" + .reason) | join(",")')" "API_KEY:env-not-allowed" \
        "status JSON: an env-only credential under a policy without allow_env is skipped with env-not-allowed"
is "$ERR" "sealrun: note: credential API_KEY not delivered: env delivery not allowed by policy (credentials.allow_env)" \
        "the stderr note points to credentials.allow_env"
ok "$(nolk "$T/status" "$T/err"; echo $?)" "no credential value in the note or the status JSON"

# The payload cannot change its credentials.
POLICY="$T/env.json" srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" -- /bin/sh -c '
        d=$CREDENTIALS_DIRECTORY
        (echo x > "$d/tok") 2>/dev/null && echo wrote; (: > "$d/new") 2>/dev/null && echo created
        rm -f "$d/tok" 2>/dev/null; test -e "$d/tok" || echo removed
        chmod 0644 "$d/tok" 2>/dev/null && echo chmodded
        mount -o remount,rw "$d" 2>/dev/null && echo remounted
        umount "$d" 2>/dev/null && echo unmounted
        echo done'
is "$OUT" "done" "payload cannot write, create, remove, chmod, remount or unmount its credentials"

# Sandbox init still holds the key's fd and the envelope: the payload cannot reach them.
srun --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" --trust "$T/issuer.pub" -- /bin/sh -c '
        ls /proc/1/fd 2>/dev/null | wc -l
        for f in /proc/1/fd/* /proc/1/mem /proc/1/environ; do cat "$f" 2>/dev/null; done
        echo end'
is "$(echo "$OUT" | tr '\n' ' ')" "0 end " "payload cannot read sandbox init's fds (the pool key), memory or environ"

# --key-fd works too, and the fd does not reach the payload (no env
# delivery here: the probe prints its environment into this shell).
srun --tenant acme --profile "$T/acme.sealed" --key-fd 7 --trust "$T/issuer.pub" -- /t/probe info 7<"$T/acme.key"
is "$RC/$(jget "$OUT" '.fds | length')" "0/0" "--key-fd: runs, and no fd reaches the payload"

# --- nothing reaches the worker, the supervisor or the disk ----------------
"$SR" --policy "$T/env.json" --tenant acme --profile "$T/acme.sealed" --key "$T/acme.key" \
        --scope 'read:model:*' --ro-bind "$IBIN" /t -- /bin/sh -c \
        'cat "$CREDENTIALS_DIRECTORY/tok" > /dev/null; echo ready; exec sleep 3' > "$T/scan.out" 2>&1 &
SUP=$!
i=0
while ! grep -q ready "$T/scan.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ok "$(grep -q ready "$T/scan.out"; echo $?)" "long-running payload holds its credentials"
"$MEMSCAN" "$T/acme_file.canary" $$ "$SUP" > "$T/scan1" 2>&1; r1=$?
"$MEMSCAN" "$T/acme_env.canary" $$ "$SUP" > "$T/scan2" 2>&1; r2=$?
sed 's/^/# /' "$T/scan1" "$T/scan2"
is "$r1/$r2" "0/0" "host-side scan: no canary in the worker's or the supervisor's memory, environ or cmdline"
# files outside the sandbox, while it runs
leaks=$(grep -rlF -f "$T/acme_file.canary" "$T" /dev/shm 2>/dev/null | grep -v '\.canary$' | head -n 3)
is "$leaks" "" "no host file holds the credential while the task runs"
wait "$SUP"
is "$?" 0 "the task ends normally"

# --- after release ----------------------------------------------------------
is "$(new_mounts "$T/mounts.before")" "" "no mount left in the caller's namespace"
# only this test's sandboxes (sandbox init shares sealrun's command line,
# which names files under $T): other runs on the host may be mid-task
for f in $(grep -l ' /run/credentials ' /proc/[0-9]*/mountinfo 2>/dev/null); do
        d=${f%/mountinfo}
        tr '\0' ' ' < "$d/cmdline" 2>/dev/null | grep -q -- "$T" && echo "$f"
done > "$T/stale"
stale=$(head -n 3 "$T/stale")
is "$stale" "" "no process anywhere still has a credentials mount"
# every file written since the test began (a leak is written during the run)
find "$T" /dev/shm /tmp /var/tmp -xdev -type f -newer "$T/acme.json" -size -64M 2>/dev/null |
        grep -v '\.canary$' | while read -r f; do grep -lF -f "$T/acme_file.canary" "$f" 2>/dev/null; done > "$T/leaks"
leaks=$(head -n 3 "$T/leaks")
is "$leaks" "" "after release the canary is in no file"
ok "$(pgrep -f "^$SR .*acme.sealed" >/dev/null; [ $? -ne 0 ]; echo $?)" "no sealrun process is left"

# --- two tenants at once ------------------------------------------------------
# Each payload lists its credentials, then looks for the other tenant's
# canary everywhere it can read while both run.
cp "$T/beta_file.canary" "$T/x_beta" && cp "$T/acme_file.canary" "$T/x_acme"
chmod 0755 "$T" 2>/dev/null; chmod 0644 "$T/x_beta" "$T/x_acme"
look='ls "$CREDENTIALS_DIRECTORY" | tr "\n" ,; echo; sleep 1
      if grep -rqsF -f /x/needle /run /tmp /home /proc/[0-9]*/environ 2>/dev/null; then echo SAW-OTHER; else echo clean; fi'
srun_bg() { "$SR" --policy "$TEST_POLICY" --ro-bind "$IBIN" /t --ro-bind "$T/x_$3" /x/needle --tenant "$1" --profile "$T/$1.sealed" \
        --key "$T/$1.key" --trust "$T/issuer.pub" -- /bin/sh -c "$look" > "$T/$1.two" 2>"$T/$1.twoerr"; }
srun_bg acme acme beta &
A=$!
srun_bg beta beta acme &
B=$!
wait $A; ra=$?; wait $B; rb=$?
is "$ra/$rb" "0/0" "two tenants' tasks run at the same time"
is "$(head -n 1 "$T/acme.two")|$(head -n 1 "$T/beta.two")" "BOTH,tok,|tok," "each sees only its own credential names"
is "$(tail -n 1 "$T/acme.two")|$(tail -n 1 "$T/beta.two")" "clean|clean" "neither finds the other tenant's credential"
POLICY="$T/env.json" srun --tenant acme --profile "$T/beta.sealed" --key "$T/acme.key" -- true
is "$RC" 77 "one tenant's task cannot open the other's profile"
POLICY="$T/env.json" srun --tenant beta --profile "$T/beta.sealed" --key "$T/acme.key" -- true
like "$RC $(cat "$T/err")" "^77 sealrun: .*sealed to pool key [0-9a-f]{16}, but --key .* is key [0-9a-f]{16}" "another pool's key is refused before the clone"

# --- the committed sample still opens (format stability) ----------------------
cp "$SEALRUN_SRC/tests/data/sample-pool.key" "$T/sample.key" && chmod 0600 "$T/sample.key"
cp "$SEALRUN_SRC/tests/data/sample-issuer.pub" "$T/sample-issuer.pub" && chmod 0644 "$T/sample-issuer.pub"
jq --arg iss "$T/sample-issuer.pub" '.credentials = {"allow_env": true, "scope_ceiling": ["read:sample:*"], "trusted_issuers": [$iss]}' \
        "$TEST_POLICY" > "$T/sample.json"
POLICY="$T/sample.json" srun --tenant sample --profile "$SEALRUN_SRC/tests/data/sample.sealed" --key "$T/sample.key" \
        --scope 'read:sample:*' -- /bin/sh -c 'cat "$CREDENTIALS_DIRECTORY/sample_token"; echo " $SAMPLE_ENV"; od -An -tx1 "$CREDENTIALS_DIRECTORY/sample.bin"'
is "$(echo "$OUT" | tr -s ' ' | head -n 2 | tr '\n' '|')" "sealrun-sample-value-1 sealrun-sample-env| 00 01 02 ff|" "tests/data/sample.sealed still opens, end to end"

# --- the demo's flow through sealctl inspect never needs a key ---------------
like "$("$SEALCTL" inspect "$T/acme.sealed")" "tenant: +acme" "sealctl inspect shows the header"
"$SEALCTL" inspect --json "$T/acme.sealed" > "$T/inspect.json"
ok "$(nolk "$T/acme.sealed" "$T/inspect.json"; echo $?)" "the sealed file and its header hold no plaintext"
is "$(grep -c creds /proc/self/mountinfo)" 0 "no stray mount in the test's namespace"
