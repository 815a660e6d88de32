# The Xen-in-QEMU test (docs/xen-test.md): Xen 4.17 boots in QEMU, and in
# its dom0 the build's own librettod drives the xen backend. Root only
# (it skips otherwise, or where QEMU or Xen's packages cannot be
# installed). It boots a machine under emulation, so it runs in the plain
# suite only (scripts/test leaves it out of the sanitizer build).
add_test(NAME xen_qemu
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/xen/run ${CMAKE_BINARY_DIR})
set_tests_properties(xen_qemu PROPERTIES TIMEOUT 2700 SKIP_RETURN_CODE 77
                     LABELS "xen;integration")
