#!/bin/sh
# run.sh — the source checks, one after another (`make lint`; .ci/run runs it before the tests):
#
#   format   every tracked .c/.h as clang-format leaves it              scripts/lint/format.sh
#   banned   no gets, strcpy, sprintf, atoi ... in C code                scripts/lint/banned.py
#   size     product .c files <= 1,200 lines, functions <= 150 lines     scripts/lint/size.py
#            (prints the ten longest files and functions every run)
#   refs     code, CMake and scripts point only at files in the repo     scripts/lint/refs.py
#
#   scripts/lint/run.sh [--report | --strict]
#
# Every check runs even after one fails; exits 1 if any failed, 2 if one could not run (a tool
# missing). The findings listed in scripts/lint/known.txt are printed but do not fail; --strict
# ignores that list, --report fails on nothing (both print every finding).
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode="--known $here/known.txt"
case "${1:-}" in
"") ;;
--strict) mode="" ;;
--report) mode="--report" ;;
-h | --help)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "lint: unknown argument $1 (try --help)" >&2
    exit 2
    ;;
esac

failed=""
broken=""
for check in format banned size refs; do
    echo "== lint: $check =="
    if [ "$check" = format ]; then
        # shellcheck disable=SC2086 # mode is a list of words
        sh "$here/format.sh" $mode
    else
        # shellcheck disable=SC2086
        python3 "$here/$check.py" $mode
    fi
    rc=$?
    [ "$rc" -eq 0 ] || failed="$failed $check"
    [ "$rc" -lt 2 ] || broken="$broken $check"
done
if [ -n "$broken" ]; then
    echo "lint: could not run:$broken"
    exit 2
fi
if [ -n "$failed" ]; then
    echo "lint: FAILED:$failed"
    exit 1
fi
echo "lint: OK"
