# The journal: a crash-proof, bounded record queue on LevelDB (Debian's libleveldb-dev has no
# pkg-config file, so it is found by hand).
find_path(LEVELDB_INCLUDE_DIR leveldb/c.h REQUIRED)
find_library(LEVELDB_LIBRARY leveldb REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
target_sources(stint_agent_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/journal/append.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/bounds.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/dead.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/format.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/maint.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/mark.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/open.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/purge.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/read.c
  ${CMAKE_CURRENT_LIST_DIR}/journal/recover.c
  ${CMAKE_CURRENT_LIST_DIR}/journal_lock.c)
target_include_directories(stint_agent_core PRIVATE ${LEVELDB_INCLUDE_DIR})
target_link_libraries(stint_agent_core PUBLIC ${LEVELDB_LIBRARY} Threads::Threads ZLIB::ZLIB)
