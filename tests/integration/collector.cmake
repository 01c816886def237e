# stint-collector from the outside: the real server on a free loopback port with a certificate
# made at test time (openssl CLI), driven with libcurl (collector_e2e.c): TLS, pb/JSON/gzip,
# replays, rejections, limits, auth and isolation, delete, every fault kind, the admin endpoint,
# dump/stats while serving, and restarts (clean and killed) with nothing acknowledged lost.
if(TARGET stint-collector)
  find_package(CURL REQUIRED)
  stint_unit_test(collector_e2e ${CMAKE_CURRENT_LIST_DIR}/collector_e2e.c
                  LIBS CURL::libcurl stint_collector_core)
  target_compile_definitions(collector_e2e PRIVATE
    STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
  add_dependencies(collector_e2e stint-collector)
  set_tests_properties(collector_e2e PROPERTIES TIMEOUT 240)
endif()

# The store under a failing disk (collector_diskfault.c): a full tmpfs (root: mount; skipped
# otherwise) and RLIMIT_FSIZE, four stint-send-test agents, SIGTERM and SIGKILL restarts, a
# DELETE during the spell; every acknowledged record once, the deletion kept.
if(TARGET stint-collector) # stint_sender_support and stint-send-test: sender.cmake
  find_package(CURL REQUIRED)
  add_executable(collector_diskfault ${CMAKE_CURRENT_LIST_DIR}/collector_diskfault.c)
  target_compile_options(collector_diskfault PRIVATE ${STINT_WARNINGS})
  target_compile_definitions(collector_diskfault PRIVATE
    STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
  target_link_libraries(collector_diskfault PRIVATE stint_sender_support stint_agent_core
                        CURL::libcurl)
  add_dependencies(collector_diskfault stint-collector stint-send-test)
  foreach(kind tmpfs fsize)
    add_test(NAME collector_diskfault_${kind}
             COMMAND collector_diskfault $<TARGET_FILE:stint-send-test> ${kind})
    set_tests_properties(collector_diskfault_${kind} PROPERTIES TIMEOUT 600
                         SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()

# Hostile clients and the promises of DELETE and --data (collector_hostile.c): malformed heads,
# TLS versions and suites (openssl s_client), 200 unauthenticated 8 MiB uploads against the
# server's RSS, slowloris from one and from 249 addresses, 2,000 idle connections, a slow body,
# deleted bytes searched for in every file under --data, folder and file modes.
if(TARGET stint-collector)
  find_package(CURL REQUIRED)
  stint_unit_test(collector_hostile ${CMAKE_CURRENT_LIST_DIR}/collector_hostile.c
                  LIBS CURL::libcurl stint_collector_core)
  target_compile_definitions(collector_hostile PRIVATE
    STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
  add_dependencies(collector_hostile stint-collector)
  set_tests_properties(collector_hostile PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
endif()

# Several collectors, one truth (collector_fleet.py, under tests/support/with_postgres.sh): three
# collectors on one PostgreSQL 15, eight stint-send-test agents with 503s and lost Acks, one
# collector killed -9 mid-run, the database stopped for 10 s, one agent's batches replayed
# through another collector: every record exactly once, nothing acknowledged that is not
# committed.
if(TARGET stint-collector) # stint-send-test: sender.cmake
  add_test(NAME collector_fleet_pg
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/support/with_postgres.sh
                   python3 ${CMAKE_CURRENT_LIST_DIR}/collector_fleet.py
                   $<TARGET_FILE:stint-collector> $<TARGET_FILE:stint-send-test>)
  set_tests_properties(collector_fleet_pg PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77)
endif()

# The schema's upgrade (collector_pg_migrate.py, under tests/support/with_postgres.sh): a version 1
# database holding real records and Acks is refused by serve, survives a failed migration
# unchanged, is upgraded by `stint-collector migrate` (hash partitions) with every record there
# once, and then serves.
if(TARGET stint-collector)
  add_test(NAME collector_pg_migrate
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/support/with_postgres.sh
                   python3 ${CMAKE_CURRENT_LIST_DIR}/collector_pg_migrate.py
                   $<TARGET_FILE:stint-collector> $<TARGET_FILE:stint-send-test>)
  set_tests_properties(collector_pg_migrate PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
