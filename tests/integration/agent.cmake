# libretto-agent's data path (guests/agent, docs/datapath.md) against
# Debian's xenstored under the project's preload, with a fake backend
# (agent_fake_backend.c) playing the network server's side of the VIF.
# Root only (skips with 77 otherwise).
add_executable(agent_fake_backend
               ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_fake_backend.c)
target_link_libraries(agent_fake_backend PRIVATE libretto_platform
                      libretto_vif libretto_ring)
add_test(NAME agent_datapath
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_datapath.sh
                 ${CMAKE_BINARY_DIR}/libexec/libretto
                 /usr/lib/xen-4.17/bin/xenstored
                 $<TARGET_FILE:agent_fake_backend>)
set_tests_properties(agent_datapath PROPERTIES TIMEOUT 120
                     SKIP_RETURN_CODE 77 LABELS integration)

# End to end with the real network server (guests/netserver): a client in a
# peer namespace reaches a dynamic app through pf0, the netserver, the VIF
# and tap0; bulk both ways; a TCP connection across a netserver restart.
add_test(NAME agent_netserver
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_netserver.sh
                 ${CMAKE_BINARY_DIR}/libexec/libretto
                 /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(agent_netserver PROPERTIES TIMEOUT 120
                     SKIP_RETURN_CODE 77 LABELS integration)

# The dynamic switch, guest side: the agent moves a dynamic app between
# tap0 and a macvlan VF on request (switch/), the netserver acks `active`;
# TCP connections opened before survive 20 round trips.
add_test(NAME agent_switch
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_switch.sh
                 ${CMAKE_BINARY_DIR}/libexec/libretto
                 /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(agent_switch PROPERTIES TIMEOUT 120
                     SKIP_RETURN_CODE 77 LABELS integration)

# A new network server (a new domid) after the old one is killed, ten
# times: the agents follow net/backend, TCP streams through the shared IP
# and to a dynamic app survive intact; reconnect times reported.
add_test(NAME agent_recovery
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_recovery.sh
                 ${CMAKE_BINARY_DIR}/libexec/libretto
                 /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(agent_recovery PROPERTIES TIMEOUT 120
                     SKIP_RETURN_CODE 77 LABELS integration)
