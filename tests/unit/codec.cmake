# Codec: model, UTF-8, protobuf (both implementations), JSON, vectors.
stint_unit_test(test_utf8 ${CMAKE_CURRENT_LIST_DIR}/test_utf8.c)
stint_unit_test(test_record ${CMAKE_CURRENT_LIST_DIR}/test_record.c)
stint_unit_test(test_pb ${CMAKE_CURRENT_LIST_DIR}/test_pb.c)
stint_unit_test(test_json ${CMAKE_CURRENT_LIST_DIR}/test_json.c)
stint_unit_test(test_json_suite ${CMAKE_CURRENT_LIST_DIR}/test_json_suite.c)
stint_unit_test(test_limits ${CMAKE_CURRENT_LIST_DIR}/test_limits.c)
stint_unit_test(test_alloc ${CMAKE_CURRENT_LIST_DIR}/test_alloc.c
                LIBS -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
