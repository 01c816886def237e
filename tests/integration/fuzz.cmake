# The fuzz suite as ctest tests (fuzz/README.md). Harnesses come from fuzz/CMakeLists.txt (the
# global property STINT_FUZZ_HARNESSES).
#
#   fuzz_replay_<h>       every input of fuzz/corpus/<h>/ and fuzz/regressions/<h>/ through the
#                         harness once: in every build, so ASan+UBSan see them in `make test`;
#                         JSON harnesses also replay JSONTestSuite (tests/data/json-test-suite)
#   fuzz_libfuzzer_<h>    a short bounded libFuzzer run of each harness (STINT_FUZZ_CI_SECONDS,
#                         10 by default; -DSTINT_FUZZ_CI=OFF leaves them out),
#   fuzz_planted_bug      the proof that the differential harness finds the planted nanopb
#                         length bug (STINT_PLANTED_BUG) within 60 s of fuzzing.
#
# The libFuzzer tests need clang's libFuzzer (Debian: clang, libclang-rt-14-dev) and are skipped
# (exit 77) without it. `make test` builds with gcc, so they build their own clang variants in
# this build folder (fuzz/libfuzzer.sh); they are registered only in the sanitizer build
# (STINT_SANITIZE) or a STINT_FUZZ build, so that `make test` runs them once, not twice.
get_property(STINT_FUZZ_LIST GLOBAL PROPERTY STINT_FUZZ_HARNESSES)
set(STINT_FUZZ_DIR ${PROJECT_SOURCE_DIR}/fuzz)
set(STINT_FUZZ_CI_SECONDS 10 CACHE STRING "Seconds of libFuzzer per harness in the test suite")
# Found in about 20 s on an idle machine; the budget is wide so a busy machine does not fail it
set(STINT_FUZZ_PLANTED_SECONDS 180 CACHE STRING "Time the differential harness has to find the planted bug")

foreach(h ${STINT_FUZZ_LIST})
  set(inputs "")
  if(IS_DIRECTORY ${STINT_FUZZ_DIR}/corpus/${h})
    list(APPEND inputs ${STINT_FUZZ_DIR}/corpus/${h})
  endif()
  if(IS_DIRECTORY ${STINT_FUZZ_DIR}/regressions/${h})
    if(STINT_FUZZ)
      # libFuzzer runs named files once, but fuzzes folders: name the regression files
      file(GLOB regs CONFIGURE_DEPENDS LIST_DIRECTORIES false ${STINT_FUZZ_DIR}/regressions/${h}/*)
      list(FILTER regs EXCLUDE REGEX "/\\.[^/]*$")
      list(APPEND inputs ${regs})
    else()
      list(APPEND inputs ${STINT_FUZZ_DIR}/regressions/${h})
    endif()
  endif()
  if(inputs)
    if(STINT_FUZZ)
      # folders: -runs=0 replays them without fuzzing
      add_test(NAME fuzz_replay_${h} COMMAND fuzz_${h} -runs=0 ${inputs})
    else()
      add_test(NAME fuzz_replay_${h} COMMAND fuzz_${h} ${inputs})
    endif()
    set_tests_properties(fuzz_replay_${h} PROPERTIES LABELS fuzz TIMEOUT 300)
  endif()
endforeach()

# JSONTestSuite's parsing cases, through every harness that reads JSON text
set(STINT_FUZZ_JSONTS ${STINT_JSON_TEST_SUITE})
if(IS_DIRECTORY ${STINT_FUZZ_JSONTS})
  foreach(h json roundtrip_json)
    if(h IN_LIST STINT_FUZZ_LIST)
      if(STINT_FUZZ)
        add_test(NAME fuzz_replay_${h}_jsontestsuite COMMAND fuzz_${h} -runs=0 ${STINT_FUZZ_JSONTS})
      else()
        add_test(NAME fuzz_replay_${h}_jsontestsuite COMMAND fuzz_${h} ${STINT_FUZZ_JSONTS})
      endif()
      set_tests_properties(fuzz_replay_${h}_jsontestsuite PROPERTIES LABELS fuzz TIMEOUT 300)
    endif()
  endforeach()
endif()

# Both run in every sanitized `make test`, so `.ci/run` fuzzes every harness on every run: the
# planted-bug proof (a clang build of one harness and up to 60 s of fuzzing, found in 15-45 s)
# and a bounded libFuzzer run of each harness (one clang build of all harnesses, about two
# minutes on 2 cores, then STINT_FUZZ_CI_SECONDS each, starting from the committed corpora).
# Long campaigns are `make fuzz` and fuzz/campaign.sh.
option(STINT_FUZZ_CI "Run a bounded libFuzzer run of every harness in ctest" ON)
option(STINT_FUZZ_PLANTED "Prove in ctest that fuzz_pb_diff finds the planted bug" ON)
if(STINT_FUZZ_CI AND (STINT_SANITIZE OR STINT_FUZZ))
  set(lf_work ${CMAKE_BINARY_DIR}/fuzz-work)
  if(STINT_FUZZ)
    set(lf_build ${CMAKE_BINARY_DIR})
  else()
    set(lf_build ${CMAKE_BINARY_DIR}/fuzz-libfuzzer)
    add_test(NAME fuzz_libfuzzer_build
             COMMAND sh ${STINT_FUZZ_DIR}/libfuzzer.sh build ${PROJECT_SOURCE_DIR} ${lf_build})
    set_tests_properties(fuzz_libfuzzer_build PROPERTIES LABELS fuzz TIMEOUT 900
                         SKIP_RETURN_CODE 77 FIXTURES_SETUP stint_libfuzzer)
  endif()
  foreach(h ${STINT_FUZZ_LIST})
    add_test(NAME fuzz_libfuzzer_${h}
             COMMAND sh ${STINT_FUZZ_DIR}/libfuzzer.sh run ${lf_build} ${PROJECT_SOURCE_DIR} ${h}
                     ${STINT_FUZZ_CI_SECONDS} ${lf_work})
    set_tests_properties(fuzz_libfuzzer_${h} PROPERTIES LABELS fuzz TIMEOUT 600
                         SKIP_RETURN_CODE 77 FIXTURES_REQUIRED stint_libfuzzer)
  endforeach()
endif()
if(STINT_FUZZ_PLANTED AND (STINT_SANITIZE OR STINT_FUZZ) AND "pb_diff" IN_LIST STINT_FUZZ_LIST)
  add_test(NAME fuzz_planted_bug
           COMMAND sh ${STINT_FUZZ_DIR}/libfuzzer.sh planted ${PROJECT_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/fuzz-planted ${STINT_FUZZ_PLANTED_SECONDS})
  # alone: its 60 s are of fuzzing on a core, not on half of one beside the rest of the suite
  # (with -j2 it was once not found in time, 76 s in all)
  set_tests_properties(fuzz_planted_bug PROPERTIES LABELS fuzz TIMEOUT 900 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE)
endif()
