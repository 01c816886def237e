# The sender draining a 1,000,000-record backlog over TLS on loopback into stint-collector
# (storing, and --ack-only), bytes on the wire per encoding, and the delay after the server's
# return. Uses stint-send-test and the support code of tests/integration (built here when the
# test suite is not part of the build, as in `make bench`).
if(TARGET stint-collector AND TARGET stint_agent_core)
  find_package(CURL REQUIRED)
  if(NOT TARGET stint_sender_support)
    add_library(stint_sender_support STATIC
      ${PROJECT_SOURCE_DIR}/tests/integration/sender_support.c)
    target_compile_options(stint_sender_support PRIVATE ${STINT_WARNINGS})
    target_include_directories(stint_sender_support PUBLIC ${PROJECT_SOURCE_DIR}/tests/integration)
    target_link_libraries(stint_sender_support PUBLIC stint_agent_core)
    target_compile_definitions(stint_sender_support PRIVATE
      STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
    add_dependencies(stint_sender_support stint-collector)
    add_executable(stint-send-test ${PROJECT_SOURCE_DIR}/tests/integration/sender_driver.c)
    target_compile_options(stint-send-test PRIVATE ${STINT_WARNINGS})
    target_link_libraries(stint-send-test PRIVATE stint_sender_support stint_agent_core)
  endif()
  stint_bench(bench_sender ${CMAKE_CURRENT_LIST_DIR}/bench_sender.c
    LIBS stint_sender_support stint_agent_core
    ARGS $<TARGET_FILE:stint-send-test> 1000000)
  add_dependencies(bench_sender stint-send-test stint-collector)
endif()
