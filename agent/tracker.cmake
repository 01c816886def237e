# The tracker and its sources (issue 7): the tracker, the source table and the JSONL source, the
# URL cut and the config (libinih). The X11 source joins when xcb and xcb-screensaver are there.
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
target_sources(stint_agent_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/url.c
  ${CMAKE_CURRENT_LIST_DIR}/config.c
  ${CMAKE_CURRENT_LIST_DIR}/source.c
  ${CMAKE_CURRENT_LIST_DIR}/source_jsonl.c
  ${CMAKE_CURRENT_LIST_DIR}/tracker.c)
target_link_libraries(stint_agent_core PUBLIC PkgConfig::INIH PkgConfig::JANSSON)
