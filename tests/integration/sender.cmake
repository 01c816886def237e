# The sender end to end against stint-collector on loopback TLS (certificates made at test time):
# one test per fault kind, kill -9 during a drain, and the network-namespace test.
if(TARGET stint-collector)
  find_package(CURL REQUIRED)
  add_library(stint_sender_support STATIC ${CMAKE_CURRENT_LIST_DIR}/sender_support.c)
  target_compile_options(stint_sender_support PRIVATE ${STINT_WARNINGS})
  target_include_directories(stint_sender_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(stint_sender_support PUBLIC stint_agent_core)
  target_compile_definitions(stint_sender_support PRIVATE
    STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
  add_dependencies(stint_sender_support stint-collector)

  stint_unit_test(sender_faults ${CMAKE_CURRENT_LIST_DIR}/sender_faults.c
                  LIBS stint_sender_support stint_agent_core)
  set_tests_properties(sender_faults PROPERTIES TIMEOUT 300)
endif()

if(TARGET stint-collector)
  # stint-send-test: a journal and a sender in a process of their own (kill -9, netns, bench)
  add_executable(stint-send-test ${CMAKE_CURRENT_LIST_DIR}/sender_driver.c)
  target_compile_options(stint-send-test PRIVATE ${STINT_WARNINGS})
  target_link_libraries(stint-send-test PRIVATE stint_sender_support stint_agent_core)

  add_executable(sender_kill9 ${CMAKE_CURRENT_LIST_DIR}/sender_kill9.c)
  target_compile_options(sender_kill9 PRIVATE ${STINT_WARNINGS})
  target_link_libraries(sender_kill9 PRIVATE stint_sender_support stint_agent_core)
  add_test(NAME sender_kill9 COMMAND sender_kill9 $<TARGET_FILE:stint-send-test> 50 50000)
  set_tests_properties(sender_kill9 PROPERTIES TIMEOUT 400)
endif()

if(TARGET stint-collector)
  # the network's return: needs root for ip netns (skips with 77 otherwise)
  add_executable(sender_netns ${CMAKE_CURRENT_LIST_DIR}/sender_netns.c)
  target_compile_options(sender_netns PRIVATE ${STINT_WARNINGS})
  target_link_libraries(sender_netns PRIVATE stint_sender_support stint_agent_core)
  add_test(NAME sender_netns COMMAND sender_netns $<TARGET_FILE:stint-send-test>)
  set_tests_properties(sender_netns PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77)
  # a network change does not cut a wait the server asked for (root: a veth pair; else 77)
  add_test(NAME sender_netwake COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/sender_netwake.py
           $<TARGET_FILE:stint-collector> $<TARGET_FILE:stint-send-test>)
  set_tests_properties(sender_netwake PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
