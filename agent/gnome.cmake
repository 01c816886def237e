# The D-Bus source for GNOME and KDE (issue 20): agent/source_gnome.c reads what the desktop
# helpers in desktop/ publish on the session bus, through sd-bus (libsystemd).
pkg_check_modules(LIBSYSTEMD IMPORTED_TARGET GLOBAL libsystemd) # GLOBAL: tests link it too
if(LIBSYSTEMD_FOUND)
  set(STINT_HAVE_SDBUS ON CACHE INTERNAL "stintd has the gnome (D-Bus) source")
  target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/source_gnome.c)
  target_compile_definitions(stint_agent_core PRIVATE STINT_HAVE_SDBUS)
  target_link_libraries(stint_agent_core PUBLIC PkgConfig::LIBSYSTEMD)
else()
  set(STINT_HAVE_SDBUS OFF CACHE INTERNAL "stintd has the gnome (D-Bus) source")
  message(STATUS "agent: no libsystemd, stintd is built without the gnome (D-Bus) source")
endif()
