# The conformance kit (conformance/) and its proofs. Until `conformance` joins the component list
# of the top-level CMakeLists.txt, the kit's folder is added from here.
if(NOT TARGET stint-conformance AND EXISTS ${PROJECT_SOURCE_DIR}/conformance/CMakeLists.txt
   AND NOT "conformance" IN_LIST STINT_SKIP)
  add_subdirectory(${PROJECT_SOURCE_DIR}/conformance ${CMAKE_BINARY_DIR}/conformance)
endif()

# The kit passes every case against stint-collector, and each case fails alone against a
# server that breaks its requirement (tests/conformance/broken_server.c, the collector's own
# handler with one requirement broken per --break CASE-ID).
if(TARGET stint-conformance AND TARGET stint-collector)
  add_executable(broken_server ${PROJECT_SOURCE_DIR}/tests/conformance/broken_server.c)
  target_compile_options(broken_server PRIVATE ${STINT_WARNINGS})
  target_link_libraries(broken_server PRIVATE stint_collector_core)
  add_test(NAME conformance_server
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/conformance/test_conformance_server.sh
                   $<TARGET_FILE:stint-conformance> $<TARGET_FILE:stint-collector>
                   $<TARGET_FILE:broken_server>)
  set_tests_properties(conformance_server PROPERTIES TIMEOUT 300)
endif()

# Client mode: Stint's sender (stint-send-test, tests/integration/sender.cmake, and stintd) passes
# every client case, and each client case fails alone against tests/conformance/broken_client.c.
if(TARGET stint-conformance)
  find_package(CURL REQUIRED)
  add_executable(broken_client ${PROJECT_SOURCE_DIR}/tests/conformance/broken_client.c)
  target_compile_options(broken_client PRIVATE ${STINT_WARNINGS})
  target_link_libraries(broken_client PRIVATE stint_codec CURL::libcurl)
  set(STINT_CONF_SENDER "")
  if(TARGET stint-collector AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/sender_driver.c)
    list(APPEND STINT_CONF_SENDER --sender $<TARGET_FILE:stint-send-test>)
  endif()
  if(TARGET stintd)
    list(APPEND STINT_CONF_SENDER --stintd $<TARGET_FILE:stintd>)
  endif()
  add_test(NAME conformance_client
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/conformance/test_conformance_client.sh
                   $<TARGET_FILE:stint-conformance> $<TARGET_FILE:broken_client>
                   ${STINT_CONF_SENDER})
  set_tests_properties(conformance_client PROPERTIES TIMEOUT 300)
endif()
