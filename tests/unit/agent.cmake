# The agent's pure parts (guests/agent): node parsers, the port-range
# sysctl text, the sock_diag parser behind port claims.  No root needed.
add_executable(test_agent ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_agent.c)
target_link_libraries(test_agent PRIVATE libretto_agent_core)
add_test(NAME agent COMMAND test_agent)
set_tests_properties(agent PROPERTIES LABELS unit)
