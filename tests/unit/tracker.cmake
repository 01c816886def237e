# The tracker, its sources, the URL cut and the config (agent/tracker.cmake).
stint_unit_test(test_url ${CMAKE_CURRENT_LIST_DIR}/test_url.c LIBS stint_agent_core)
stint_unit_test(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c LIBS stint_agent_core)
stint_unit_test(test_tracker ${CMAKE_CURRENT_LIST_DIR}/test_tracker.c
  LIBS stint_agent_core ${LEVELDB_LIBRARY})
stint_unit_test(test_source_jsonl ${CMAKE_CURRENT_LIST_DIR}/test_source_jsonl.c
  LIBS stint_agent_core ${LEVELDB_LIBRARY})
set_tests_properties(test_source_jsonl PROPERTIES TIMEOUT 300)
stint_unit_test(test_ctext ${CMAKE_CURRENT_LIST_DIR}/test_ctext.c LIBS stint_agent_core)
stint_unit_test(test_filters ${CMAKE_CURRENT_LIST_DIR}/test_filters.c LIBS stint_agent_core)
# The JSONL event-line parser (agent/jsonl_event.c): jansson's verdicts on JSONTestSuite.
stint_unit_test(test_jsonl_event ${CMAKE_CURRENT_LIST_DIR}/test_jsonl_event.c
  LIBS stint_agent_core)
target_include_directories(test_jsonl_event PRIVATE ${PROJECT_SOURCE_DIR}/agent)
