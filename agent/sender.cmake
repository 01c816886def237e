# The sender: replays the journal over HTTPS (libcurl, zlib), with backoff and Retry-After.
find_package(CURL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
target_sources(stint_agent_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/backoff.c
  ${CMAKE_CURRENT_LIST_DIR}/retry_after.c
  ${CMAKE_CURRENT_LIST_DIR}/http.c
  ${CMAKE_CURRENT_LIST_DIR}/sender.c
  ${CMAKE_CURRENT_LIST_DIR}/sender_batch.c)
target_link_libraries(stint_agent_core PUBLIC CURL::libcurl ZLIB::ZLIB Threads::Threads)
