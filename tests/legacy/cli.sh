#!/bin/sh
# cli.sh — stint-codec with the legacy formats: convert to and from each, validate, and the
# emit-only and error exits.   cli.sh STINT_CODEC SOURCE_DIR
set -eu
CODEC=$1
VEC=$2/spec/vectors
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stint-legacy-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# every legacy format is listed; php-serialize as output only
"$CODEC" formats >"$TMP/formats"
for f in php legacy-json form; do
    grep -q "^$f " "$TMP/formats" || fail "formats does not list $f"
done
grep -q "^php-serialize .*(output only)" "$TMP/formats" || fail "php-serialize not output only"

# the v1 sample converts to the four legacy vectors, byte for byte
for pair in php:php php-serialize:ser legacy-json:legacy.json form:form; do
    fmt=${pair%%:*}
    ext=${pair#*:}
    "$CODEC" convert --from json --to "$fmt" "$VEC/desktime-sample.json" "$TMP/out.$ext"
    cmp "$TMP/out.$ext" "$VEC/desktime-sample.$ext" || fail "json -> $fmt differs from the vector"
done

# each readable vector validates, and converts to every other legacy shape's vector
for pair in php:php legacy-json:legacy.json form:form; do
    fmt=${pair%%:*}
    ext=${pair#*:}
    "$CODEC" validate --format "$fmt" "$VEC/desktime-sample.$ext" >"$TMP/v" ||
        fail "validate --format $fmt refused the vector"
    grep -q "valid $fmt batch" "$TMP/v" || fail "validate --format $fmt said: $(cat "$TMP/v")"
    for pair2 in php:php php-serialize:ser legacy-json:legacy.json form:form; do
        "$CODEC" convert --from "$fmt" --to "${pair2%%:*}" "$VEC/desktime-sample.$ext" "$TMP/x"
        cmp "$TMP/x" "$VEC/desktime-sample.${pair2#*:}" ||
            fail "$fmt -> ${pair2%%:*} differs from the vector"
    done
    # and back to v1: the open record comes back as the current one
    "$CODEC" convert --from "$fmt" --to json "$VEC/desktime-sample.$ext" "$TMP/j"
    grep -q '"current":{"startMs":"1314172181000","kind":"KIND_ACTIVE","app":"firefox"' "$TMP/j" ||
        fail "$fmt -> json: $(cat "$TMP/j")"
done

# php-serialize cannot be read: usage error (2)
rc=0
"$CODEC" convert --from php-serialize --to json "$VEC/desktime-sample.ser" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "reading php-serialize exited $rc, want 2"

# malformed input: exit 1, and the message names the byte offset
printf "array ('now' => '1',, )" >"$TMP/bad.php"
rc=0
"$CODEC" validate --format php "$TMP/bad.php" 2>"$TMP/err" >/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "malformed php exited $rc, want 1"
grep -q "byte 20" "$TMP/err" || fail "malformed php message: $(cat "$TMP/err")"

# --type record does not exist for the legacy formats
rc=0
"$CODEC" convert --from php --to json --type record "$VEC/desktime-sample.php" >/dev/null 2>&1 ||
    rc=$?
[ "$rc" -eq 2 ] || fail "--type record with php exited $rc, want 2"
echo "stint-codec legacy formats: ok"
