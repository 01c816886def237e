# The sender's pure parts (backoff, Retry-After, the retry classification, options) and its
# state machine against a scripted loopback HTTP server.
find_package(CURL REQUIRED)
stint_unit_test(test_backoff ${CMAKE_CURRENT_LIST_DIR}/test_backoff.c LIBS stint_agent_core)
stint_unit_test(test_retry_after ${CMAKE_CURRENT_LIST_DIR}/test_retry_after.c
  LIBS stint_agent_core)
stint_unit_test(test_sender ${CMAKE_CURRENT_LIST_DIR}/test_sender.c
  LIBS stint_agent_core CURL::libcurl)
stint_unit_test(test_sender_script ${CMAKE_CURRENT_LIST_DIR}/test_sender_script.c
  LIBS stint_agent_core)
