# Every example of the spec is checked (tests/spec/check_examples.py: fenced blocks annotated
# `example=KIND`, run through stint-codec validate or sent to a fresh stint-collector), the checker
# is shown to fail on broken examples, and every conformance case is in the spec's tables.
if(TARGET stint-codec AND TARGET stint-collector)
  set(STINT_SPEC_KIT "")
  if(TARGET stint-conformance)
    set(STINT_SPEC_KIT $<TARGET_FILE:stint-conformance>)
  endif()
  add_test(NAME spec_examples
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/spec/test_spec_examples.sh ${STINT_PYTHON}
                   ${PROJECT_SOURCE_DIR} $<TARGET_FILE:stint-codec>
                   $<TARGET_FILE:stint-collector> ${STINT_SPEC_KIT})
  set_tests_properties(spec_examples PROPERTIES TIMEOUT 120)
endif()

# Every §N/§N.M reference, link and file name in spec/*.md and README.md resolves, and a
# reference that names a title names the right one (tests/spec/check_refs.py); the check is
# shown to fail on each broken fixture of tests/spec/ref-fixtures/.
add_test(NAME spec_refs
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/spec/test_spec_refs.sh ${STINT_PYTHON}
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(spec_refs PROPERTIES TIMEOUT 60)

# Every default and limit the spec states is the code's (tests/spec/check_defaults.py), shown
# to fail on copies of the spec with one value changed.
add_test(NAME spec_defaults
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/spec/test_spec_defaults.sh ${STINT_PYTHON}
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(spec_defaults PROPERTIES TIMEOUT 60)
