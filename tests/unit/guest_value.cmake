# The grammar of guest-written values (librettod/guest_value.c): compiled
# in directly, as it depends on nothing else of the daemon.
add_executable(test_guest_value
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_guest_value.c
  ${CMAKE_SOURCE_DIR}/librettod/guest_value.c)
target_include_directories(test_guest_value PRIVATE ${CMAKE_SOURCE_DIR}/librettod)
add_test(NAME guest_value COMMAND test_guest_value)
