# The xen backend's VF pool (librettod/xen/vf_*.c): discovery and the
# pciback writes against the recorded sysfs tree of tests/data/sysfs-sriov,
# and the rtnetlink messages.  The sources are compiled in directly, as
# test_config does, so that the tests need not wait for the rest of
# librettod_core; the daemon builds the same files through its own glob.
file(GLOB LIBRETTO_XEN_VF_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/librettod/xen/vf_*.c)

add_executable(test_xen_vf ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xen_vf.c
                           ${LIBRETTO_XEN_VF_SOURCES}
                           ${CMAKE_SOURCE_DIR}/librettod/util.c)
target_include_directories(test_xen_vf PRIVATE
  ${CMAKE_SOURCE_DIR}/librettod ${CMAKE_SOURCE_DIR}/librettod/xen)
add_test(NAME xen_vf_sysfs
  COMMAND test_xen_vf ${CMAKE_SOURCE_DIR}/tests/data/sysfs-sriov)
set_tests_properties(xen_vf_sysfs PROPERTIES LABELS unit)

add_executable(test_xen_vf_netlink
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xen_vf_netlink.c
  ${LIBRETTO_XEN_VF_SOURCES} ${CMAKE_SOURCE_DIR}/librettod/util.c)
target_include_directories(test_xen_vf_netlink PRIVATE
  ${CMAKE_SOURCE_DIR}/librettod ${CMAKE_SOURCE_DIR}/librettod/xen)
add_test(NAME xen_vf_netlink COMMAND test_xen_vf_netlink)
set_tests_properties(xen_vf_netlink PROPERTIES LABELS unit)
