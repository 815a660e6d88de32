# The xen realisation of the platform layer (guests/platform,
# docs/platform.md) where no hypervisor is: its pure parts, the run-time
# choice, and its texts in xenstore.  The two-domain test that needs Xen
# is a plain program (tests/xen/plat_pingpong.cmake), not a ctest.

# Reference texts and their cutting into xenstore nodes.
add_executable(test_platform_refs
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_platform_refs.c)
target_link_libraries(test_platform_refs PRIVATE libretto_platform
                      libretto_vif)
add_test(NAME platform_refs COMMAND test_platform_refs)
set_tests_properties(platform_refs PROPERTIES LABELS unit)

# LIBRETTO_PLATFORM unset, posix, xen, unknown; xen failing cleanly with
# -ENOENT on a host without /dev/xen.
add_executable(test_platform_choice
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_platform_choice.c)
target_link_libraries(test_platform_choice PRIVATE libretto_platform)
add_test(NAME platform_choice COMMAND test_platform_choice)
set_tests_properties(platform_choice PROPERTIES LABELS unit)

# A VIF's grant refs in ring-ref0, ring-ref1, ... through a real
# xenstored (the sim's, under the preload); skips (77) without it.
add_executable(test_platform_xs_pieces
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_platform_xs_pieces.c)
target_link_libraries(test_platform_xs_pieces PRIVATE libretto_platform
                      libretto_vif)
libretto_test_needs_preload(test_platform_xs_pieces)
add_test(NAME platform_xs_pieces
         COMMAND bash
                 ${CMAKE_CURRENT_SOURCE_DIR}/integration/platform_xs_pieces.sh
                 ${LIBRETTO_TEST_PRELOAD}
                 /usr/lib/xen-4.17/bin/xenstored
                 $<TARGET_FILE:test_platform_xs_pieces>)
set_tests_properties(platform_xs_pieces PROPERTIES TIMEOUT 60
                     SKIP_RETURN_CODE 77 LABELS integration)
