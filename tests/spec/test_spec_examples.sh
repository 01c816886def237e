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
    # each case's row, as the kit lists it (ID, level, section, requirement), is in the spec
    # word for word: the kit's table is the one source, the spec's tables copy it
    "$KIT" --list | "$PY" -c '
import re, sys
spec = open(sys.argv[1], encoding="utf-8").read().split("\n")
lines = sys.stdin.read().splitlines()
bad = 0
for i, l in enumerate(lines):
    m = re.match(r"^([SC]\d+)\s+(\S+)\s+(.*)$", l)
    if not m:
        continue
    row = "| %s | %s | %s | %s |" % (m.group(1), m.group(2), m.group(3), lines[i + 1].strip()[1:-1])
    if row not in spec:
        print("FAIL: the spec has not this row of the kit: " + row)
        bad += 1
sys.exit(1 if bad else 0)' "$SRC/spec/PROTOCOL.md" || fail=1
    [ $fail -eq 0 ] && echo "ok: every conformance case is in the spec's case tables, row for row"
fi
exit $fail
