# libretto-netserver end to end (tests/integration/netserver.sh): its own
# xenstored, namespaces, a veth PF and TAP-backed test frontends.  Root
# only (skips with 77 otherwise).
add_executable(netserver_front
               ${CMAKE_CURRENT_SOURCE_DIR}/integration/netserver_front.c)
target_link_libraries(netserver_front PRIVATE libretto_vif libretto_platform
                      libretto_guest)
add_test(NAME netserver
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/netserver.sh
                 ${LIBRETTO_TEST_PRELOAD} /usr/lib/xen-4.17/bin/xenstored
                 $<TARGET_FILE:libretto-netserver>
                 $<TARGET_FILE:netserver_front>)
set_tests_properties(netserver PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                     LABELS integration)
