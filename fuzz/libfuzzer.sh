#!/bin/sh
# libfuzzer.sh — builds and runs the libFuzzer harnesses (clang, ASan+UBSan), for mk/fuzz.mk and
# for the ctest tests of the fuzz section of tests/integration/CMakeLists.txt. fuzz/README.md
# tells the whole story.
#
#   libfuzzer.sh build SRC BUILD [CMAKE_ARGS...]   configure BUILD with clang, STINT_FUZZ=ON and
#                                                  STINT_SANITIZE=ON, build every harness
#   libfuzzer.sh run BUILD SRC NAME SECONDS WORK   fuzz harness NAME for SECONDS, new inputs into
#                                                  WORK/corpus/NAME, crashes into WORK/artifacts/NAME/
#   libfuzzer.sh planted SRC BUILD SECONDS         build fuzz_pb_diff with STINT_PLANTED_BUG=ON and
#                                                  show that it finds the bug within SECONDS,
#                                                  starting from the golden vectors of spec/vectors
#                                                  and the at-limit seeds of fuzz/corpus/pb_diff
#
# Exit status: 0 success; 77 clang or libFuzzer is not installed, or the harness is not built
# (ctest: skipped); other: failure (for `run`, a finding: -error_exitcode=1, since libFuzzer's
# default, 77, would read as "skipped").
set -eu

FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-16384}
# The documented bound: no decoder input exceeds STINT_DECODE_MAX_INPUT (64 MiB), so no single
# allocation may either; the whole process stays within 2 GiB.
FUZZ_MALLOC_LIMIT_MB=${FUZZ_MALLOC_LIMIT_MB:-64}
FUZZ_RSS_LIMIT_MB=${FUZZ_RSS_LIMIT_MB:-2048}
CLANG=${CLANG:-clang}

have_libfuzzer()
{
    t=$(mktemp -d)
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$t/t.c"
    if "$CLANG" -fsanitize=fuzzer,address,undefined "$t/t.c" -o "$t/t" >/dev/null 2>&1; then
        rm -rf "$t"
        return 0
    fi
    rm -rf "$t"
    return 1
}

# The dictionary a harness names in a comment line `STINT_FUZZ_DICT: file.dict` (fuzz/dict/).
dict_of()
{
    d=$(sed -n 's/.*STINT_FUZZ_DICT:[[:space:]]*\([^[:space:]*]*\).*/\1/p' "$1/fuzz/fuzz_$2.c" |
        head -n 1)
    if [ -n "$d" ] && [ -f "$1/fuzz/dict/$d" ]; then
        printf '%s\n' "-dict=$1/fuzz/dict/$d"
    fi
}

cmd_build()
{
    src=$1
    build=$2
    shift 2
    if ! have_libfuzzer; then
        echo "libfuzzer.sh: $CLANG cannot link -fsanitize=fuzzer (Debian: clang, libclang-rt-dev)"
        exit 77
    fi
    cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSTINT_FUZZ=ON -DSTINT_SANITIZE=ON -DSTINT_BUILD_TESTS=OFF "$@" >/dev/null
    # shellcheck disable=SC2086 # FUZZ_TARGETS is a list
    cmake --build "$build" --target ${FUZZ_TARGETS:-fuzz-harnesses} -j "${JOBS:-2}"
}

cmd_run()
{
    build=$1
    src=$2
    name=$3
    seconds=$4
    work=$5
    bin=$build/fuzz/fuzz_$name
    if [ ! -x "$bin" ]; then
        echo "libfuzzer.sh: no $bin (not built: see fuzz/CMakeLists.txt)"
        exit 77
    fi
    mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
    set -- -max_total_time="$seconds" -max_len="$FUZZ_MAX_LEN" \
        -malloc_limit_mb="$FUZZ_MALLOC_LIMIT_MB" -rss_limit_mb="$FUZZ_RSS_LIMIT_MB" \
        -timeout=25 -error_exitcode=1 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$name/"
    dict=$(dict_of "$src" "$name")
    [ -z "$dict" ] || set -- "$@" "$dict"
    set -- "$@" "$work/corpus/$name"
    [ ! -d "$src/fuzz/corpus/$name" ] || set -- "$@" "$src/fuzz/corpus/$name"
    echo "fuzz_$name $*"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} "$bin" "$@"
}

cmd_planted()
{
    src=$1
    build=$2
    seconds=$3
    FUZZ_TARGETS=fuzz_pb_diff cmd_build "$src" "$build" -DSTINT_PLANTED_BUG=ON
    seeds=$build/planted-seeds
    rm -rf "$seeds" "$build/planted-artifacts"
    mkdir -p "$seeds" "$build/planted-artifacts"
    for f in "$src"/spec/vectors/*.pb; do
        [ -e "$f" ] || continue
        case $(basename "$f") in large-*) continue ;; esac
        cp "$f" "$seeds/"
    done
    # and the committed seeds with every string exactly at its limit (fuzz/make-seeds.sh)
    for f in "$src"/fuzz/corpus/pb_diff/limit-*; do
        [ ! -e "$f" ] || cp "$f" "$seeds/"
    done
    # The planted bug shows as: nanopb accepts a string over its limit, protobuf-c refuses it
    # for the limit. Another disagreement (an open finding) does not count: keep its input aside
    # and go on fuzzing from the corpus reached, until `seconds` of fuzzing have passed.
    log=$build/planted.log
    : >"$log"
    start=$(date +%s)
    while :; do
        left=$((seconds - ($(date +%s) - start)))
        if [ "$left" -le 0 ]; then
            grep "fuzz invariant broken" "$log" | sort | uniq -c
            echo "planted bug NOT found by fuzz_pb_diff within $seconds s"
            exit 1
        fi
        if "$build/fuzz/fuzz_pb_diff" -max_total_time="$left" -max_len="$FUZZ_MAX_LEN" \
            -seed=1 -error_exitcode=1 -artifact_prefix="$build/planted-artifacts/" "$seeds" >"$log.run" 2>&1; then
            cat "$log.run" >>"$log"
            continue
        fi
        cat "$log.run" >>"$log"
        line=$(grep -m 1 "fuzz invariant broken" "$log.run" || true)
        case $line in
        *"nanopb accepts"*"protobuf-c refuses"*"bytes, limit"*)
            echo "$line"
            grep -E "^#[0-9]+" "$log.run" | tail -n 1 || true
            echo "planted bug found by fuzz_pb_diff in $(($(date +%s) - start)) s (limit $seconds s)"
            exit 0
            ;;
        "")
            tail -n 40 "$log.run"
            echo "fuzz_pb_diff stopped, but not on a broken invariant"
            exit 1
            ;;
        *) echo "another finding first (open? see fuzz/regressions/pb_diff/open/): $line" ;;
        esac
    done
}

case ${1:-} in
build) shift; cmd_build "$@" ;;
run) shift; cmd_run "$@" ;;
planted) shift; cmd_planted "$@" ;;
*)
    sed -n '2,14p' "$0"
    exit 2
    ;;
esac
