# Several sources at once (issue 17): the window source's samples merged with the browser
# extension's reports (agent/browser_merge.c); the reports come over the control socket.
target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/browser_merge.c)
