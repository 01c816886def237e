# stint-collector from the outside: the real server on a free loopback port with a certificate
# made at test time (openssl CLI), driven with libcurl (collector_e2e.c): TLS, pb/JSON/gzip,
# replays, rejections, limits, auth and isolation, delete, every fault kind, the admin endpoint,
# dump/stats while serving, and restarts (clean and killed) with nothing acknowledged lost.
if(TARGET stint-collector)
  find_package(CURL REQUIRED)
  stint_unit_test(collector_e2e ${CMAKE_CURRENT_LIST_DIR}/collector_e2e.c
                  LIBS CURL::libcurl stint_collector_core)
  target_compile_definitions(collector_e2e PRIVATE
    STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
  add_dependencies(collector_e2e stint-collector)
  set_tests_properties(collector_e2e PROPERTIES TIMEOUT 240)
endif()
