# common/: clocks, big-endian integers, strict numbers, media types and the logging facility.
stint_unit_test(test_common ${CMAKE_CURRENT_LIST_DIR}/test_common.c LIBS stint_common)
