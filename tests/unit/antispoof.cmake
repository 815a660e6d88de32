# The network server's source checks (guests/netserver/forward.c): what an
# app may send, where ARP replies go, the drop counters by reason.
add_executable(test_antispoof ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_antispoof.c)
target_link_libraries(test_antispoof PRIVATE netserver_core)
add_test(NAME antispoof_unit COMMAND test_antispoof)
set_tests_properties(antispoof_unit PROPERTIES LABELS unit TIMEOUT 30)
