# Legacy shapes (codec/legacy*.c): sample vectors, exact bytes, mapping, round trips, readers'
# variants, malformed inputs, limits, allocation failures. The PHP comparison is in
# tests/integration/legacy.cmake.
stint_unit_test(test_legacy ${CMAKE_CURRENT_LIST_DIR}/test_legacy.c
                ${PROJECT_SOURCE_DIR}/tests/legacy/random_batch.c LIBS PkgConfig::JANSSON)
target_include_directories(test_legacy PRIVATE ${PROJECT_SOURCE_DIR}/tests/legacy)
