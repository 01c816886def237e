#!/bin/sh
# make-seeds.sh — (re)builds the seed inputs of the fuzz corpora (fuzz/README.md, "Corpora").
#
#   fuzz/make-seeds.sh STINT_CODEC OUTDIR
#
# Writes OUTDIR/<harness>/ seeds: the golden vectors of spec/vectors/ (all but the large batch,
# which is too big to fuzz well), and messages made here with tools/stint-codec (records and
# acks, and JSON in the mapping's lenient spellings). The committed corpora under fuzz/corpus/
# are these seeds plus what campaigns found, minimised with libFuzzer's -merge=1.
set -eu
codec=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
vectors=$here/../spec/vectors

for h in pb_nanopb pb_protobufc pb_diff roundtrip_pb journal_value json roundtrip_json \
    legacy_php legacy_json legacy_form roundtrip_legacy; do
    mkdir -p "$out/$h"
done

# --- JSON messages, written here ------------------------------------------------------------
j=$(mktemp -d)
trap 'rm -rf "$j"' EXIT
printf '%s' '{"seq":"100","startMs":"1314172181000","endMs":"1314172780999","kind":"KIND_ACTIVE","app":"libreoffice","path":"/usr/lib/libreoffice/program/soffice.bin","title":"budget.ods","url":"https://example.com/","truncated":3,"repaired":1}' >"$j/record-full.json"
printf '%s' '{"seq":"103","startMs":"1314173981000","endMs":"1314174580999","kind":"KIND_GAP","gapCount":"1234"}' >"$j/record-gap.json"
printf '%s' '{"seq":"18446744073709551615","startMs":"-9223372036854775808","endMs":"9223372036854775807","kind":-7,"truncated":4294967295}' >"$j/record-extremes.json"
printf '%s' '{"ackedSeq":"103","rejected":[{"seq":"101","code":"REJECT_BAD_TIME","reason":"end before start"},{"seq":"102","code":7,"reason":"\u00fc"}],"serverTimeMs":"1314172183000","stored":"3","duplicates":"1"}' >"$j/ack-rejections.json"
printf '%s' '{"ackedSeq":"7","serverTimeMs":"1314172183000","stored":"7"}' >"$j/ack-plain.json"
printf '%s' '{"client_version":"x","now_ms":5,"agent_id":"XhsMekQPS46dITpgwhHwBw","records":[{"seq":1,"start_ms":1.0e3,"kind":2,"app":null,"gap_count":"7"}],"current":{"kind":"KIND_GAP"},"futureField":[1,{}]}' >"$j/batch-lenient.json"
printf '%s' '{"agentId":"XhsMekQPS46dITpgwhHwBw==","records":[{"seq":"1","startMs":"1","endMs":"2","app":"a\u0000b\ud83d\ude00"}]}' >"$j/batch-escapes.json"
printf '%s' '{"acked_seq":1,"rejected":[{"seq":1,"code":"REJECT_BAD_KIND","reason":null}],"server_time_ms":"2","duplicates":3}' >"$j/ack-lenient.json"

# every string exactly at its limit, as the last field of its message: the boundary the length
# checks guard, one mutation (length + 1, a byte appended) away from being over it
rep() { awk -v n="$2" -v c="$1" 'BEGIN { while (n-- > 0) printf "%s", c }'; }
printf '{"clientVersion":"%s"}' "$(rep v 64)" >"$j/limit-client-version.json"
printf '{"seq":"1","app":"%s"}' "$(rep a 256)" >"$j/limit-record-app.json"
printf '{"seq":"1","path":"%s"}' "$(rep p 1024)" >"$j/limit-record-path.json"
printf '{"seq":"1","title":"%s"}' "$(rep t 2048)" >"$j/limit-record-title.json"
printf '{"seq":"1","url":"%s"}' "$(rep u 4096)" >"$j/limit-record-url.json"
printf '{"ackedSeq":"1","rejected":[{"seq":"1","reason":"%s"}]}' "$(rep r 256)" >"$j/limit-ack-reason.json"
"$codec" convert --from json --to pb "$j/limit-client-version.json" "$j/limit-client-version.pb"
for f in "$j"/limit-record-*.json; do
    "$codec" convert --from json --to pb --type record "$f" "${f%.json}.pb"
