# The deployment loader, the daemon config loader, the address pool and
# MACs (common/deployment_*.c, common/yaml_*.c, common/ippool.c,
# common/mac.c, librettod/config.c).
add_executable(test_deployment_load
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_deployment_load.c)
target_link_libraries(test_deployment_load PRIVATE libretto_common)
add_test(NAME deployment_load
  COMMAND test_deployment_load ${CMAKE_SOURCE_DIR}/configs/demo.yaml)

# Every tests/corpus/bad/*.yaml against its .err; prints each mismatch.
add_executable(test_bad_corpus
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_bad_corpus.c)
target_link_libraries(test_bad_corpus PRIVATE libretto_common)
add_test(NAME deployment_bad_corpus
  COMMAND test_bad_corpus ${CMAKE_CURRENT_SOURCE_DIR}/corpus/bad)

add_executable(test_ippool ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ippool.c)
target_link_libraries(test_ippool PRIVATE libretto_common)
add_test(NAME ippool COMMAND test_ippool)

add_executable(test_mac ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_mac.c)
target_link_libraries(test_mac PRIVATE libretto_common)
add_test(NAME mac COMMAND test_mac)

# librettod/config.c is compiled in directly: the test must not wait for
# the rest of librettod_core to build.
add_executable(test_config ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_config.c
                           ${CMAKE_SOURCE_DIR}/librettod/config.c)
target_include_directories(test_config PRIVATE ${CMAKE_SOURCE_DIR}/librettod)
target_link_libraries(test_config PRIVATE libretto_common)
add_test(NAME daemon_config
  COMMAND test_config ${CMAKE_SOURCE_DIR}/configs/librettod.yaml)
