# Holds many idle connections to librettod's control socket
# (tests/integration/isolation_clients.sh).
add_executable(idle_clients ${CMAKE_CURRENT_SOURCE_DIR}/tools/idle_clients.c)
