# The guest platform layer (guests/platform, docs/platform.md).  Root: the
# peer takes descriptors from its parent with pidfd_getfd, which needs ptrace
# access; as another user the test skips (77).
add_executable(test_platform ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_platform.c)
target_link_libraries(test_platform PRIVATE libretto_platform)
add_test(NAME platform COMMAND test_platform)
set_tests_properties(platform PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                     LABELS unit)

# The xenstore helpers against Debian's xenstored under the project's
# preload (as tests/integration/xenstored_preload.sh runs it); skips (77)
# without them.
add_executable(test_platform_xs
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_platform_xs.c)
target_link_libraries(test_platform_xs PRIVATE libretto_platform)
libretto_test_needs_preload(test_platform_xs)
add_test(NAME platform_xs
         COMMAND test_platform_xs ${LIBRETTO_TEST_PRELOAD}
                 /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(platform_xs PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77
                     LABELS integration)
