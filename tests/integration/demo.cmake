# `make demo` as a test: the demo against this build's binaries (DEMO_BUILD), which must end with
# "VERDICT: PASS" and exit 0, in under a minute, leaving no process of its own behind (its temporary
# folder is unique, so demos of other checkouts running at the same time are not counted).
if(TARGET stintd AND TARGET stintctl AND TARGET stint-collector)
  find_program(STINT_MAKE NAMES make gmake)
  if(STINT_MAKE)
    add_test(NAME demo
             COMMAND sh -c "out=$(\"$0\" -s -C \"$1\" --no-print-directory demo DEMO_BUILD=\"$2\" 2>&1); rc=$?; printf '%s\\n' \"$out\"; [ $rc -eq 0 ] || exit 1; printf '%s\\n' \"$out\" | grep -q '^VERDICT: PASS' || exit 1; d=$(printf '%s\\n' \"$out\" | sed -n 's|.*(journal: \\(/tmp/stint-demo-[A-Za-z0-9]*\\)/journal).*|\\1|p' | head -n 1); [ -n \"$d\" ] || exit 1; ! pgrep -f \"$d\" >/dev/null"
                     ${STINT_MAKE} ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR})
    set_tests_properties(demo PROPERTIES TIMEOUT 120 DEPENDS "")
  endif()
endif()
