# The sim backend's xenstored: Debian's C xenstored 4.17 run under the
# project's preload library, with no hypervisor (docs/sim-xenstored.md).
# Needs xen-utils-4.17 and xenstore-utils; runs as any user.
add_test(NAME xenstored_preload
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/xenstored_preload.sh
                 $<TARGET_FILE:libretto-xsd-preload>
                 /usr/lib/xen-4.17/bin/xenstored)
set_tests_properties(xenstored_preload PROPERTIES TIMEOUT 60)
