# Legacy shapes against PHP itself: 2,000 seeded random batches, each of Stint's four outputs
# compared byte for byte with PHP's var_export/serialize/json_encode/http_build_query and read
# back by eval/unserialize/json_decode/parse_str (tests/legacy/run_oracle.sh). Fails, with the
# apt-get line, where php is missing.
add_executable(legacy_oracle_gen ${PROJECT_SOURCE_DIR}/tests/legacy/oracle_gen.c
                                 ${PROJECT_SOURCE_DIR}/tests/legacy/random_batch.c)
target_compile_options(legacy_oracle_gen PRIVATE ${STINT_WARNINGS})
target_link_libraries(legacy_oracle_gen PRIVATE stint_codec)
add_test(NAME legacy_php_oracle
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/legacy/run_oracle.sh
                 $<TARGET_FILE:legacy_oracle_gen> ${PROJECT_SOURCE_DIR} 2000)
set_tests_properties(legacy_php_oracle PROPERTIES TIMEOUT 300)

# stint-codec convert/validate with php, php-serialize (emit only), legacy-json and form.
add_test(NAME legacy_cli
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/legacy/cli.sh $<TARGET_FILE:stint-codec>
                 ${PROJECT_SOURCE_DIR})

# stintd's legacy modes against stint-collector (spec/PROTOCOL.md §6.8): 2,000 events, half the
# focus changes under 1 s apart, two agents of one account replaying the same day through a
# recording proxy; every active record stored exactly once per agent, and every request sent
# twice more stores nothing new (tests/integration/legacy_e2e.py).
if(TARGET stintd AND TARGET stintctl AND TARGET stint-collector AND TARGET agent_replay)
  add_test(NAME legacy_e2e
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/legacy_e2e.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>
                   $<TARGET_FILE:stint-collector> $<TARGET_FILE:agent_replay> 2000)
  set_tests_properties(legacy_e2e PROPERTIES TIMEOUT 400)
endif()
