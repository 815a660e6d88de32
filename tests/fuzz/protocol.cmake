# libFuzzer target for the request parser; configure with
#   CC=clang cmake -DLIBRETTO_FUZZ=ON ...
if(LIBRETTO_FUZZ)
  libretto_fuzzer(fuzz_request_parse
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_request_parse.c
            ${CMAKE_SOURCE_DIR}/common/proto.c
    LIBS PkgConfig::JSONC)
  # The fuzzer writes new inputs into its corpus: run it on a temporary
  # copy of the seeds, never on the source tree.
  add_test(NAME fuzz_request_parse
    COMMAND sh -c [[d=$(mktemp -d) && cp "$1"/* "$d"/ && "$2" -max_total_time=20 -timeout=10 -dict="$3" "$d"; rc=$?; rm -rf "$d"; exit $rc]]
            sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds/request
            $<TARGET_FILE:fuzz_request_parse>
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/request.dict)
  set_tests_properties(fuzz_request_parse PROPERTIES TIMEOUT 120)
endif()
