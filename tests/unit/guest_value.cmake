# The grammar of guest-written values (librettod/guest_value.c), and the
# UTF-8 of every line the daemon sends (common/proto.c): compiled in
# directly, as they depend on nothing else of the daemon.
add_executable(test_guest_value
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_guest_value.c
  ${CMAKE_SOURCE_DIR}/librettod/guest_value.c
  ${CMAKE_SOURCE_DIR}/common/proto.c)
target_include_directories(test_guest_value PRIVATE ${CMAKE_SOURCE_DIR}/librettod)
target_link_libraries(test_guest_value PRIVATE PkgConfig::JSONC)
add_test(NAME guest_value COMMAND test_guest_value)

# Refusals: counted, rate-limited, escaped (librettod/guest_input.c, with
# the rest of the daemon's core).
add_executable(test_guest_input ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_guest_input.c)
target_link_libraries(test_guest_input PRIVATE librettod_core)
add_test(NAME guest_input COMMAND test_guest_input)
