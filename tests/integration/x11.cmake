# The X11 source under Xvfb with xterm windows (tests/integration/x11_test.sh): with openbox (EWMH,
# _NET_ACTIVE_WINDOW) and without a window manager (the core input focus).
if(TARGET stint_agent_core AND STINT_HAVE_X11)
  add_executable(x11_driver ${CMAKE_CURRENT_LIST_DIR}/x11_driver.c)
  target_compile_options(x11_driver PRIVATE ${STINT_WARNINGS})
  target_link_libraries(x11_driver PRIVATE stint_agent_core ${LEVELDB_LIBRARY})
  add_test(NAME x11_source
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/x11_test.sh $<TARGET_FILE:x11_driver>)
  add_test(NAME x11_source_nowm
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/x11_test.sh $<TARGET_FILE:x11_driver> nowm)
  set_tests_properties(x11_source x11_source_nowm PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
