# Timed round trips through a TCP echo server (the isolation tests).
add_executable(echo_probe ${CMAKE_CURRENT_SOURCE_DIR}/tools/echo_probe.c)
