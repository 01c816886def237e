#!/bin/sh
# The reference check (tests/spec/check_refs.py) passes on spec/*.md and README.md, and fails on
# each broken fixture of tests/spec/ref-fixtures/ (a section, a title, a link, an anchor, a file
# that does not exist), while the good fixture passes: the check is shown able to fail.
# usage: test_spec_refs.sh PYTHON SOURCE_DIR
set -u
PY=$1
SRC=$2
fail=0
"$PY" "$SRC/tests/spec/check_refs.py" "$SRC" "$SRC"/spec/*.md "$SRC/README.md" || fail=1
"$PY" "$SRC/tests/spec/check_refs.py" "$SRC" "$SRC/tests/spec/ref-fixtures/good.md" >/dev/null ||
    { echo "FAIL: the good fixture is refused"; fail=1; }
for f in "$SRC"/tests/spec/ref-fixtures/broken-*.md; do
    if out=$("$PY" "$SRC/tests/spec/check_refs.py" "$SRC" "$f" 2>&1); then
        echo "FAIL: the check accepted $(basename "$f"): $out"
        fail=1
    else
        echo "ok: the check refuses $(basename "$f"): $(echo "$out" | head -1)"
    fi
done
exit $fail
