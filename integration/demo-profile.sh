#!/bin/sh
# make demo, sealed-profile part: make keys, seal a demo profile, run a payload
# that reads its injected credential, and show that it was scrubbed.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$SRC/build}
D=$(mktemp -d /tmp/sealrun-demo-profile.XXXXXX)
trap 'rm -rf "$D"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "sealctl keygen: an issuer key (operator) and a pool key (tenant demo's worker pool)"
"$B/sealctl" keygen --issuer --out "$D/issuer" >/dev/null
"$B/sealctl" keygen --pool --out "$D/pool" >/dev/null
ls -l "$D" | sed 1d

say "sealctl seal: the plaintext goes in, a signed envelope for pool $(cut -d' ' -f3 "$D/pool.pub") comes out"
printf '{"tenant":"demo","credentials":[{"name":"github_token","value":"ghp_demo_not_a_real_token"},
 {"name":"DEMO_API_KEY","value":"demo-api-key","as":"env","scope":"read:model:*"}]}' |
        "$B/sealctl" seal --tenant demo --profile agent --version 1 --not-after +1h \
                --to "$D/pool.pub" --sign "$D/issuer.key" --in - --out "$D/demo.sealed"
"$B/sealctl" inspect "$D/demo.sealed"

say "sealrun: the worker passes the profile and the key; only the payload sees the values"
jq --arg iss "$D/issuer.pub" '.credentials = {"trusted_issuers": [$iss], "allow_env": true, "scope_ceiling": ["read:model:*"]}' \
        "$SRC/policy/stock/default.json" > "$D/policy.json"
"$B/sealrun" --policy "$D/policy.json" --tenant demo --task demo-2 --profile "$D/demo.sealed" --key-fd 4 \
        --audit-socket "${DEMO_AUDIT_SOCKET:-/run/sealrun/audit.sock}" \
        --scope 'read:model:*' --status-fd 3 -- /bin/sh -c '
echo "CREDENTIALS_DIRECTORY=$CREDENTIALS_DIRECTORY"
ls -l "$CREDENTIALS_DIRECTORY"
echo "github_token: $(cat "$CREDENTIALS_DIRECTORY/github_token")"
echo "DEMO_API_KEY: $DEMO_API_KEY"
grep " $CREDENTIALS_DIRECTORY " /proc/self/mounts' 3>"$D/status.json" 4<"$D/pool.key"
say "status JSON: names only, and scrubbed"
tail -n 1 "$D/status.json" | jq -c '{exit_code, credentials}'
