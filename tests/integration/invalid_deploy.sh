#!/usr/bin/env bash
# A deployment that does not validate starts nothing: the daemon answers
# with file:line:column, the CLI exits 2, no namespace appears.
. "$(dirname "$0")/lib.sh"
it_start_daemon
bad=$IT_TMP/bad.yaml
it_deployment >/dev/null
sed 's/subnet: \(.*\)\/24/subnet: \1\/33/' "$IT_TMP/$IT_DEP.yaml" >"$bad"
ns_before=$(ip netns list | sort)
out=$(ctl deploy "$bad" 2>&1); rc=$?
echo "    $out"
it_check "exit code 2" [ $rc -eq 2 ]
it_check "error names bad.yaml:line:column" bash -c "echo \"\$0\" | grep -Eq 'bad.yaml:[0-9]+:[0-9]+: '" "$out"
it_check "no namespace created" [ "$(ip netns list | sort)" = "$ns_before" ]
it_check "no deployment recorded" [ "$(it_status_json | jq '.deployments | length')" = 0 ]
out=$(ctl deploy /nonexistent.yaml 2>&1); rc=$?
it_check "missing file: exit 2 with a message" bash -c "[ $rc -eq 2 ] && echo \"\$0\" | grep -q nonexistent" "$out"
out=$(LIBRETTO_SOCKET=$IT_TMP/nothing.sock "$IT_BIN/librettoctl" status 2>&1); rc=$?
it_check "unreachable daemon: exit 3" [ $rc -eq 3 ]
it_pass
