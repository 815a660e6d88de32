# The xen backend (librettod/xen/xl_*.c, docs/xen.md), what of it runs
# without a hypervisor: the pure parts (domain config, exit statuses, the
# NIC on the recorded sysfs tree, the config keys), libxl's osevent hooks
# on libevent, and the boot nodes in a real xenstored.  The rest is proved
# in Xen inside QEMU (tests/xen/run).
add_executable(test_xen_backend ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xen_backend.c)
target_include_directories(test_xen_backend PRIVATE
  ${CMAKE_SOURCE_DIR}/librettod/xen)
target_link_libraries(test_xen_backend PRIVATE librettod_core)
add_test(NAME xen_backend
  COMMAND test_xen_backend ${CMAKE_SOURCE_DIR}/tests/data/sysfs-sriov)
set_tests_properties(xen_backend PROPERTIES LABELS unit)

add_executable(test_xen_backend_loop
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xen_backend_loop.c)
target_include_directories(test_xen_backend_loop PRIVATE
  ${CMAKE_SOURCE_DIR}/librettod/xen)
target_link_libraries(test_xen_backend_loop PRIVATE librettod_core)
add_test(NAME xen_backend_loop COMMAND test_xen_backend_loop)
set_tests_properties(xen_backend_loop PROPERTIES TIMEOUT 30 LABELS unit)

# Skips (77) without root, the preload library or xenstored.
add_executable(test_xen_backend_boot
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xen_backend_boot.c)
target_include_directories(test_xen_backend_boot PRIVATE
  ${CMAKE_SOURCE_DIR}/librettod/xen)
target_link_libraries(test_xen_backend_boot PRIVATE librettod_core)
if(TARGET libretto-xsd-preload)
  add_dependencies(test_xen_backend_boot libretto-xsd-preload)
  set(LIBRETTO_XEN_BOOT_PRELOAD $<TARGET_FILE:libretto-xsd-preload>)
else()
  set(LIBRETTO_XEN_BOOT_PRELOAD ${LIBRETTO_LIBEXECDIR}/libretto-xsd-preload.so)
endif()
add_test(NAME xen_backend_boot
  COMMAND test_xen_backend_boot ${LIBRETTO_XEN_BOOT_PRELOAD}
          /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(xen_backend_boot PROPERTIES TIMEOUT 60
  SKIP_RETURN_CODE 77 LABELS unit)

# The VF pool and the switch's VF steps (xl_vf*.c, docs/xen-vf.md): the
# pool chosen, made assignable and given back on copies of the recorded
# sysfs tree, the pure parts, and the backend operations over a real
# libevent loop as far as they go without libxl.
add_executable(test_xen_vf_ops ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xen_vf_ops.c)
target_include_directories(test_xen_vf_ops PRIVATE
  ${CMAKE_SOURCE_DIR}/librettod/xen)
target_link_libraries(test_xen_vf_ops PRIVATE librettod_core)
add_test(NAME xen_vf_ops
  COMMAND test_xen_vf_ops ${CMAKE_SOURCE_DIR}/tests/data/sysfs-sriov)
set_tests_properties(xen_vf_ops PROPERTIES LABELS unit)

add_executable(test_xen_vf_ops_loop
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_xen_vf_ops_loop.c)
target_include_directories(test_xen_vf_ops_loop PRIVATE
  ${CMAKE_SOURCE_DIR}/librettod/xen)
target_link_libraries(test_xen_vf_ops_loop PRIVATE librettod_core)
add_test(NAME xen_vf_ops_loop
  COMMAND test_xen_vf_ops_loop ${CMAKE_SOURCE_DIR}/tests/data/sysfs-sriov)
set_tests_properties(xen_vf_ops_loop PROPERTIES TIMEOUT 60 LABELS unit)
