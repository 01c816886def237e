#!/bin/sh
# test_compat.sh — the compatibility gate passes on the current .proto, and fails on each kind of
# breaking change made to a copy of it (so the gate is shown able to fail), while an allowed
# change (a new field, a new enum value) passes.
# Usage: test_compat.sh PYTHON SOURCE_DIR
set -u
PY=$1
SRC=$2
CHECK="$PY $SRC/tests/compat/check_compat.py --released $SRC/spec/released/stint-v1.0.descriptor.txt"
SPEC=$SRC/spec/PROTOCOL.md
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

gate() { # gate EXPECTED_EXIT NAME EXPECTED_TEXT SED_EXPRESSION [SPEC_SED_EXPRESSION]
    want=$1; name=$2; text=$3; expr=$4; spec_expr=${5:-}
    mkdir -p "$TMP/$name/stint/v1"
    sed "$expr" "$SRC/proto/stint/v1/stint.proto" >"$TMP/$name/stint/v1/stint.proto"
    sed "$spec_expr" "$SPEC" >"$TMP/$name.spec.md"
    $CHECK --proto-dir "$TMP/$name" --proto stint/v1/stint.proto --spec "$TMP/$name.spec.md" \
        >"$TMP/$name.out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail=$((fail + 1)); echo "FAIL $name: exit $got, expected $want"; cat "$TMP/$name.out"
    elif [ -n "$text" ] && ! grep -q "$text" "$TMP/$name.out"; then
        fail=$((fail + 1)); echo "FAIL $name: output lacks '$text'"; cat "$TMP/$name.out"
    else
        pass=$((pass + 1)); echo "ok   $name"
    fi
}

gate 0 unchanged "compatible" ''
gate 0 new-field "compatible" 's/^  uint64 gap_count = 11;/&\n  string window_class = 12;/'
gate 0 new-enum-value "compatible" 's/^  KIND_GAP = 4;/&\n  KIND_MEETING = 5;/'
gate 0 removed-but-reserved "compatible" 's/^  uint64 gap_count = 11;/  reserved 11; reserved "gap_count";/'
gate 1 renumbered "renumbered" 's/^  string title = 7;/  string title = 17;/'
gate 1 retyped "retyped" 's/^  int64 start_ms = 2;/  uint64 start_ms = 2;/'
gate 1 retyped-to-string "retyped" 's/^  uint64 seq = 1;/  string seq = 1;/'
gate 1 removed "removed without reserving" 's/^  string url = 8;//'
gate 1 renamed "renamed" 's/^  string title = 7;/  string window_title = 7;/'
gate 1 made-repeated "label" 's/^  int64 now_ms = 3;/  repeated int64 now_ms = 3;/'
gate 1 message-type-changed "type" 's/^  Record current = 5;/  Rejection current = 5;/'
gate 1 enum-value-renamed "renamed" 's/^  KIND_IDLE = 2;/  KIND_AWAY = 2;/'
gate 1 enum-value-renumbered "renumbered\|removed" 's/^  KIND_PRIVATE = 3;/  KIND_PRIVATE = 9;/'
gate 1 package-renamed "package" 's/^package stint.v1;/package stint.v2;/'
gate 1 number-reused "reserved\|renamed\|retyped" 's/^  uint64 gap_count = 11;/  string note = 11;/'
# what must be bumped: an allowed change with the spec still at the released 1.0 fails, and so
# does a version without its changelog row or of another major than the package
gate 1 new-field-unversioned "bump the minor version" 's/^  uint64 gap_count = 11;/&\n  string window_class = 12;/' \
    's/^| Protocol version | 1\.[0-9]* /| Protocol version | 1.0 /'
gate 1 new-enum-value-unversioned "bump the minor version" 's/^  KIND_GAP = 4;/&\n  KIND_MEETING = 5;/' \
    's/^| Protocol version | 1\.[0-9]* /| Protocol version | 1.0 /'
gate 1 version-without-changelog "no row for 1.9" '' 's/^| Protocol version | 1\.[0-9]* /| Protocol version | 1.9 /'
gate 1 version-of-another-major "package is stint.v1" '' 's/^| Protocol version | 1\.[0-9]* /| Protocol version | 2.0 /'
gate 0 unchanged-at-1.0 "compatible" '' 's/^| Protocol version | 1\.[0-9]* /| Protocol version | 1.0 /'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
