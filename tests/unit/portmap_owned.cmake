# The portmap is owned, not grabbed: the network server's ephemeral ranges
# win over portmap entries (pm_rebuild), and librettod's grammar of a
# guest's port name (ports_parse_name).
add_executable(test_portmap_owned ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_portmap_owned.c)
target_link_libraries(test_portmap_owned PRIVATE netserver_core librettod_core)
add_test(NAME portmap_owned_unit COMMAND test_portmap_owned)
set_tests_properties(portmap_owned_unit PROPERTIES LABELS unit TIMEOUT 30)
