# Each man page against its program's --help (tests/integration/man_help.py, man/README.md).
# A page whose program is left out of this build (STINT_SKIP) is not checked.
set(man_pairs "")
foreach(pair "stintd.1:stintd" "stintctl.1:stintctl" "stint-collector.8:stint-collector"
             "stint-codec.1:stint-codec" "stint-conformance.1:stint-conformance"
             "stint-tray.1:stint-tray" "stint-browser-host.1:stint-browser-host")
  string(REPLACE ":" ";" pair ${pair})
  list(GET pair 0 page)
  list(GET pair 1 program)
  if(TARGET ${program})
    list(APPEND man_pairs ${PROJECT_SOURCE_DIR}/man/${page}.scd=$<TARGET_FILE:${program}>)
  endif()
endforeach()
if(TARGET stintd)
  list(APPEND man_pairs --ini ${PROJECT_SOURCE_DIR}/man/stint-agent.ini.5.scd=$<TARGET_FILE:stintd>)
endif()
add_test(NAME man_help COMMAND ${STINT_PYTHON} ${PROJECT_SOURCE_DIR}/tests/integration/man_help.py
                               ${man_pairs})
