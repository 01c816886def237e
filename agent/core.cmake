# Shared by every agent module.
target_sources(stint_agent_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/version.c)
target_compile_definitions(stint_agent_core PRIVATE STINT_VERSION="${PROJECT_VERSION}")
