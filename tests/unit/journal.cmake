# The journal (agent/journal.c) on real LevelDB in temporary folders.
stint_unit_test(test_journal ${CMAKE_CURRENT_LIST_DIR}/test_journal.c
  LIBS stint_agent_core ${LEVELDB_LIBRARY})
# The history (agent/history.c) through the journal: atomic move on ack, bounds, purge.
stint_unit_test(test_history ${CMAKE_CURRENT_LIST_DIR}/test_history.c
  LIBS stint_agent_core ${LEVELDB_LIBRARY})
