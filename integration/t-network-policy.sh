#!/bin/sh
# Bad "network" policy input: exit 125 and one stderr line naming the JSON
# path, before anything is created (also for veth requests by unprivileged
# callers: the policy is checked first).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"
plan 30

# bad NAME JQ-FILTER PATH-REGEX DESCRIPTION
bad() {
        P=$(net_policy "$1" "$2")
        POLICY=$P srun -- /bin/true
        is "$RC" 125 "$4: exit 125"
        if [ "$(wc -l < "$T/err")" -eq 1 ] && grep -Eq -- "$3" "$T/err"; then ok 0 "$4: one line naming $3"
        else ok 1 "$4: one line naming $3"; sed 's/^/#   stderr: /' "$T/err"; fi
}

bad cidr '.network = {"mode": "veth", "veth": {"pools": ["10.213.0.0/33"]}}' \
        'cidr\.json: \$\.network\.veth\.pools\[0\]: "10\.213\.0\.0/33" is not an IPv4 CIDR' "bad CIDR (prefix 33)"
bad cidr2 '.network = {"mode": "veth", "veth": {"pools": ["10.213.0/24"]}}' \
        '\$\.network\.veth\.pools\[0\]' "bad CIDR (three octets)"
bad hostbits '.network = {"mode": "veth", "veth": {"pools": ["10.213.0.1/24"]}}' \
        '\$\.network\.veth\.pools\[0\]: .*did you mean 10\.213\.0\.0/24' "CIDR with host bits"
bad small '.network = {"mode": "veth", "veth": {"pools": ["10.213.0.0/31"]}}' \
        '\$\.network\.veth\.pools\[0\]: prefix /31 out of range' "pool smaller than a /30"
bad loop '.network = {"mode": "veth", "veth": {"pools": ["127.1.0.0/16"]}}' \
        '\$\.network\.veth\.pools\[0\]: overlaps 127\.0\.0\.0/8' "pool in loopback"
bad overlap '.network = {"mode": "veth", "veth": {"pools": ["10.213.0.0/24", "10.213.0.128/25"]}}' \
        '\$\.network\.veth\.pools\[1\]: overlaps \$\.network\.veth\.pools\[0\] \(10\.213\.0\.0/24\)' "overlapping pools"
bad mode '.network = {"mode": "bridge"}' \
        '\$\.network\.mode: unknown mode "bridge"' "unknown mode"
bad nopools '.network = {"mode": "veth"}' '\$\.network\.veth: missing' "veth without pools"
bad key '.network = {"mode": "none", "pool": "10.213.0.0/24"}' '\$\.network\.pool: unknown key' "unknown key"
bad ns '.network = {"dns": {"nameservers": ["10.213.0.300"]}}' \
        '\$\.network\.dns\.nameservers\[0\]' "bad nameserver"
bad hosts '.network = {"hosts": [{"address": "10.213.0.9", "names": ["ok", "not ok"]}]}' \
        '\$\.network\.hosts\[0\]\.names\[1\]' "bad hosts name"
bad hostmode '.network = {"mode": "host"}' '\$\.network\.mode: "host" requires' "host mode without namespaces.net false"
bad nsnet '.namespaces = {"net": false}' '\$\.namespaces\.net' "namespaces.net false without host mode"
bad resolv '.mounts += [{"type": "ro-bind", "src": "/etc/resolv.conf", "dst": "/etc/resolv.conf"}]' \
        '\$\.mounts\[[0-9]+\]\.dst: /etc/resolv\.conf is generated from \$\.network' "a mount over the generated resolv.conf"

# --bind over a generated file is refused too (the worker cannot swap it).
POLICY=$(net_policy plain '.') srun --ro-bind /etc/hosts /etc/hosts -- /bin/true
is "$RC" 125 "--ro-bind over /etc/hosts: exit 125"
like "$ERR" "/etc/hosts: generated from the policy" "--ro-bind over /etc/hosts: says why"
