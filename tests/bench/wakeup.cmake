# wakeup_bench: the cost of a system call, a poll, an eventfd notification
# and a process wakeup on this machine (docs/benchmarks.md).  Not a ctest.
add_executable(wakeup_bench ${CMAKE_CURRENT_SOURCE_DIR}/wakeup_bench.c)
target_compile_options(wakeup_bench PRIVATE -O2)
