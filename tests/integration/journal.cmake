# The journal under kill -9, byte damage and a full disk: C drivers run by ctest.
function(stint_journal_driver name)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_compile_options(${name} PRIVATE ${STINT_WARNINGS})
  target_link_libraries(${name} PRIVATE stint_agent_core ${LEVELDB_LIBRARY})
endfunction()

stint_journal_driver(journal_crash)
add_test(NAME journal_crash_always COMMAND journal_crash always 200)
add_test(NAME journal_crash_interval COMMAND journal_crash interval 200)
# group commit: 128 records and a source position per write, as the tracker appends a burst
add_test(NAME journal_crash_group COMMAND journal_crash interval:128 100)
set_tests_properties(journal_crash_always journal_crash_interval journal_crash_group
                     PROPERTIES TIMEOUT 600)

stint_journal_driver(journal_corrupt)
add_test(NAME journal_corrupt COMMAND journal_corrupt 140)
# regressions: a flipped key length inside a log record, copied unchecked by leveldb_repair_db,
# left a malformed key among the records that ended every read there (seqs after it never sent)
add_test(NAME journal_corrupt_junk_key_a COMMAND journal_corrupt 140 1796280634)
add_test(NAME journal_corrupt_junk_key_b COMMAND journal_corrupt 140 1796293489)
# the base journal written by group commit: 128 records and a position per append
add_test(NAME journal_corrupt_group COMMAND journal_corrupt 140 - 128)
set_tests_properties(journal_corrupt journal_corrupt_junk_key_a journal_corrupt_junk_key_b
                     journal_corrupt_group PROPERTIES TIMEOUT 600)

stint_journal_driver(journal_diskfull)
add_test(NAME journal_diskfull_tmpfs COMMAND journal_diskfull tmpfs)
add_test(NAME journal_diskfull_fsize COMMAND journal_diskfull fsize)
# 77: no permission to mount a tmpfs here (not root): reported as skipped, the fsize test still runs
set_tests_properties(journal_diskfull_tmpfs PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
set_tests_properties(journal_diskfull_fsize PROPERTIES TIMEOUT 300)
add_test(NAME journal_diskfull_tmpfs_interval COMMAND journal_diskfull tmpfs interval)
set_tests_properties(journal_diskfull_tmpfs_interval PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
