# The journal (agent/journal.c) on real LevelDB in temporary folders.
stint_unit_test(test_journal ${CMAKE_CURRENT_LIST_DIR}/test_journal.c
  LIBS stint_agent_core ${LEVELDB_LIBRARY})
# the same tests with the CRC-32C table instead of the SSE4.2 instruction (same bytes on disk)
add_test(NAME test_journal_soft_crc COMMAND test_journal)
set_tests_properties(test_journal_soft_crc PROPERTIES ENVIRONMENT STINT_JOURNAL_SOFT_CRC=1)
