# plat_pingpong: the platform layer between two real domains, for the
# Xen-in-QEMU harness (docs/platform.md, "Testing under Xen").  A plain
# program, not a ctest: it needs a hypervisor.
add_executable(plat_pingpong ${CMAKE_CURRENT_SOURCE_DIR}/xen/plat_pingpong.c)
target_link_libraries(plat_pingpong PRIVATE libretto_platform libretto_vif
                      libretto_guest)
