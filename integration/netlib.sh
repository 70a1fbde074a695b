# Helpers shared by the network tests (sourced after lib.sh; not a test itself).
NETTOOL="$IBIN/nettool"
NT=/t/nettool

# net_policy NAME JQ-FILTER → path of the test policy changed by the filter
net_policy() {
        jq "$2" "$TEST_POLICY" > "$T/$1.json" || { echo "Bail out! jq failed on $2"; exit 1; }
        echo "$T/$1.json"
}

# wait_file PATH [TENTHS] → 0 once PATH exists
wait_file() {
        n=0
        while [ ! -e "$1" ]; do
                n=$((n + 1)); [ "$n" -gt "${2:-100}" ] && return 1
                sleep 0.1
        done
}

# A port unlikely to be in use, different per run.
free_port() { echo $((20000 + ($$ * 7 + ${1:-0}) % 30000)); }

# Our background helpers, ended by pid at exit.
_bg_pids=""
bg_track() { _bg_pids="$_bg_pids $1"; }
bg_kill() { for p in $_bg_pids; do kill "$p" 2>/dev/null; done; return 0; }
on_exit bg_kill
