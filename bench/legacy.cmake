# Legacy shapes: emit and decode ns per record and bytes per record (php, php-serialize,
# legacy-json, form), with the v1 protobuf batch of the same records as the reference row.
stint_bench(bench_legacy ${CMAKE_CURRENT_LIST_DIR}/bench_legacy.c LIBS PkgConfig::JANSSON)
