# Collector: tokens, faults, gzip cap, and the request handler with its LevelDB store (no sockets).
if(TARGET stint_collector_core)
  stint_unit_test(test_collector_tokens ${CMAKE_CURRENT_LIST_DIR}/test_collector_tokens.c
                  LIBS stint_collector_core)
  stint_unit_test(test_collector_faults ${CMAKE_CURRENT_LIST_DIR}/test_collector_faults.c
                  LIBS stint_collector_core)
  stint_unit_test(test_collector_inflate ${CMAKE_CURRENT_LIST_DIR}/test_collector_inflate.c
                  LIBS stint_collector_core)
  stint_unit_test(test_collector_handler ${CMAKE_CURRENT_LIST_DIR}/test_collector_handler.c
                  LIBS stint_collector_core)
  # the same test body against the PostgreSQL store, on a PostgreSQL 15 started for it (all three
  # ways of ingesting: unnest, the default, INSERT ... VALUES, and COPY into a staging table)
  foreach(ingest unnest values copy)
    add_test(NAME test_collector_handler_pg_${ingest}
             COMMAND sh ${PROJECT_SOURCE_DIR}/tests/support/with_postgres.sh
                     env STINT_PG_INGEST=${ingest} $<TARGET_FILE:test_collector_handler>)
    set_tests_properties(test_collector_handler_pg_${ingest} PROPERTIES TIMEOUT 300
                         SKIP_RETURN_CODE 77)
  endforeach()
endif()
