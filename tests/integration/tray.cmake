# stint-tray (issue 22): the test plays the tray host on a private session bus
# (dbus-run-session, from Debian's dbus-daemon) against a real stintd: tray_host.py. The
# screenshot test runs a real SNI host under Xvfb when one is installed: tray_screenshot.sh.
if(TARGET stint-tray AND TARGET stintd AND TARGET stintctl)
  find_program(DBUS_RUN_SESSION dbus-run-session)
  if(DBUS_RUN_SESSION)
    add_test(NAME tray_host
             COMMAND ${DBUS_RUN_SESSION} -- ${STINT_PYTHON}
                     ${CMAKE_CURRENT_LIST_DIR}/tray_host.py $<TARGET_FILE:stintd>
                     $<TARGET_FILE:stintctl> $<TARGET_FILE:stint-tray>
                     ${PROJECT_SOURCE_DIR}/tray/icons
                     "$<$<TARGET_EXISTS:stint-collector>:$<TARGET_FILE:stint-collector>>")
    # The icon must change within 1 s of stintd's exit; sanitizer builds get more room.
    if(STINT_SANITIZE)
      set(tray_env STINT_TRAY_ICON_LIMIT_S=3)
    else()
      set(tray_env STINT_TRAY_ICON_LIMIT_S=1)
    endif()
    set_tests_properties(tray_host PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
                         ENVIRONMENT "${tray_env}")
  endif()
endif()
if(TARGET stint-tray AND TARGET stintd AND TARGET stintctl)
  # Images kept as artefacts: build/.../tests/artefacts/tray-{stopped,recording,private}.png
  add_test(NAME tray_screenshot
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/tray_screenshot.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl> $<TARGET_FILE:stint-tray>
                   ${PROJECT_SOURCE_DIR}/tray/icons ${CMAKE_BINARY_DIR}/tests/artefacts)
  set_tests_properties(tray_screenshot PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
