# The compatibility gate of the wire format (spec/PROTOCOL.md, "Versioning and compatibility"):
# the .proto files against the released descriptor, the spec's version and changelog (what must
# be bumped), and the gate shown to fail on each kind of breaking change and missing bump.
add_test(NAME compat_gate
         COMMAND ${STINT_PYTHON} ${PROJECT_SOURCE_DIR}/tests/compat/check_compat.py
                 --proto-dir ${PROJECT_SOURCE_DIR}/proto --proto stint/v1/stint.proto
                 --released ${PROJECT_SOURCE_DIR}/spec/released/stint-v1.0.descriptor.txt
                 --spec ${PROJECT_SOURCE_DIR}/spec/PROTOCOL.md)
add_test(NAME compat_gate_mutants
         COMMAND ${PROJECT_SOURCE_DIR}/tests/compat/test_compat.sh ${STINT_PYTHON}
                 ${PROJECT_SOURCE_DIR})
