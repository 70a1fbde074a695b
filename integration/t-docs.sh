#!/bin/sh
# The documentation's examples run as written: every marked block of README.md, docs/*.md and the man pages' EXAMPLES, in order, one test each; and every relative link of the Markdown files reaches its file and heading.
. "$(dirname "$0")/lib.sh"
MD="README.md $(cd "$SEALRUN_SRC" && ls docs/*.md)"
DOCS="$MD $(cd "$SEALRUN_SRC" && ls man/*.1 man/*.8)"

# The examples assume the binaries are on PATH (README "Two commands"): a PATH
# with the built binaries and the pool setup script, and POLICIES, the stock
# policy directory (/usr/local/share/sealrun/policy after make install).
BIN="$T/bin"
mkdir -p "$BIN"
for f in "$SEALRUN_BUILD"/sealrun "$SEALRUN_BUILD"/sealctl "$SEALRUN_BUILD"/sealrun-*; do
        [ -f "$f" ] && [ -x "$f" ] && ln -s "$f" "$BIN/"
done
ln -s "$SEALRUN_SRC/helpers/pool/sealrun-pool-init" "$BIN/sealrun-pool-init"
# Blocks flagged "clone" run in the source clone: integration/run.sh gives each
# tier a copy of it with its build (SEALRUN_CLONE), so what they write stays there.
CLONE=${SEALRUN_CLONE:-$SEALRUN_SRC}

n=0
mkdir -p "$T/blocks"
for d in $DOCS; do
        o="$T/blocks/$(echo "$d" | tr / _)"
        if ! sh "$SEALRUN_SRC/integration/doc-blocks.sh" "$SEALRUN_SRC/$d" "$o" > "$o.list" 2>"$o.err"; then
                echo "1..1"
                echo "not ok 1 - $d: doc-test markers are well formed"
                sed 's/^/# /' "$o.err"
                exit 1
        fi
        n=$((n + $(wc -l < "$o.list")))
done
plan $((n + 2))
ok 0 "every \`\`\`sh block of the docs has a doc-test marker ($n blocks in $(echo $DOCS | wc -w) files)"
# shellcheck disable=SC2086
(cd "$SEALRUN_SRC" && python3 integration/doc-links.py . $MD) > "$T/links.out" 2>&1
ok $? "every relative link of the Markdown docs reaches its file and heading"
sed 's/^/# /' "$T/links.out"

ran=""
for d in $DOCS; do
        o="$T/blocks/$(echo "$d" | tr / _)"
        # One working directory per document: its blocks run in order and may
        # use the files earlier blocks made, like a reader following along.
        W="$T/work/$(echo "$d" | tr / _)"
        mkdir -p "$W/tmp"
        chmod 0755 "$T" "$T/work" "$W"
        while read -r num name flags; do
                f="$o/$num-$name.sh"
                what="$d: $name"
                case ",$flags," in
                *,root,*) if ! is_root; then
                        skip "sealrun-pool-init creates system users and root-owned files: root only by design" "$what"
                        continue
                fi ;;
                esac
                dir=$W
                case ",$flags," in
                *,clone,*) dir=$CLONE ;;
                esac
                # as written: sh -e, the reader's PATH with the binaries first, no make
                # state from the make check that runs us; a hang is a failure, not a stall.
                # timeout leads its own process group (its pid: the shell it replaces), which
                # holds whatever the block started in the background.
                (cd "$dir" && exec env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS PATH="$BIN:$PATH" \
                        HOME="$W" TMPDIR="$W/tmp" POLICIES="$SEALRUN_SRC/policy/stock" \
                        sh -c 'echo $$ > "$1"; exec timeout -k 5 300 sh -e "$2"' sh "$f.pgid" "$f" </dev/null >"$f.out" 2>&1)
                rc=$?
                # anything the block left running (a collector started with &, on a failure) goes with it
                pg=$(cat "$f.pgid" 2>/dev/null) && [ -n "$pg" ] && kill -TERM -- "-$pg" 2>/dev/null
                ok $rc "$what (exit $rc)"
                if [ $rc -ne 0 ]; then
                        sed 's/^/#   /' "$f" | head -n 40
                        echo "# output:"
                        tail -n 25 "$f.out" | sed 's/^/#   /'
                fi
                ran="$ran $d:$name"
        done < "$o.list"
done
diag "doc blocks run:$ran"
# also on stderr, which prove shows without -v: make check's log lists what ran
echo "t-docs: ran$ran" >&2
