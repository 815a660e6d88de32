# ring_bench: the frame ring between two pinned threads against a pipe
# baseline (docs/ring.md has the figures).  Not a ctest.
find_package(Threads REQUIRED)
add_executable(ring_bench ${CMAKE_CURRENT_SOURCE_DIR}/ring_bench.c)
target_link_libraries(ring_bench PRIVATE libretto_ring Threads::Threads)
# Figures are only meaningful optimised, whatever the build type.
target_compile_options(ring_bench PRIVATE -O2)
# ring_test_util.h (now(), cpu_relax()) is shared with the stress test.
target_include_directories(ring_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
