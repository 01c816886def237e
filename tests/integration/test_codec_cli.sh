#!/bin/sh
# test_codec_cli.sh — stint-codec from the outside: conversions, exit codes, messages, --help.
# Usage: test_codec_cli.sh STINT_CODEC VECTORS_DIR
set -u
CODEC=$1
VEC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE DESCRIPTION -- command...
expect() {
    want=$1; what=$2; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, expected $want ($(cat "$TMP/err"))"; fi
}

# pb -> json gives the golden json; json -> pb gives the golden pb, for every vector
for pb in "$VEC"/*.pb; do
    name=$(basename "$pb" .pb)
    expect 0 "$name pb->json" -- "$CODEC" convert --from pb --to json "$pb" "$TMP/$name.json"
    if cmp -s "$TMP/$name.json" "$VEC/$name.json"; then ok; else
        [ "$name" = unknown-fields ] && ok || bad "$name: pb->json differs from golden"; fi
    expect 0 "$name json->pb" -- "$CODEC" convert --from json --to pb "$VEC/$name.json" "$TMP/$name.pb"
    if [ "$name" != unknown-fields ]; then
        if cmp -s "$TMP/$name.pb" "$pb"; then ok; else bad "$name: json->pb differs from golden"; fi
    fi
    expect 0 "$name validate" -- "$CODEC" validate --format pb "$pb"
done

# stdin/stdout by default
"$CODEC" convert --from json --to pb <"$VEC/cjk.json" | "$CODEC" convert --from pb --to json >"$TMP/cjk2.json"
if cmp -s "$TMP/cjk2.json" "$VEC/cjk.json"; then ok; else bad "stdin/stdout pipeline"; fi

# the unknown-fields vector says how many fields it skipped
"$CODEC" validate --format pb "$VEC/unknown-fields.pb" >"$TMP/v" 2>&1
grep -q "10 unknown fields" "$TMP/v" && ok || bad "validate does not count unknown fields: $(cat "$TMP/v")"
# ... and its kind 7 (a later v1.x) is accepted in both formats, as a number in JSON (§3.3, §4)
expect 0 "unknown-fields.json validate" -- "$CODEC" validate --format json "$VEC/unknown-fields.json"
grep -q '"kind":7' "$VEC/unknown-fields.json" && ok || bad "the vector's kind 7 is not a JSON number"
printf '{"records":[{"seq":"1","startMs":"1","endMs":"2","kind":"KIND_MEETING"}]}' >"$TMP/name.json"
expect 1 "a kind name v1.0 does not define" -- "$CODEC" validate --format json "$TMP/name.json"

# invalid input: exit 1, the message names field and byte
printf '\042\005\072\003ab\377' >"$TMP/bad.pb"
expect 1 "bad UTF-8" -- "$CODEC" validate --format pb "$TMP/bad.pb"
grep -q "records\[0\].title" "$TMP/err" && grep -q "byte 6" "$TMP/err" && ok || bad "message: $(cat "$TMP/err")"
printf '{"records":[{"startMs":true}]}' >"$TMP/bad.json"
expect 1 "wrong JSON type" -- "$CODEC" validate --format json "$TMP/bad.json"
grep -q "records\[0\].startMs" "$TMP/err" && ok || bad "message: $(cat "$TMP/err")"
printf '{"records":[' >"$TMP/bad2.json"
expect 1 "bad JSON" -- "$CODEC" convert --from json --to pb "$TMP/bad2.json" "$TMP/never.pb"
[ ! -e "$TMP/never.pb" ] && ok || bad "output written for invalid input"

# usage errors: exit 2
expect 2 "no command" -- "$CODEC"
expect 2 "unknown command" -- "$CODEC" frobnicate
expect 2 "unknown format" -- "$CODEC" convert --from yaml --to pb
expect 2 "missing --to" -- "$CODEC" convert --from pb
expect 2 "validate without file" -- "$CODEC" validate --format pb
expect 2 "bad --type" -- "$CODEC" validate --format pb --type thing x
expect 2 "unknown option" -- "$CODEC" --frob
# I/O errors: exit 3
expect 3 "missing file" -- "$CODEC" validate --format pb "$TMP/does-not-exist"

# --help documents every format with an example
expect 0 "--help" -- "$CODEC" --help
for f in $("$CODEC" formats | awk '{print $1}'); do
    grep -q "^  $f " "$TMP/out" && ok || bad "--help does not document $f"
done
grep -q "e\.g\." "$TMP/out" && ok || bad "--help has no examples"

# record and ack types
printf '{"seq":"3","startMs":"5"}' >"$TMP/r.json"
expect 0 "record json->pb" -- "$CODEC" convert --type record --from json --to pb "$TMP/r.json" "$TMP/r.pb"
expect 0 "record validate" -- "$CODEC" validate --type record --format pb "$TMP/r.pb"
printf '{"ackedSeq":"3"}' >"$TMP/a.json"
expect 0 "ack json->pb->json" -- "$CODEC" convert --type ack --from json --to pb "$TMP/a.json" "$TMP/a.pb"
"$CODEC" convert --type ack --from pb --to json "$TMP/a.pb" | grep -q '"ackedSeq":"3"' && ok || bad "ack round trip"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
