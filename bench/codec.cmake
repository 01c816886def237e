# v1 codec: ns per record through nanopb, protobuf-c and JSON, beside the libraries' own cost.
stint_bench(bench_codec ${CMAKE_CURRENT_LIST_DIR}/bench_codec.c)
target_include_directories(bench_codec PRIVATE ${STINT_GEN_DIR}/nanopb ${STINT_GEN_DIR}/ref)
