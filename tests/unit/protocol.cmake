# The control protocol (common/proto.c) and the daemon's control socket
# (librettod/control*.c).  Their sources are compiled in directly, so these
# tests build even while the rest of librettod does not.
add_executable(test_proto ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_proto.c
                          ${CMAKE_SOURCE_DIR}/common/proto.c)
target_link_libraries(test_proto PRIVATE PkgConfig::JSONC)
add_test(NAME proto COMMAND test_proto)

add_executable(test_control
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_control.c
  ${CMAKE_SOURCE_DIR}/librettod/control.c
  ${CMAKE_SOURCE_DIR}/librettod/control_socket.c
  ${CMAKE_SOURCE_DIR}/librettod/log.c
  ${CMAKE_SOURCE_DIR}/common/proto.c)
target_include_directories(test_control PRIVATE ${CMAKE_SOURCE_DIR}/librettod)
target_link_libraries(test_control PRIVATE PkgConfig::JSONC PkgConfig::LIBEVENT)
# Needs root for the credential cases (fork + setresuid to nobody); as
# another user those are skipped and the rest still runs.
add_test(NAME control COMMAND test_control)
set_tests_properties(control PROPERTIES TIMEOUT 120)
