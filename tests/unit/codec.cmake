# Codec: model, UTF-8, protobuf (both implementations), JSON, vectors.
stint_unit_test(test_utf8 ${CMAKE_CURRENT_LIST_DIR}/test_utf8.c)
stint_unit_test(test_record ${CMAKE_CURRENT_LIST_DIR}/test_record.c)
