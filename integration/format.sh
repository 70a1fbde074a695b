#!/bin/sh
# The C formatter, with the rules in .clang-format (clang-format 14, Debian 12).
#
#   format.sh lint     clang-format --dry-run -Werror on the files .clang-format-files lists (make lint)
#   format.sh format   reformat every C file of the tree in place, then lint all of them from now on (make format)
#   format.sh list     rewrite .clang-format-files as the files that conform today (before a whole-tree format)
#
# .clang-format-files: one path per line (# comments), or the single word
# "all": every .c/.h below launcher/ policy/ helpers/ tests/ integration/.
# Files listed there are the ones the tree already conforms to; "all" once a
# whole-tree `make format` has run.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
CF=${CLANG_FORMAT:-}
if [ -z "$CF" ]; then
        CF=$(command -v clang-format-14 || command -v clang-format || true)
fi
if [ -z "$CF" ]; then
        echo "format: clang-format is not installed (make deps installs clang-format-14)" >&2
        exit 1
fi
all_files() {
        find launcher policy helpers tests integration -name '*.[ch]' -type f | LC_ALL=C sort
}
listed_files() {
        if grep -qx 'all' .clang-format-files; then
                all_files
        else
                sed -e 's/#.*//' -e 's/[ \t]*$//' .clang-format-files | grep -v '^$'
        fi
}
case "${1:-lint}" in
lint)
        files=$(listed_files)
        n=$(echo "$files" | wc -w)
        # shellcheck disable=SC2086
        if ! "$CF" --dry-run -Werror $files; then
                echo "lint: the files above differ from .clang-format; run make format (or $CF -i FILE)" >&2
                exit 1
        fi
        echo "lint: $n C files match .clang-format ($("$CF" --version | sed 's/.*version \([0-9.]*\).*/clang-format \1/'))"
        ;;
format)
        # twice: a literal broken in the first pass can move again in the second (then it is stable)
        # shellcheck disable=SC2046
        "$CF" -i $(all_files)
        # shellcheck disable=SC2046
        "$CF" -i $(all_files)
        printf '# make lint checks these files (integration/format.sh); "all": every C file of the tree.\nall\n' > .clang-format-files
        echo "format: $(all_files | wc -l) C files formatted; .clang-format-files now says all"
        ;;
list)
        {
                echo "# make lint checks these files (integration/format.sh): the ones that already match .clang-format."
                echo "# \`make format\` reformats the whole tree and replaces this list with \"all\"."
                for f in $(all_files); do
                        "$CF" --dry-run -Werror "$f" >/dev/null 2>&1 && echo "$f"
                done
        } > .clang-format-files.new
        mv .clang-format-files.new .clang-format-files
        echo "format: $(grep -vc '^#' .clang-format-files) of $(all_files | wc -l) C files conform; listed in .clang-format-files"
        ;;
*)
        echo "usage: format.sh lint|format|list" >&2
        exit 2
        ;;
esac
