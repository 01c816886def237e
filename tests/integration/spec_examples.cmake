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
