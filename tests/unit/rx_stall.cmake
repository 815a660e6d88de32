# The network server's rule for an app that does not drain its rx ring
# (guests/netserver/vif.c): the backlog, the stall, the resume.
add_executable(test_rx_stall ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_rx_stall.c)
target_link_libraries(test_rx_stall PRIVATE netserver_core)
add_test(NAME rx_stall_unit COMMAND test_rx_stall)
set_tests_properties(rx_stall_unit PROPERTIES LABELS unit TIMEOUT 30)
