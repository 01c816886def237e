#!/bin/sh
# run_oracle.sh — Stint's legacy shapes against PHP itself.
#
#   run_oracle.sh ORACLE_GEN SOURCE_DIR [COUNT [SEED]]
#
# 1. oracle_gen writes COUNT (default 2000) seeded random batches and Stint's four outputs of
#    each, and checks its own decode/re-encode round trips;
# 2. one php process (oracle.php) compares every output with PHP's var_export, serialize,
#    json_encode and http_build_query of the same array, and reads each back;
#    it also writes each array as other PHP code and flags print it, and oracle_gen --variants
#    checks that Stint's readers take those texts to the same model;
# 3. make_vectors.php prints the documented sample again, which must equal spec/vectors/.
# PHP is the oracle: without it this test FAILS (it never passes by skipping).
set -eu

GEN=$1
SRC=$2
COUNT=${3:-2000}
SEED=${4:-1314172183}
PHP=${STINT_PHP:-php}

if ! command -v "$PHP" >/dev/null 2>&1 || ! "$PHP" -r 'exit(0);' >/dev/null 2>&1; then
    echo "FAIL: PHP (php-cli) is missing, and it is the oracle of the legacy shapes." >&2
    echo "Install it: apt-get install php-cli   (or run 'make deps' as root)" >&2
    exit 1
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/stint-legacy-oracle.XXXXXX")
trap 'rm -rf "$DIR"' EXIT INT TERM

"$GEN" "$SEED" "$COUNT" "$DIR"
"$PHP" -d display_errors=stderr -d error_reporting=-1 "$SRC/tests/legacy/oracle.php" "$DIR" "$COUNT"
"$GEN" --variants "$SEED" "$COUNT" "$DIR"

mkdir "$DIR/vectors"
"$PHP" "$SRC/tests/legacy/make_vectors.php" "$DIR/vectors"
for ext in php ser legacy.json form; do
    if ! cmp "$DIR/vectors/desktime-sample.$ext" "$SRC/spec/vectors/desktime-sample.$ext"; then
        echo "FAIL: spec/vectors/desktime-sample.$ext is not what PHP prints for the sample" >&2
        exit 1
    fi
done
echo "spec/vectors/desktime-sample.{php,ser,legacy.json,form}: what PHP $("$PHP" -r 'echo PHP_VERSION;') prints"
