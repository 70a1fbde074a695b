#!/bin/sh
# The stock agent policy runs unmodified python3, node, git and curl.
. "$(dirname "$0")/lib.sh"
plan 4
AGENT="$STOCK/agent.json"
run() { "$SR" --policy "$AGENT" -- "$@" 2>&1; }
if [ "$(landlock_abi)" -eq 0 ]; then
        # its Landlock filesystem rules are required: a kernel without Landlock refuses the policy
        for what in python3 git curl node; do
                like "$(run true; echo "rc=$?")" 'the kernel has no Landlock.*rc=77' "no Landlock in this kernel: the agent policy is refused (77), not run without ($what)"
        done
        exit 0
fi
like "$(run python3 -c 'import ssl, json, sqlite3; print("py", ssl.OPENSSL_VERSION)')" "^py OpenSSL" "python3 runs with ssl, json, sqlite3"
like "$(run /bin/sh -c 'cd /tmp && git init -q r && cd r && git -c user.email=a@b -c user.name=n commit -q --allow-empty -m m && git log --format=%s')" "^m$" "git init and commit in /tmp"
like "$(run curl --version)" "^curl [0-9]" "curl runs"
like "$(run node -e 'console.log("node", 1 + 1)')" "^node 2$" "node runs"
