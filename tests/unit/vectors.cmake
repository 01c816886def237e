# Golden vectors (spec/vectors): our encoders and decoders, and Google's implementation.
set(VEC_DIR ${PROJECT_SOURCE_DIR}/tests/vectors)
add_executable(gen_vectors ${VEC_DIR}/gen_vectors.c ${VEC_DIR}/cases.c)
target_compile_options(gen_vectors PRIVATE ${STINT_WARNINGS})
target_link_libraries(gen_vectors PRIVATE stint_codec)
add_test(NAME vectors COMMAND gen_vectors --check ${PROJECT_SOURCE_DIR}/spec/vectors)
add_test(NAME vectors_google
         COMMAND ${STINT_PYTHON} ${VEC_DIR}/check_google.py ${PROJECT_SOURCE_DIR}/proto
                 ${PROJECT_SOURCE_DIR}/spec/vectors)
