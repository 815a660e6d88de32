# A guest writing its own xenstore tree as fast as it can (isolation_flood).
add_executable(xs_flood ${CMAKE_CURRENT_SOURCE_DIR}/tools/xs_flood.c)
target_link_libraries(xs_flood PRIVATE PkgConfig::XENSTORE)
