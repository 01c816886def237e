# Installing (tests/packaging/): `make install` from a fresh copy of the tree, from a used build
# folder and from a moved tree (three builds of what is installed, a minute or two), checking
# the installed units name the installed binaries. Plain build only: it builds its own copies.
# The Debian packages' test (tests/packaging/deb_test.sh) installs packages on the machine, so
# it runs in CI (.ci/run) and by hand (`make deb-test`), not in every `make test`.
if(NOT STINT_SANITIZE)
  add_test(NAME packaging_install
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/packaging/install_test.sh ${PROJECT_SOURCE_DIR}
                   ${CMAKE_C_COMPILER})
  set_tests_properties(packaging_install PROPERTIES TIMEOUT 1800 LABELS packaging)
  # The installed user unit started by a real systemd user manager (as nobody, root needed to
  # delegate a cgroup; skipped where that cannot be done).
  add_test(NAME packaging_user_unit
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/packaging/user_unit_test.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(packaging_user_unit PROPERTIES TIMEOUT 600 LABELS packaging
                       SKIP_RETURN_CODE 77)
  # The installed collector system unit started by a systemd system manager booted in
  # namespaces of its own (root needed; skipped where that cannot be done).
  add_test(NAME packaging_system_unit
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/packaging/system_unit_test.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(packaging_system_unit PROPERTIES TIMEOUT 600 LABELS packaging
                       SKIP_RETURN_CODE 77)
endif()
