#!/bin/sh
# Extract the marked, runnable examples of a document into one script each.
#
#   doc-blocks.sh DOC OUTDIR
#
# Markdown: a line `<!-- doc-test: NAME [FLAG...] -->` followed by a ```sh
# fence; the fence's lines are the block. Every ```sh fence must carry a
# marker (a runnable-looking example nobody runs would drift); plain ```
# fences are syntax, layouts and output, not commands.
# man pages: a line `.\" doc-test: NAME [FLAG...]` followed by .nf or .EX; the
# block ends at .fi or .EE; roff escapes (\- \e \(aq \(dq \&) are undone. Every
# .nf/.EX block of the EXAMPLES section must carry a marker.
# FLAGs: root (root only by design), clone (runs in the source clone).
#
# Writes OUTDIR/NN-NAME.sh and prints one line per block: "NN NAME FLAGS"
# (FLAGS "-" when none). Exit 1, naming the file and line, on a ```sh fence
# without a marker, a marker without a block, or a duplicate name.
set -eu
doc=$1
out=$2
mkdir -p "$out"
awk -v out="$out" -v doc="$doc" '
function fail(msg) { printf "%s:%d: %s\n", doc, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
function start(spec,    n, f, i) {
        n = split(spec, f, " ")
        if (n < 1 || f[1] !~ /^[a-z0-9][a-z0-9-]*$/) fail("doc-test marker without a valid NAME: " spec)
        if (f[1] in seen) fail("doc-test block " f[1] " named twice")
        seen[f[1]] = 1
        name = f[1]; flags = ""
        for (i = 2; i <= n; i++) {
                if (f[i] != "root" && f[i] != "clone") fail("doc-test " name ": unknown flag " f[i])
                flags = flags (flags == "" ? "" : ",") f[i]
        }
        count++
        file = sprintf("%s/%02d-%s.sh", out, count, name)
        printf "# %s, block %s (line %d)\n", doc, name, NR + 1 > file
        pending = 1
}
function finish() {
        close(file)
        printf "%02d %s %s\n", count, name, (flags == "" ? "-" : flags)
        inblock = 0
}
{
        line = $0
        if (inblock) {
                if (man && (line ~ /^\.(fi|EE)[ \t]*$/)) { finish(); next }
                if (!man && line ~ /^```[ \t]*$/) { finish(); next }
                if (man) {
                        if (line ~ /^\.(RS|RE|PP|br)/) next
                        gsub(/\\-/, "-", line); gsub(/\\\(aq/, "\047", line); gsub(/\\\(dq/, "\"", line)
                        gsub(/\\&/, "", line); gsub(/\\e/, "\\", line)
                }
                print line > file
                next
        }
        if (pending) {
                if (line ~ /^[ \t]*$/) next
                if (!man && line ~ /^```sh[ \t]*$/) { inblock = 1; pending = 0; next }
                if (man && line ~ /^\.(nf|EX)[ \t]*$/) { inblock = 1; pending = 0; next }
                fail("doc-test " name ": the marker is not followed by a " (man ? ".nf/.EX block" : "```sh fence"))
        }
        if (match(line, /^<!-- doc-test: .* -->[ \t]*$/)) {
                man = 0; spec = line; sub(/^<!-- doc-test: /, "", spec); sub(/ -->[ \t]*$/, "", spec); start(spec); next
        }
        if (line ~ /^\.\\" doc-test: /) {
                man = 1; spec = line; sub(/^\.\\" doc-test: /, "", spec); start(spec); next
        }
        if (line ~ /^\.SH /) section = line
        if (section ~ /^\.SH "?EXAMPLES"?[ \t]*$/ && line ~ /^\.(nf|EX)[ \t]*$/)
                fail("an EXAMPLES block without a .\\\" doc-test: NAME marker")
        if (line ~ /^[ \t]*```sh[ \t]*$/) fail("a ```sh block without a <!-- doc-test: NAME --> marker (mark it, or fence it as plain ``` if it is not a command to run)")
}
END {
        if (bad) exit 1
        if (inblock) { printf "%s: doc-test %s: block not closed\n", doc, name > "/dev/stderr"; exit 1 }
        if (pending) { printf "%s: doc-test %s: marker at the end of the file\n", doc, name > "/dev/stderr"; exit 1 }
}' "$doc"
