# The journal's figures (issue 4): append per durability policy, drain, bytes/record, disk given
# back, RSS at 1,000,000 records, and the disk's own fsync rate.
stint_bench(bench_journal ${CMAKE_CURRENT_LIST_DIR}/bench_journal.c LIBS stint_agent_core)
