# The Wayland source (issue 20): agent/source_wayland.c over wlroots' foreign toplevel protocol
# and the two idle protocols. Client glue is generated at build time by wayland-scanner from the
# protocol descriptions: ours in agent/protocols/ (Debian packages no wlr-protocols, and KDE's
# idle protocol ships only with Plasma), ext-idle-notify from Debian's wayland-protocols.
# sway's IPC (the pid of the focused window): plain sockets and jansson, built everywhere so that
# its fuzz harness (fuzz/fuzz_sway_tree.c) links in every build.
target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/sway_ipc.c)
pkg_check_modules(WAYLAND_CLIENT IMPORTED_TARGET wayland-client)
pkg_get_variable(WAYLAND_SCANNER wayland-scanner wayland_scanner)
pkg_get_variable(WAYLAND_PROTOCOLS_DIR wayland-protocols pkgdatadir)
set(STINT_EXT_IDLE_XML ${WAYLAND_PROTOCOLS_DIR}/staging/ext-idle-notify/ext-idle-notify-v1.xml)
if(WAYLAND_CLIENT_FOUND AND WAYLAND_SCANNER AND EXISTS ${STINT_EXT_IDLE_XML})
  set(STINT_HAVE_WAYLAND ON CACHE INTERNAL "stintd has the Wayland source")
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/protocols)
  file(MAKE_DIRECTORY ${gen})
  set(glue)
  foreach(xml ${CMAKE_CURRENT_LIST_DIR}/protocols/wlr-foreign-toplevel-management-unstable-v1.xml
              ${CMAKE_CURRENT_LIST_DIR}/protocols/kde-idle.xml ${STINT_EXT_IDLE_XML})
    get_filename_component(base ${xml} NAME_WE)
    add_custom_command(
      OUTPUT ${gen}/${base}-client-protocol.h ${gen}/${base}-protocol.c
      COMMAND ${WAYLAND_SCANNER} client-header ${xml} ${gen}/${base}-client-protocol.h
      COMMAND ${WAYLAND_SCANNER} private-code ${xml} ${gen}/${base}-protocol.c
      DEPENDS ${xml}
      COMMENT "wayland-scanner ${base}")
    list(APPEND glue ${gen}/${base}-client-protocol.h ${gen}/${base}-protocol.c)
  endforeach()
  target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/source_wayland.c ${glue})
  target_include_directories(stint_agent_core SYSTEM PRIVATE ${gen}) # generated: not our warnings
  target_compile_definitions(stint_agent_core PRIVATE STINT_HAVE_WAYLAND)
  target_link_libraries(stint_agent_core PUBLIC PkgConfig::WAYLAND_CLIENT)
else()
  set(STINT_HAVE_WAYLAND OFF CACHE INTERNAL "stintd has the Wayland source")
  message(STATUS "agent: no wayland-client/wayland-scanner/wayland-protocols, "
                 "stintd is built without the Wayland source")
endif()
