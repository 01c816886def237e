# stint-collector under load: N agents over keep-alive TLS (libcurl multi), batches of 1, 100 and
# 1,000 records; batches/s, records/s, p50/p99 latency, server RSS.
if(TARGET stint-collector)
  find_package(CURL REQUIRED)
  stint_bench(bench_collector ${CMAKE_CURRENT_LIST_DIR}/bench_collector.c
              LIBS CURL::libcurl)
  target_compile_definitions(bench_collector PRIVATE
    STINT_COLLECTOR_BIN="$<TARGET_FILE:stint-collector>")
  add_dependencies(bench_collector stint-collector)
endif()
