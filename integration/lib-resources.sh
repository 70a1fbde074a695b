# Helpers shared by the t-resources*.sh tests (sourced after lib.sh).
HOG=/t/hog

# lim_policy NAME JSON-OBJECT: the test policy with these keys merged into "limits".
lim_policy() {
        jq --argjson l "$2" '.limits += $l' "$TEST_POLICY" > "$T/$1.json"
        echo "$T/$1.json"
}

# Mount point of the cgroup hierarchy with fstype $1 (and, for v1, controller $2).
cg_mount() {
        awk -v t="$1" -v c="${2:-}" '{
                for (i = 1; i <= NF; i++) if ($i == "-") break
                if ($(i + 1) != t) next
                if (c != "" && ("," $(i + 3) ",") !~ ("," c ",")) next
                print $5; exit }' /proc/self/mountinfo
}

# Our own cgroup directories (v1 hierarchies and the v2 one), one per line;
# the parent too when we sit in sealrun's leaf.
own_cgroups() {
        while IFS=: read -r _ ctrls path; do
                case "$ctrls" in
                "") m=$(cg_mount cgroup2) ;;
                name=*) continue ;;
                *) m=$(cg_mount cgroup "${ctrls%%,*}") ;;
                esac
                [ -n "$m" ] || continue
                d=$m${path%/}
                [ -d "$d" ] || continue
                echo "$d"
                case "$d" in */sealrun-leaf) dirname "$d" ;; esac
        done < /proc/self/cgroup
}

# Task cgroups left behind whose name starts with task-PREFIX.
left_cgroups() {
        for d in $(own_cgroups); do
                ls -d "$d"/task-"$1"* 2>/dev/null
        done | wc -l
}

# "v1", "v2" or "none": what sealrun finds for this user here.
cgroup_mode() {
        P=$(lim_policy probe-cg '{"memory":"64M","optional":["memory"]}')
        POLICY=$P srun -- /bin/true
        if [ "$(jget "$STATUS" '.not_enforced | index("limits.memory")')" = "null" ]; then
                jget "$STATUS" .cgroup
        else
                echo none
        fi
}

# Flock-ed slot files of a tenant (from /proc/locks, by inode).
held_slots() { # DIR
        n=0
        for f in "$1"/slot-*; do
                [ -e "$f" ] || continue
                ino=$(stat -c %i "$f")
                grep -q "FLOCK .*:$ino " /proc/locks && n=$((n + 1))
        done
        echo $n
}

# Where this user's slot files live (slots.c: slot_base_dir).
slot_dir() { # TENANT
        if [ "$(id -u)" -eq 0 ]; then echo "/run/sealrun/slots/$1"
        elif [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -O "$XDG_RUNTIME_DIR" ]; then echo "$XDG_RUNTIME_DIR/sealrun/slots/$1"
        elif [ -O "/run/user/$(id -u)" ]; then echo "/run/user/$(id -u)/sealrun/slots/$1"
        else echo "/tmp/sealrun-$(id -u)/slots/$1"; fi
}
