# The xen backend (librettod/xen/xl_*.c, docs/xen.md), what of it runs
# without a hypervisor: the pure parts (domain config, exit statuses, the
# NIC on the recorded sysfs tree, the config keys), libxl's osevent hooks
# on libevent, and the boot nodes in a real xenstored.  The rest is proved
# in Xen inside QEMU (tests/xen/run).
# A test program of the xen backend: tests/unit/test_<name>.c with the
# backend's private headers.
function(libretto_xen_unit_exe name)
  add_executable(test_${name} ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_${name}.c)
  target_include_directories(test_${name} PRIVATE
    ${CMAKE_SOURCE_DIR}/librettod/xen)
  target_link_libraries(test_${name} PRIVATE librettod_core)
endfunction()

libretto_xen_unit_exe(xen_backend)
add_test(NAME xen_backend
  COMMAND test_xen_backend ${CMAKE_SOURCE_DIR}/tests/data/sysfs-sriov)
set_tests_properties(xen_backend PROPERTIES LABELS unit)

libretto_xen_unit_exe(xen_backend_loop)
add_test(NAME xen_backend_loop COMMAND test_xen_backend_loop)
set_tests_properties(xen_backend_loop PROPERTIES TIMEOUT 30 LABELS unit)

# Skips (77) without root, the preload library or xenstored.
libretto_xen_unit_exe(xen_backend_boot)
libretto_test_needs_preload(test_xen_backend_boot)
add_test(NAME xen_backend_boot
  COMMAND test_xen_backend_boot ${LIBRETTO_TEST_PRELOAD}
          /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(xen_backend_boot PROPERTIES TIMEOUT 60
  SKIP_RETURN_CODE 77 LABELS unit)

# The VF pool and the switch's VF steps (xl_vf*.c, docs/xen-vf.md): the
# pool chosen, made assignable and given back on copies of the recorded
# sysfs tree, the pure parts, and the backend operations over a real
# libevent loop as far as they go without libxl.
libretto_xen_unit_exe(xen_vf_ops)
add_test(NAME xen_vf_ops
  COMMAND test_xen_vf_ops ${CMAKE_SOURCE_DIR}/tests/data/sysfs-sriov)
set_tests_properties(xen_vf_ops PROPERTIES LABELS unit)

libretto_xen_unit_exe(xen_vf_ops_loop)
add_test(NAME xen_vf_ops_loop
  COMMAND test_xen_vf_ops_loop ${CMAKE_SOURCE_DIR}/tests/data/sysfs-sriov)
set_tests_properties(xen_vf_ops_loop PROPERTIES TIMEOUT 60 LABELS unit)

# The libxl thread's queues (xl_thread.c): calls to the thread, results
# on the loop, the loop free while a call sleeps, a stop with work in
# flight.
libretto_xen_unit_exe(xen_thread)
add_test(NAME xen_thread COMMAND test_xen_thread)
set_tests_properties(xen_thread PROPERTIES TIMEOUT 60 LABELS unit)
