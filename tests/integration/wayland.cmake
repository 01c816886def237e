# The Wayland source under a headless sway 1.7 with foot windows (tests/integration/wayland_test.sh,
# issue 20), run by a generic source driver (source_driver.c) that also serves the D-Bus source's
# test (gnome.cmake).
if(TARGET stint_agent_core)
  add_executable(source_driver ${CMAKE_CURRENT_LIST_DIR}/source_driver.c)
  target_compile_options(source_driver PRIVATE ${STINT_WARNINGS})
  target_link_libraries(source_driver PRIVATE stint_agent_core ${LEVELDB_LIBRARY})
endif()
if(TARGET stint_agent_core AND STINT_HAVE_WAYLAND)
  add_test(NAME wayland_source
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/wayland_test.sh $<TARGET_FILE:source_driver>)
  set_tests_properties(wayland_source PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77 RUN_SERIAL ON)
endif()
# The D-Bus source against a private session bus and a stand-in for the desktop helpers
# (desktop_mock.c), with stintd and stintctl for `source = auto` and the status (gnome_test.sh).
if(TARGET stint_agent_core AND STINT_HAVE_SDBUS)
  add_executable(desktop_mock ${CMAKE_CURRENT_LIST_DIR}/desktop_mock.c)
  target_compile_options(desktop_mock PRIVATE ${STINT_WARNINGS})
  target_link_libraries(desktop_mock PRIVATE PkgConfig::LIBSYSTEMD)
  add_test(NAME gnome_source
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/gnome_test.sh $<TARGET_FILE:source_driver>
                   $<TARGET_FILE:desktop_mock> $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>)
  set_tests_properties(gnome_source PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()
# The desktop helpers (desktop/): syntax, manifests and the D-Bus contract against source_gnome.c.
add_test(NAME desktop_helpers
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/desktop_helpers_test.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(desktop_helpers PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77)
# The GNOME Shell extension inside a real headless GNOME Shell, read by the gnome source
# (gnome_shell_test.sh); skipped where gnome-shell is not installed.
if(TARGET source_driver AND STINT_HAVE_SDBUS)
  add_test(NAME gnome_shell
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/gnome_shell_test.sh $<TARGET_FILE:source_driver>
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(gnome_shell PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77 RUN_SERIAL ON)
endif()
