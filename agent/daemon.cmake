# stintd: the daemon's wiring and loop (daemon.c, in the core library so tests can drive it) and
# its main (stintd.c). stint_agent_core already links libcurl (the sender) and jansson (control).
target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/daemon.c
  ${CMAKE_CURRENT_LIST_DIR}/commands.c)
add_executable(stintd ${CMAKE_CURRENT_LIST_DIR}/stintd.c)
target_compile_options(stintd PRIVATE ${STINT_WARNINGS})
target_link_libraries(stintd PRIVATE stint_agent_core)
install(TARGETS stintd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
