# The control socket server (agent/control.c) against a fake daemon, over real Unix sockets.
stint_unit_test(test_control ${CMAKE_CURRENT_LIST_DIR}/test_control.c LIBS stint_agent_core)
