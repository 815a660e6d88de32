# libFuzzer target for the request parser; configure with
#   CC=clang cmake -DLIBRETTO_FUZZ=ON ...
if(LIBRETTO_FUZZ)
  add_executable(fuzz_request_parse
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_request_parse.c
    ${CMAKE_SOURCE_DIR}/common/proto.c)
  target_compile_options(fuzz_request_parse PRIVATE
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  target_link_options(fuzz_request_parse PRIVATE
    -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_request_parse PRIVATE PkgConfig::JSONC)
  # The fuzzer writes new inputs into its corpus: run it on a temporary
  # copy of the seeds, never on the source tree.
  add_test(NAME fuzz_request_parse
    COMMAND sh -c [[d=$(mktemp -d) && cp "$1"/* "$d"/ && "$2" -max_total_time=20 -timeout=10 -dict="$3" "$d"; rc=$?; rm -rf "$d"; exit $rc]]
            sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds/request
            $<TARGET_FILE:fuzz_request_parse>
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/request.dict)
  set_tests_properties(fuzz_request_parse PROPERTIES TIMEOUT 120)
endif()
