# The conformance kit (conformance/) and its proofs. Until `conformance` joins the component list
# of the top-level CMakeLists.txt, the kit's folder is added from here.
if(NOT TARGET stint-conformance AND EXISTS ${PROJECT_SOURCE_DIR}/conformance/CMakeLists.txt)
  add_subdirectory(${PROJECT_SOURCE_DIR}/conformance ${CMAKE_BINARY_DIR}/conformance)
endif()
