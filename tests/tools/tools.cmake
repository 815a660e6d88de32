# Clients the switch's tests and benchmark share.
add_executable(redis_probe ${CMAKE_CURRENT_SOURCE_DIR}/tools/redis_probe.c)
