# The tracker and its sources (issue 7): tracker, url, config, the JSONL source and, when the xcb
# development packages are there, the X11 source. libinih for the config.
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
target_sources(stint_agent_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/url.c
  ${CMAKE_CURRENT_LIST_DIR}/config.c)
target_link_libraries(stint_agent_core PUBLIC PkgConfig::INIH)
