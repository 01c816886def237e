# The WebExtension's manifest against the least-privilege list (spec/AGENT.md, "Browser").
add_test(NAME browser_manifest
         COMMAND ${STINT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/browser_manifest.py
                 ${PROJECT_SOURCE_DIR}/browser/extension)
