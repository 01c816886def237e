# stint-tray's pure parts (tray/view.c: a state line as icon, tooltip and menu) and its line
# reader (tray/link.c) over a real socketpair.
if(TARGET stint_tray_core)
  stint_unit_test(test_tray ${CMAKE_CURRENT_LIST_DIR}/test_tray.c LIBS stint_tray_core)
endif()
