# The control socket's status round trips, timed (isolation_flood).
add_executable(status_probe ${CMAKE_CURRENT_SOURCE_DIR}/tools/status_probe.c)
