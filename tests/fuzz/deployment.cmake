# libFuzzer target for the deployment loader; configure with
#   CC=clang cmake -DLIBRETTO_FUZZ=ON ...
if(LIBRETTO_FUZZ)
  # The sources are compiled in, not linked from libretto_common, so that
  # they carry the fuzzer's coverage instrumentation.
  file(GLOB LIBRETTO_DEPLOYMENT_FUZZ_SOURCES
       ${CMAKE_SOURCE_DIR}/common/deployment_*.c
       ${CMAKE_SOURCE_DIR}/common/yaml_*.c)
  libretto_fuzzer(fuzz_deployment_load
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_deployment_load.c
            ${LIBRETTO_DEPLOYMENT_FUZZ_SOURCES}
    LIBS PkgConfig::YAML)
  # Seeds: the bad corpus and the shipped configs, copied into a temporary
  # working corpus so that the fuzzer never writes into the source tree.
  add_test(NAME fuzz_deployment_load
    COMMAND sh -c [[d=$(mktemp -d) && cp "$1"/*.yaml "$2"/*.yaml "$d"/ && "$3" -max_total_time=20 -timeout=10 -rss_limit_mb=2048 "$d"; rc=$?; rm -rf "$d"; exit $rc]]
            sh ${CMAKE_CURRENT_SOURCE_DIR}/corpus/bad ${CMAKE_SOURCE_DIR}/configs
            $<TARGET_FILE:fuzz_deployment_load>)
  set_tests_properties(fuzz_deployment_load PROPERTIES TIMEOUT 120)
endif()
