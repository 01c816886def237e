# stintd and stintctl from the outside (issue 7): the control socket through stintctl and raw
# requests (agent_control.py; the other-uid cases run as root, else skipped; the X11 source under
# Xvfb, skipped without Xvfb or xcb), and the end-to-end
# run through kill -9 and server faults (agent_e2e.py), checked against agent_replay, which runs
# the same source and tracker over the whole file once.
if(TARGET stintd AND TARGET stintctl)
  # SIGTERM must stop stintd within 2 s; ASan+UBSan builds spend about a second more at exit.
  if(STINT_SANITIZE)
    set(agent_stop_env STINT_STOP_LIMIT_S=4)
  else()
    set(agent_stop_env STINT_STOP_LIMIT_S=2)
  endif()
  add_executable(agent_replay ${CMAKE_CURRENT_LIST_DIR}/agent_replay.c)
  target_compile_options(agent_replay PRIVATE ${STINT_WARNINGS})
  target_link_libraries(agent_replay PRIVATE stint_agent_core)

  set(agent_collector "")
  if(TARGET stint-collector)
    set(agent_collector $<TARGET_FILE:stint-collector>)
  endif()
  add_test(NAME agent_control
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/agent_control.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl> ${agent_collector})
  set_tests_properties(agent_control PROPERTIES TIMEOUT 240 ENVIRONMENT ${agent_stop_env})
  add_test(NAME agent_control_other_uid
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/agent_control.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl> --other-uid)
  set_tests_properties(agent_control_other_uid PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                       ENVIRONMENT ${agent_stop_env})
  add_test(NAME agent_x11
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/agent_control.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl> --x11)
  set_tests_properties(agent_x11 PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                       ENVIRONMENT ${agent_stop_env})

  if(TARGET stint-collector)
    add_test(NAME agent_e2e_kill9
             COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/agent_e2e.py
                     $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>
                     $<TARGET_FILE:stint-collector> $<TARGET_FILE:agent_replay> 20000 25)
    set_tests_properties(agent_e2e_kill9 PROPERTIES TIMEOUT 600 ENVIRONMENT ${agent_stop_env})
  endif()
endif()

# One source of truth for the defaults (issue 14): stintd --help (from config.c's key table),
# packaging/agent.ini.example, spec/AGENT.md 8.1, spec/PROTOCOL.md 7.1/7.3 and sender.h agree.
if(TARGET stintd)
  add_test(NAME defaults_agree
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/defaults_agree.py
                   $<TARGET_FILE:stintd> ${PROJECT_SOURCE_DIR})
endif()

# stintd loses nothing and leaks nothing (issue 14): a full disk, purge at every moment, a wrong
# server URL, setup errors, another local user. The disk-full and hardening modes need root
# (tmpfs, useradd, another uid) and report skipped (77) otherwise.
if(TARGET stintd AND TARGET stintctl AND TARGET stint-collector)
  foreach(mode setup misconfig purge diskfull-jsonl diskfull-stdin diskfull-purge hardening)
    string(REPLACE "-" "_" tname "agent_promises_${mode}")
    add_test(NAME ${tname}
             COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/agent_promises.py ${mode}
                     $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>
                     $<TARGET_FILE:stint-collector> $<TARGET_FILE:agent_replay>)
    set_tests_properties(${tname} PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77
                         ENVIRONMENT ${agent_stop_env})
  endforeach()
endif()

# [filters] keep what they match out of the journal and the server (issue 18).
if(TARGET stintd AND TARGET stintctl AND TARGET stint-collector)
  add_test(NAME agent_filters
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/agent_filters.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>
                   $<TARGET_FILE:stint-collector> $<TARGET_FILE:agent_replay>)
  set_tests_properties(agent_filters PROPERTIES TIMEOUT 300 ENVIRONMENT ${agent_stop_env})
endif()

# stintctl report adds up a known day exactly (issue 18).
if(TARGET stintctl)
  add_test(NAME report_day
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/report_day.py $<TARGET_FILE:stintctl>
                   ${PROJECT_SOURCE_DIR}/tests/data/report-day.jsonl)
endif()

# stintctl report --html in headless Chromium at laptop and phone sizes; screenshots kept in
# the build folder, report-artefacts/ (issue 18).
if(TARGET stintctl)
  add_test(NAME report_html
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/report_html.py $<TARGET_FILE:stintctl>
                   ${PROJECT_SOURCE_DIR}/tests/data/report-day.jsonl
                   ${CMAKE_BINARY_DIR}/report-artefacts)
  set_tests_properties(report_html PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()

# The local history: reported from stintd, kept across a restart, never resent, purged to the
# bytes, 0 keeps none, history_max bounds it (spec/AGENT.md §6b).
if(TARGET stintd AND TARGET stintctl AND TARGET stint-collector)
  add_test(NAME agent_history
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/agent_history.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>
                   $<TARGET_FILE:stint-collector> $<TARGET_FILE:agent_replay>)
  set_tests_properties(agent_history PROPERTIES TIMEOUT 600 ENVIRONMENT ${agent_stop_env})
endif()