done
"$codec" convert --from json --to pb --type ack "$j/limit-ack-reason.json" "$j/limit-ack-reason.pb"
for f in "$j"/limit-*.pb; do
    for h in pb_nanopb pb_protobufc pb_diff roundtrip_pb; do
        cp "$f" "$out/$h/"
    done
done
rm -f "$j"/limit-*

for f in "$j"/*.json; do
    cp "$f" "$out/json/"
    cp "$f" "$out/roundtrip_json/"
done
for f in "$j"/record-*.json; do
    b=$(basename "$f" .json)
    for h in pb_nanopb pb_protobufc pb_diff roundtrip_pb; do
        "$codec" convert --from json --to pb --type record "$f" "$out/$h/$b.pb"
    done
done
for f in "$j"/ack-*.json; do
    b=$(basename "$f" .json)
    for h in pb_nanopb pb_protobufc pb_diff roundtrip_pb; do
        "$codec" convert --from json --to pb --type ack "$f" "$out/$h/$b.pb"
    done
done
"$codec" convert --from json --to pb "$j/batch-lenient.json" "$out/pb_diff/batch-lenient.pb"

# --- golden vectors ---------------------------------------------------------------------------
for f in "$vectors"/*.pb; do
    [ -e "$f" ] || continue
    case $(basename "$f") in large-*) continue ;; esac
    for h in pb_nanopb pb_protobufc pb_diff roundtrip_pb; do
        cp "$f" "$out/$h/vector-$(basename "$f")"
    done
done
for f in "$vectors"/*.json; do
    [ -e "$f" ] || continue
    case $(basename "$f") in large-* | manifest.json) continue ;; esac
    for h in json roundtrip_json; do
        cp "$f" "$out/$h/vector-$(basename "$f")"
    done
done

# --- legacy shapes: the sample vectors, and every pb vector written in each shape ------------
for f in "$vectors"/*.php; do [ ! -e "$f" ] || cp "$f" "$out/legacy_php/vector-$(basename "$f")"; done
for f in "$vectors"/*.legacy.json; do
    [ ! -e "$f" ] || cp "$f" "$out/legacy_json/vector-$(basename "$f")"
done
for f in "$vectors"/*.form; do [ ! -e "$f" ] || cp "$f" "$out/legacy_form/vector-$(basename "$f")"; done
for f in "$vectors"/*.pb; do
    [ -e "$f" ] || continue
    b=$(basename "$f" .pb)
    case $b in large-*) continue ;; esac
    cp "$f" "$out/roundtrip_legacy/vector-$b.pb"
    "$codec" convert --from pb --to php "$f" "$out/legacy_php/from-$b.php" || true
    "$codec" convert --from pb --to legacy-json "$f" "$out/legacy_json/from-$b.json" || true
    "$codec" convert --from pb --to form "$f" "$out/legacy_form/from-$b.form" || true
done

# --- journal values: 8 bytes of seq (big-endian), then the stored value: be32 CRC-32 (zlib) of the
# record's v1 encoding, then that encoding (agent/journal.h, stint_journal_value_decode)
for f in "$out"/pb_nanopb/record-*.pb "$out"/pb_nanopb/limit-record-*.pb; do
    [ -e "$f" ] || continue
    /usr/bin/python3 - "$f" "$out/journal_value/$(basename "$f")" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
seq, shift, i = 0, 0, 1
if b[:1] == b'\x08':
    while i < len(b):
        seq |= (b[i] & 0x7f) << shift
        shift += 7
        if not b[i] & 0x80:
            break
        i += 1
out = struct.pack('>QI', seq & (2**64 - 1), zlib.crc32(b) & 0xffffffff) + b
open(sys.argv[2], 'wb').write(out)
PY
done
