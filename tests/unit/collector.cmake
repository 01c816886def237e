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
endif()
