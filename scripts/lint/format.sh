#!/bin/sh
# format.sh — every tracked .c and .h file is as clang-format leaves it (.clang-format: 4 spaces,
# 100 columns, function braces on their own line). `make format` rewrites them.
#
#   scripts/lint/format.sh [--report] [--known FILE]
#
# Prints each file that clang-format would change, then a verdict line; exits 1 if there is one.
# --report: exit 0 all the same. --known FILE: files listed there as "format PATH" are printed as
# known and do not fail (scripts/lint/known.txt). Needs clang-format (Debian: clang-format).
# STINT_LINT_ROOT checks another tree (the checks' own test uses it).
set -u
report=0
known=""
while [ $# -gt 0 ]; do
    case "$1" in
    --report) report=1 ;;
    --known)
        [ $# -ge 2 ] || { echo "format: --known needs a FILE" >&2; exit 2; }
        known=$(sed 's/#.*//' "$2" | awk '$1 == "format" { print $2 }') || exit 2
        shift
        ;;
    -h | --help)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "format: unknown argument $1 (try --help)" >&2
        exit 2
        ;;
    esac
    shift
done
root=${STINT_LINT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
if ! command -v clang-format >/dev/null 2>&1; then
    echo "format: clang-format not found (Debian: apt-get install clang-format, or make deps)" >&2
    exit 2
fi

is_known() {
    printf '%s\n' "$known" | grep -qxF "$1"
}

files=$(git ls-files '*.c' '*.h') || exit 2
if [ -z "$files" ]; then
    echo "format: no tracked .c or .h files under $root" >&2
    exit 2
fi
n=$(printf '%s\n' "$files" | grep -c .)
# one clang-format for every file: each place it would change is a line FILE:LINE:COL: warning:
# shellcheck disable=SC2086 # tracked C file names have no spaces
warnings=$(clang-format --dry-run $files 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$warnings" | head -5 >&2
    echo "format: clang-format failed (exit $rc)" >&2
    exit 2
fi
bad=0
nknown=0
found=$(printf '%s\n' "$warnings" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning:.*/\1/p' | uniq)
for f in $found; do
    places=$(printf '%s\n' "$warnings" | grep -c "^$f:[0-9]*:[0-9]*: warning:")
    msg="$f: not formatted ($places place(s); make format, or clang-format -i $f)"
    if is_known "$f"; then
        echo "$msg (known)"
        nknown=$((nknown + 1))
    else
        echo "$msg"
        bad=$((bad + 1))
    fi
done
for k in $known; do
    if ! printf '%s' "$found" | grep -qxF "$k"; then
        echo "$k: listed as a known format finding, and none is left: remove its line"
    fi
done
what="$n C files checked"
[ "$nknown" -eq 0 ] || what="$what, $nknown known"
if [ "$bad" -eq 0 ]; then
    echo "format: OK, $what"
    exit 0
elif [ "$report" -eq 1 ]; then
    echo "format: $bad finding(s), $what (report only: not failing)"
    exit 0
fi
echo "format: FAILED, $bad finding(s), $what"
exit 1
