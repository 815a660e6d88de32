# The pure parts of libretto-netserver (guests/netserver): portmap, frame
# checks, forwarding decisions, ARP/ICMP replies, parsers.
add_executable(test_netserver ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_netserver.c)
target_link_libraries(test_netserver PRIVATE netserver_core)
add_test(NAME netserver_unit COMMAND test_netserver)
set_tests_properties(netserver_unit PROPERTIES LABELS unit TIMEOUT 30)
