# The tracker and its sources (issue 7): the tracker, the source table and the JSONL source, the
# URL cut and the config (libinih). The X11 source joins when xcb and xcb-screensaver are there.
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
# filters.c: title patterns (issue 18)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# jsonl_event.c: the JSONL source's event lines, on yajl's event parser (measured in that file)
pkg_check_modules(YAJL REQUIRED IMPORTED_TARGET yajl)
target_sources(stint_agent_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/url.c
  ${CMAKE_CURRENT_LIST_DIR}/config.c
  ${CMAKE_CURRENT_LIST_DIR}/filters.c
  ${CMAKE_CURRENT_LIST_DIR}/ctext.c
  ${CMAKE_CURRENT_LIST_DIR}/source.c
  ${CMAKE_CURRENT_LIST_DIR}/jsonl_event.c
  ${CMAKE_CURRENT_LIST_DIR}/source_jsonl.c
  ${CMAKE_CURRENT_LIST_DIR}/tracker.c)
target_link_libraries(stint_agent_core PUBLIC PkgConfig::INIH PkgConfig::JANSSON PkgConfig::PCRE2
                      PkgConfig::YAJL)
pkg_check_modules(XCB IMPORTED_TARGET xcb xcb-screensaver)
if(XCB_FOUND)
  set(STINT_HAVE_X11 ON CACHE INTERNAL "stintd has the X11 source")
  target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/source_x11.c)
  target_compile_definitions(stint_agent_core PRIVATE STINT_HAVE_X11)
  target_link_libraries(stint_agent_core PUBLIC PkgConfig::XCB)
else()
  set(STINT_HAVE_X11 OFF CACHE INTERNAL "stintd has the X11 source")
  message(STATUS "agent: no xcb/xcb-screensaver, stintd is built without the X11 source")
endif()
