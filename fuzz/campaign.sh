#!/bin/sh
# campaign.sh — a long libFuzzer run of one harness that goes on past findings, with its figures.
#
#   fuzz/campaign.sh BUILD SRC NAME SECONDS WORK
#
# Runs `libfuzzer.sh run` (niced) until SECONDS of fuzzing have passed: after a finding it keeps
# the crash input (WORK/artifacts/NAME/) and starts again on the corpus reached so far
# (WORK/corpus/NAME). Appends one line of figures to WORK/campaigns.txt:
#   harness, seconds, executions, executions/s, edges (cov), features (ft), corpus, findings
# and lists the distinct findings (first invariant or sanitizer line of each crash input).
set -u
build=$1
src=$2
name=$3
seconds=$4
work=$5
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/logs"
log=$work/logs/$name.log
: >"$log"
start=$(date +%s)
execs=0
runs=0
while :; do
    now=$(date +%s)
    left=$((seconds - (now - start)))
    [ "$left" -gt 5 ] || break
    runs=$((runs + 1))
    nice -n 19 sh "$here/libfuzzer.sh" run "$build" "$src" "$name" "$left" "$work" >"$log.run" 2>&1
    rc=$?
    cat "$log.run" >>"$log"
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.run" | tail -n 1)
    execs=$((execs + ${n:-0}))
    [ "$rc" -ne 0 ] || break
    [ "$rc" -ne 77 ] || { echo "campaign: fuzz_$name not built"; exit 77; }
done
end=$(date +%s)
elapsed=$((end - start))
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
corpus=$(find "$work/corpus/$name" -type f | wc -l)
findings=$(find "$work/artifacts/$name" -type f | wc -l)
printf '%-16s %5ss %11s execs %7s/s  cov %-5s ft %-6s corpus %-5s findings %s (runs %s)\n' \
    "$name" "$elapsed" "$execs" "$((execs / (elapsed > 0 ? elapsed : 1)))" "${cov:-?}" "${ft:-?}" \
    "$corpus" "$findings" "$runs" | tee -a "$work/campaigns.txt"
for f in "$work/artifacts/$name"/*; do
    [ -f "$f" ] || continue
    what=$("$build/fuzz/fuzz_$name" "$f" 2>&1 |
        grep -m 1 -E 'fuzz invariant broken|runtime error|ERROR: AddressSanitizer|ERROR: libFuzzer' |
        sed 's/^[^:]*([^)]*): //')
    printf '  %s: %s\n' "$(basename "$f")" "$what"
done | tee -a "$work/campaigns.txt"
