# The control socket server (agent/control.c): line-delimited JSON over a Unix socket, through
# jansson. stintd and stintctl speak it; spec/CONTROL.md is the protocol.
target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/control.c)
target_link_libraries(stint_agent_core PUBLIC PkgConfig::JANSSON)
