#!/bin/sh
# Docker's and Podman's seccomp dialects, as those engines' users write them:
# archMap, includes/excludes (capabilities from the policy, minKernel from the
# running kernel), defaultErrno/errno names, names libseccomp does not know
# (skipped in allow rules and listed once in the status; refused in deny
# rules, all of them in one message). The profiles are written here.
. "$(dirname "$0")/lib.sh"
plan 12

# The stock allow list without uname, in Docker's spelling, plus rules that
# exercise each feature. future_call_* are names no libseccomp knows.
jq '{defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
     archMap: [{architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
               {architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"]}],
     syscalls: ([.syscalls[] | select(.action == "SCMP_ACT_ALLOW") | .names |= map(select(. != "uname" and . != "getcwd"))
                 | . + {includes: {}, excludes: {}}]
       + [{names: ["future_call_a", "getpid", "future_call_b"], action: "SCMP_ACT_ALLOW", args: null, comment: ""},
          {name: "future_call_a", action: "SCMP_ACT_ALLOW"},
          {names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: 13, excludes: {caps: ["CAP_SYS_ADMIN"]}},
          {names: ["getcwd"], action: "SCMP_ACT_ERRNO", errnoRet: 5, includes: {minKernel: "999.0"}},
          {names: ["getcwd"], action: "SCMP_ACT_ALLOW", excludes: {minKernel: "999.0"}}])}' \
        "$STOCK/seccomp-default.json" > "$T/docker.json"

POLICY=$(jq --arg p "$T/docker.json" '.seccomp = {profile: $p}' "$TEST_POLICY" > "$T/d.json" && echo "$T/d.json")
srun -- /bin/sh -c 'uname; /bin/pwd'
like "$ERR" "uname: .*Permission denied" "docker dialect: a rule excluded by a capability the policy does not keep applies (errnoRet 13)"
is "$OUT" "/home/sandbox" "minKernel: a rule for a kernel newer than this one is left out, its excludes twin applies"
is "$(jget "$STATUS" '.seccomp_skipped | join(",")')" "future_call_a,future_call_b" \
        "names libseccomp does not know, in allow rules: skipped, each listed once in the status"
is "$RC" 0 "... and the task runs"

POLICY=$(jq '.capabilities = ["CAP_SYS_ADMIN"]' "$T/d.json" > "$T/d-admin.json" && echo "$T/d-admin.json")
srun -- /bin/uname
like "$ERR" "Operation not permitted" "with CAP_SYS_ADMIN kept the excluded rule is out: uname gets the default (defaultErrnoRet 1)"

# Podman's spelling: errno names beside (or instead of) the numbers.
jq '{defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, defaultErrno: "ENOSYS",
     syscalls: ([.syscalls[] | select(.action == "SCMP_ACT_ALLOW") | .names |= map(select(. != "uname" and . != "mkdir" and . != "mkdirat"))
                 | . + {args: (.args // []), comment: "", includes: {}, excludes: {}}]
       + [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errno: "EROFS", args: [], comment: "", includes: {}, excludes: {}}])}' \
        "$STOCK/seccomp-default.json" > "$T/podman.json"
POLICY=$(jq --arg p "$T/podman.json" '.seccomp = {profile: $p}' "$TEST_POLICY" > "$T/p.json" && echo "$T/p.json")
srun -- /bin/sh -c 'mkdir /tmp/x; uname'
like "$ERR" "Read-only file system" "podman dialect: errno \"EROFS\" reaches the payload"
like "$ERR" "uname: .*Function not implemented" "defaultErrno \"ENOSYS\" for what the profile does not name"
is "$RC" 1 "... the task's own exit code"

# Unknown names in rules that deny: refused, every one in one line.
jq '.syscalls += [{names: ["future_call_x"], action: "SCMP_ACT_ERRNO"}, {names: ["getpid", "future_call_y"], action: "SCMP_ACT_KILL_PROCESS"}]' \
        "$T/docker.json" > "$T/deny.json"
POLICY=$(jq --arg p "$T/deny.json" '.seccomp = {profile: $p}' "$TEST_POLICY" > "$T/x.json" && echo "$T/x.json")
srun -- /bin/true
is "$RC" 125 "unknown names in deny rules: refused (125)"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "... in one line"
like "$ERR" "deny.json: .*2 syscall names libseccomp .* does not know, in rules that deny .*: future_call_x, future_call_y$" \
        "... naming the file and every such name at once"

# Docker refuses "architectures" beside "archMap"; so does sealrun.
jq '.architectures = ["SCMP_ARCH_X86"]' "$T/docker.json" > "$T/both.json"
POLICY=$(jq --arg p "$T/both.json" '.seccomp = {profile: $p}' "$TEST_POLICY" > "$T/b.json" && echo "$T/b.json")
srun -- /bin/true
like "$ERR" 'both.json: \$\.archMap: give either "architectures" or "archMap", not both' "architectures and archMap together: refused"
