# Integration tests: a real librettod on the sim backend, real xenstored,
# namespaces, nginx, redis and memcached. Root only (they skip otherwise).
foreach(t deploy_status exit_event protocol_errors destroy_clean redeploy
          invalid_deploy deploy_rollback cli restart_leftover ports datapath
          switch switch_rollback switch_refused restart_policy daemon_crash
          xenstored_crash server_recovery
          # What a hostile app can try, each run as the attack it describes
          # (docs/threat-model.md).
          isolation_portmap isolation_stall isolation_spoof
          isolation_guest_data isolation_flood isolation_clients
          isolation_misc images)
  add_test(NAME it_${t}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.sh
                   ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(it_${t} PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
                       LABELS integration)
endforeach()
# 100 round trips with their checks: about 90 s plain, more under ASan.
set_tests_properties(it_switch PROPERTIES TIMEOUT 400)
set_tests_properties(it_server_recovery PROPERTIES TIMEOUT 400)
