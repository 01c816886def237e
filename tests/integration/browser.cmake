# The WebExtension's manifest against the least-privilege list (spec/AGENT.md, "Browser").
add_test(NAME browser_manifest
         COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/browser_manifest.py
                 ${PROJECT_SOURCE_DIR}/browser/extension)
# stintctl browser install: the manifests per user and system-wide, the computed Chromium id,
# the errors.
if(TARGET stintctl)
  add_test(NAME browser_install
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/browser_install.py
                   $<TARGET_FILE:stintctl> ${PROJECT_SOURCE_DIR}/browser/extension)
  set_tests_properties(browser_install PROPERTIES TIMEOUT 120)
endif()
# Several sources at once, end to end: stintd on "jsonl:FILE, browser" and stint-browser-host
# fed the extension's framed messages, over the real control socket.
if(TARGET stintd AND TARGET stintctl AND TARGET stint-browser-host)
  add_test(NAME browser_agent
           COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/browser_agent.py
                   $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>
                   $<TARGET_FILE:stint-browser-host>)
  set_tests_properties(browser_agent PROPERTIES TIMEOUT 240)
endif()
# Real browsers under Xvfb + openbox with the extension and the host, in both URL modes: tabs,
# an xterm, a private/incognito window; Firefox through its enterprise policy file (skipped
# without the browsers, Xvfb or, for Firefox, root).
if(TARGET stintd AND TARGET stintctl AND TARGET stint-browser-host AND TARGET stint-collector)
  foreach(b chromium firefox-esr)
    foreach(mode host full)
      add_test(NAME browser_real_${b}_${mode}
               COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/browser_real.py
                       $<TARGET_FILE:stintd> $<TARGET_FILE:stintctl>
                       $<TARGET_FILE:stint-browser-host> $<TARGET_FILE:stint-collector>
                       ${PROJECT_SOURCE_DIR}/browser/extension
                       ${PROJECT_BINARY_DIR}/browser/stint-extension.xpi ${b} ${mode})
      set_tests_properties(browser_real_${b}_${mode} PROPERTIES TIMEOUT 400 SKIP_RETURN_CODE 77)
    endforeach()
  endforeach()
endif()
