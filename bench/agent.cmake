# stintd's idle cost (issue 7): CPU, wake-ups and RSS with nothing happening, under Xvfb with the
# X11 source (bench_idle.sh). A script, not a stint_bench program: it measures another process.
if(TARGET stintd)
  add_custom_target(run-bench_idle
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/bench_idle.sh $<TARGET_FILE:stintd> 30
            "$<$<TARGET_EXISTS:stint-collector>:$<TARGET_FILE:stint-collector>>"
            "$<$<TARGET_EXISTS:stint-tray>:$<TARGET_FILE:stint-tray>>"
    DEPENDS stintd USES_TERMINAL VERBATIM)
  if(STINT_BENCH_PREV)
    add_dependencies(run-bench_idle ${STINT_BENCH_PREV})
  endif()
  set(STINT_BENCH_PREV run-bench_idle)
  add_dependencies(run-bench run-bench_idle)
endif()

# What purge costs (issues 13 and 14): time to answer and bytes left, by journal size.
if(TARGET stintd AND TARGET stintctl)
  find_program(STINT_BENCH_PYTHON python3)
  add_custom_target(run-bench_purge
    COMMAND ${STINT_BENCH_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/bench_purge.py $<TARGET_FILE:stintd>
            $<TARGET_FILE:stintctl> 3
    DEPENDS stintd stintctl USES_TERMINAL)
  if(STINT_BENCH_PREV)
    add_dependencies(run-bench_purge ${STINT_BENCH_PREV})
  endif()
  set(STINT_BENCH_PREV run-bench_purge)
  add_dependencies(run-bench run-bench_purge)
endif()

# The whole pipeline: stintd on 1,000,000 JSONL events into stint-collector over
# loopback TLS: live, offline ingest, return after an outage, kill -9 during the drain.
if(TARGET stintd AND TARGET stintctl AND TARGET stint-collector)
  find_program(STINT_BENCH_PYTHON python3)
  add_custom_target(run-bench_pipeline
    COMMAND ${STINT_BENCH_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/bench_pipeline.py $<TARGET_FILE:stintd>
            $<TARGET_FILE:stintctl> $<TARGET_FILE:stint-collector>
    DEPENDS stintd stintctl stint-collector USES_TERMINAL)
  if(STINT_BENCH_PREV)
    add_dependencies(run-bench_pipeline ${STINT_BENCH_PREV})
  endif()
  set(STINT_BENCH_PREV run-bench_pipeline)
  add_dependencies(run-bench run-bench_pipeline)
endif()
