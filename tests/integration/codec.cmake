# The codec from the outside: the stint-codec CLI, and installing libstint-codec.
add_test(NAME codec_cli
         COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/test_codec_cli.sh
                 $<TARGET_FILE:stint-codec> ${PROJECT_SOURCE_DIR}/spec/vectors)
if(NOT STINT_SANITIZE)
  # The installed library is the plain one; a sanitized one would need the runtime too.
  add_test(NAME codec_install
           COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/test_install.sh ${CMAKE_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER})
endif()
