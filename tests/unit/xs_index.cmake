# The numbers librettod reads back from its own xenstore nodes
# (librettod/xs_index.c, on guest_value.c's grammar of a decimal):
# compiled in directly, they depend on nothing else.
add_executable(test_xs_index
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xs_index.c
  ${CMAKE_SOURCE_DIR}/librettod/xs_index.c
  ${CMAKE_SOURCE_DIR}/librettod/guest_value.c)
target_include_directories(test_xs_index PRIVATE ${CMAKE_SOURCE_DIR}/librettod)
add_test(NAME xs_index COMMAND test_xs_index)
