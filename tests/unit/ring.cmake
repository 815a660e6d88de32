# The frame ring of the data path (guests/ring, docs/ring.md).
find_package(Threads REQUIRED)

add_executable(test_ring ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ring.c)
target_link_libraries(test_ring PRIVATE libretto_ring)
add_test(NAME ring COMMAND test_ring)
set_tests_properties(ring PROPERTIES LABELS unit)

# Millions of frames between two threads, sleeping on eventfds; bounded
# by its own time limit (20 s of producing) well under the timeout.
add_executable(test_ring_stress
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ring_stress.c)
target_link_libraries(test_ring_stress PRIVATE libretto_ring Threads::Threads)
add_test(NAME ring_stress COMMAND test_ring_stress 4000000 20)
set_tests_properties(ring_stress PROPERTIES LABELS unit TIMEOUT 60)

# The same stress test under ThreadSanitizer, which checks the orderings
# the ring's comments claim.  ring.c is compiled in (not the library) so
# that it is instrumented too.  TSan cannot be combined with ASan, so only
# in a build without LIBRETTO_SANITIZE, and only if the compiler links it.
if(NOT LIBRETTO_SANITIZE)
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=thread)
  set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=thread)
  check_c_source_compiles("int main(void) { return 0; }" LIBRETTO_HAVE_TSAN)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(LIBRETTO_HAVE_TSAN)
    add_executable(test_ring_stress_tsan
      ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ring_stress.c
      ${CMAKE_SOURCE_DIR}/guests/ring/ring.c)
    target_include_directories(test_ring_stress_tsan PRIVATE
                               ${CMAKE_SOURCE_DIR}/guests/ring)
    target_compile_options(test_ring_stress_tsan PRIVATE -fsanitize=thread)
    target_link_options(test_ring_stress_tsan PRIVATE -fsanitize=thread)
    target_link_libraries(test_ring_stress_tsan PRIVATE Threads::Threads)
    # Fewer frames: instrumented, every access costs ~10x.  halt_on_error
    # makes a reported race fail the test, not just print.
    add_test(NAME ring_stress_tsan COMMAND test_ring_stress_tsan 1000000 20)
    set_tests_properties(ring_stress_tsan PROPERTIES LABELS unit TIMEOUT 90
      ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:exitcode=66")
  endif()
endif()
