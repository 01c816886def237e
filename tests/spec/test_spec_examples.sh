#!/bin/sh
# Every example of the spec holds (tests/spec/check_examples.py over spec/*.md), the checker fails on each broken example in tests/spec/fixtures/, and every
# conformance case the kit lists is written down in the spec.
# usage: test_spec_examples.sh PYTHON SOURCE_DIR STINT_CODEC STINT_COLLECTOR [STINT_CONFORMANCE]
set -u
PY=$1
SRC=$2
CODEC=$3
COLLECTOR=$4
KIT=${5:-}
fail=0

# shellcheck disable=SC2046
"$PY" "$SRC/tests/spec/check_examples.py" --codec "$CODEC" --collector "$COLLECTOR" --min 10 \
    "$SRC"/spec/*.md || fail=1

for f in "$SRC"/tests/spec/fixtures/broken-*.md; do
    if "$PY" "$SRC/tests/spec/check_examples.py" --codec "$CODEC" --collector "$COLLECTOR" "$f" \
        >/tmp/stint-spec-fixture.$$ 2>&1; then
        echo "FAIL: the checker accepted $(basename "$f"):"
        cat /tmp/stint-spec-fixture.$$
        fail=1
    else
        echo "ok: the checker refuses $(basename "$f"): $(grep '^FAIL' /tmp/stint-spec-fixture.$$ | head -1)"
    fi
done
rm -f /tmp/stint-spec-fixture.$$

if [ -n "$KIT" ]; then
    missing=
    for id in $("$KIT" --list | awk '/^[SC][0-9]/ {print $1}'); do
        grep -q "| $id |" "$SRC/spec/PROTOCOL.md" 2>/dev/null ||
            missing="$missing $id"
    done
    if [ -n "$missing" ]; then
        echo "FAIL: conformance cases not in the spec's case tables:$missing"
        fail=1
    else
        echo "ok: every conformance case is in the spec's case tables"
    fi
fi
exit $fail
