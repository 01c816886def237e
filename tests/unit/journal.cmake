# The journal (agent/journal/) on real LevelDB in temporary folders.
stint_unit_test(test_journal ${CMAKE_CURRENT_LIST_DIR}/test_journal.c
  LIBS stint_agent_core ${LEVELDB_LIBRARY})
