# Helpers for the audit integration tests (sourced after lib.sh).
SEND="$IBIN/audit-send"
ASOCK="$T/audit.sock"
ADIR="$T/audit"
AUID=$(id -u)
# root spools undelivered events; keep the tests' spool private
export SEALRUN_AUDIT_SPOOL="$T/spool"

# allow_map FILE: the current uid may write acme, globex and _global (root always may).
allow_map() {
        printf '{"version":1,"allow":[{"uid":%s,"tenants":["acme","globex","_global"]}]}\n' "$AUID" > "$1"
        chmod 0600 "$1"
}

# start_collector [EXTRA ARGS...]: a collector on $ASOCK writing $ADIR; sets APID.
start_collector() {
        [ -f "$T/allow.json" ] || allow_map "$T/allow.json"
        _n=$(grep -c 'listening on' "$T/auditd.log" 2>/dev/null)
        "$AUDITD" --socket "$ASOCK" --dir "$ADIR" --allow "$T/allow.json" "$@" 2>>"$T/auditd.log" &
        APID=$!
        # wait for this collector's own "listening" line: a stale socket file proves nothing
        for _i in $(seq 1 100); do
                [ "$(grep -c 'listening on' "$T/auditd.log" 2>/dev/null)" -gt "${_n:-0}" ] && return 0
                sleep 0.05
        done
        diag "collector did not start: $(cat "$T/auditd.log")"
        return 1
}
stop_collector() {
        if [ -n "${APID:-}" ]; then kill -TERM "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; ACRC=$?; APID=; fi
        return 0
}
kill_collector() {
        if [ -n "${APID:-}" ]; then kill -KILL "$APID" 2>/dev/null; wait "$APID" 2>/dev/null; APID=; fi
        return 0
}
on_exit stop_collector

# ev EVENT TENANT TASK SEQ [EXTRA JSON MEMBERS]: one well-formed event.
ev() {
        _x=${5:-}
        case "$1" in
        launch) _x=",\"pid\":$$$_x" ;;
        exit) _x=",\"exit_code\":0$_x" ;;
        inject) _x=",\"credentials\":[{\"name\":\"gh_token\"}]$_x" ;;
        esac
        printf '{"schema":1,"seq":%s,"time":"%s","event":"%s","tenant":"%s","task":"%s"%s}' \
                "$4" "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$1" "$2" "$3" "$_x"
}

# events FILE: "event task" per line, in file order.
events() { jq -r '.event | "\(.event) \(.task // "-")"' "$1" 2>/dev/null; }
