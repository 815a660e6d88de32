# Pieces of librettod with no other home in the suite.
add_executable(test_sd_notify ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_sd_notify.c
                              ${CMAKE_SOURCE_DIR}/librettod/sd_notify.c)
target_include_directories(test_sd_notify PRIVATE ${CMAKE_SOURCE_DIR}/librettod)
add_test(NAME sd_notify COMMAND test_sd_notify)
