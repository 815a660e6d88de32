# spawn.{c,h} and the sim backend, linked with the daemon's own code.
add_executable(test_spawn ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_spawn.c)
target_link_libraries(test_spawn PRIVATE librettod_core)
add_test(NAME spawn COMMAND test_spawn)
set_tests_properties(spawn PROPERTIES TIMEOUT 90 LABELS unit)

add_executable(test_sim_backend
  ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_sim_backend.c)
# check.h and loop_util.h live in tests/unit (the unit tests find them
# beside their sources).
target_include_directories(test_sim_backend PRIVATE
                           ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(test_sim_backend PRIVATE librettod_core)
# The preload library of the project's own build: xenstored cannot start
# without it.
if(TARGET libretto-xsd-preload)
  set(LIBRETTO_SIM_TEST_LIBEXEC $<TARGET_FILE_DIR:libretto-xsd-preload>)
  add_dependencies(test_sim_backend libretto-xsd-preload)
else()
  set(LIBRETTO_SIM_TEST_LIBEXEC ${LIBRETTO_LIBEXECDIR})
endif()
# /usr/sbin/xenstored, the daemon's default, is Debian's wrapper: the test
# also checks that the sim runs the real binary behind it.
add_test(NAME sim_backend
         COMMAND test_sim_backend ${LIBRETTO_SIM_TEST_LIBEXEC}
                 /usr/sbin/xenstored)
set_tests_properties(sim_backend PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                     LABELS integration RUN_SERIAL TRUE)
