# The daemon's watch delivery, fair between domains, against a real
# xenstored (root only; skips otherwise).
add_executable(test_xs_watch ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xs_watch.c)
target_include_directories(test_xs_watch PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(test_xs_watch PRIVATE librettod_core)
libretto_test_needs_preload(test_xs_watch)
add_test(NAME xs_watch
         COMMAND test_xs_watch ${LIBRETTO_TEST_PRELOAD}
                 /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(xs_watch PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77
                     LABELS integration)
