# The journal: a crash-proof, bounded record queue on LevelDB (Debian's libleveldb-dev has no
# pkg-config file, so it is found by hand).
find_path(LEVELDB_INCLUDE_DIR leveldb/c.h REQUIRED)
find_library(LEVELDB_LIBRARY leveldb REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
target_sources(stint_agent_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/journal.c
  ${CMAKE_CURRENT_LIST_DIR}/history.c
  ${CMAKE_CURRENT_LIST_DIR}/journal_lock.c)
target_include_directories(stint_agent_core PRIVATE ${LEVELDB_INCLUDE_DIR})
target_link_libraries(stint_agent_core PUBLIC ${LEVELDB_LIBRARY} Threads::Threads ZLIB::ZLIB)
