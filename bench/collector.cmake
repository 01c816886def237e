# stint-collector under load: N agents over keep-alive TLS (libcurl multi), batches of 1, 100 and
# 1,000 records; batches/s, records/s, p50/p99 latency, server RSS, bytes per record; the LevelDB
# store and the PostgreSQL store (both ways of ingesting) on a PostgreSQL 15 started for the run.
if(TARGET stint-collector)
  find_package(CURL REQUIRED)
  pkg_check_modules(BENCH_LIBPQ REQUIRED IMPORTED_TARGET libpq)
  stint_bench(bench_collector ${CMAKE_CURRENT_LIST_DIR}/bench_collector.c
              LIBS CURL::libcurl PkgConfig::BENCH_LIBPQ ARGS --store auto)
  target_compile_definitions(bench_collector PRIVATE
    STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
  add_dependencies(bench_collector stint-collector)
endif()
