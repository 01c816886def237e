#!/bin/sh
# The defaults check (tests/spec/check_defaults.py) passes on spec/PROTOCOL.md, and fails on
# copies of it with one stated value changed (a limit, a timeout, a unit), so it is shown able
# to fail.
# usage: test_spec_defaults.sh PYTHON SOURCE_DIR
set -u
PY=$1
SRC=$2
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail=0
"$PY" "$SRC/tests/spec/check_defaults.py" "$SRC" || fail=1
n=0
for expr in 's/| body after gzip | 32 MiB/| body after gzip | 16 MiB/' \
    's/| idle connection | 30 s/| idle connection | 30 ms/' \
    's/| connections from one address | 64/| connections from one address | 32/' \
    's/when it is at least 1,024 bytes/when it is at least 2,048 bytes/' \
    's/`STINT_LEGACY_MAX_DEPTH` = 16/`STINT_LEGACY_MAX_DEPTH` = 8/' \
    's/| `title` | string | UTF-8 | 2048 bytes/| `title` | string | UTF-8 | 1024 bytes/'; do
    n=$((n + 1))
    sed "$expr" "$SRC/spec/PROTOCOL.md" >"$T/p$n.md"
    if out=$("$PY" "$SRC/tests/spec/check_defaults.py" "$SRC" "$T/p$n.md"); then
        echo "FAIL: the check accepted the spec with $expr"
        fail=1
    else
        echo "ok: refused: $(echo "$out" | head -1)"
    fi
done
exit $fail
