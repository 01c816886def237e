# stint-browser-host (browser/host/): framing, message validation, forwarding, and the binary.
stint_unit_test(test_browser_host ${CMAKE_CURRENT_LIST_DIR}/test_browser_host.c
  LIBS stint_browser_host_core)
target_compile_definitions(test_browser_host PRIVATE
  STINT_BROWSER_HOST_BIN="$<TARGET_FILE:stint-browser-host>")
add_dependencies(test_browser_host stint-browser-host)
set_tests_properties(test_browser_host PROPERTIES TIMEOUT 120)
# Window samples merged with browser reports, through a real tracker and journal.
stint_unit_test(test_browser_merge ${CMAKE_CURRENT_LIST_DIR}/test_browser_merge.c
  LIBS stint_agent_core ${LEVELDB_LIBRARY})
# Chromium's id for an unpacked extension folder (stintctl browser install --chromium).
if(TARGET stintctl)
  stint_unit_test(test_chromium_id ${CMAKE_CURRENT_LIST_DIR}/test_chromium_id.c
    ${PROJECT_SOURCE_DIR}/ctl/chromium_id.c LIBS PkgConfig::NETTLE)
  target_include_directories(test_chromium_id PRIVATE ${PROJECT_SOURCE_DIR}/ctl)
endif()
