# The state file's folder and its atomic write (librettod/state.c): a
# planted symbolic link is never followed, the folder is 0700 and ours.
add_executable(test_state_file ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_state_file.c)
target_link_libraries(test_state_file PRIVATE librettod_core)
add_test(NAME state_file COMMAND test_state_file)
set_tests_properties(state_file PROPERTIES LABELS unit)
