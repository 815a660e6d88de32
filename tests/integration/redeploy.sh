#!/usr/bin/env bash
# Must-show 6 of issue 2: deploying the same file twice reports no change;
# deploying it with one app removed stops only that app; a changed app is
# restarted alone.
. "$(dirname "$0")/lib.sh"
it_start_daemon
file=$(it_deployment)
it_deploy "$file"
before=$(it_status_json "$IT_DEP" | jq -c '[.deployments[0].domains[] | {name, domid, pid}]')

r=$(ctl --json deploy "$file" | head -n 1)
echo "    $r"
it_check "second deploy: no change, no operation" \
  bash -c "echo '$r' | jq -e '.result.changed == false and .result.op == null and ([.result.changes[].action] | all(. == \"keep\"))' >/dev/null"
out=$(ctl deploy "$file")
echo "$out" | sed 's/^/    /'
it_check "the CLI says there is nothing to do" bash -c "echo \"\$0\" | grep -qi 'no change'" "$out"
it_check "nothing restarted" [ "$(it_status_json "$IT_DEP" | jq -c '[.deployments[0].domains[] | {name, domid, pid}]')" = "$before" ]

# Drop kv (the last app).
smaller=$IT_TMP/smaller.yaml
sed '/- name: kv/,$d' "$file" >"$smaller"
out=$(ctl deploy "$smaller" 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
it_check "deploy without kv exits 0" [ $rc -eq 0 ]
after=$(it_status_json "$IT_DEP" | jq -c '[.deployments[0].domains[] | {name, domid, pid}]')
it_check "kv is gone" bash -c "echo '$after' | jq -e 'map(.name) == [\"server\",\"web\",\"cache\"]' >/dev/null"
it_check "the others kept their domid and pid" \
  [ "$(echo "$before" | jq -c 'map(select(.name != "kv"))')" = "$after" ]
it_check "kv's namespace is gone" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-kv'"

# Change cache's command: only cache restarts, on the same address.
cache_ip=$(it_status_json "$IT_DEP" | jq -r '.deployments[0].domains[] | select(.name == "cache") | .ip')
changed=$IT_TMP/changed.yaml
sed "s/--protected-mode, 'no'\]/--protected-mode, 'no', --port, '6380']/" "$smaller" >"$changed"
r=$(ctl --json deploy "$changed" | head -n 1)
it_check "changed app: restart cache, keep the rest" \
  bash -c "echo '$r' | jq -e '[.result.changes[] | select(.action != \"keep\")] == [{\"domain\":\"cache\",\"action\":\"restart\"}]' >/dev/null"
it_wait_for "$IT_WAIT_LIMIT" bash -c "$IT_BIN/librettoctl -s $IT_SOCK status $IT_DEP --json | jq -e '.deployments[0].op == null' >/dev/null"
now=$(it_status_json "$IT_DEP")
it_check "cache runs again on the same address" \
  [ "$(echo "$now" | jq -r '.deployments[0].domains[] | select(.name == "cache") | .state + " " + .ip')" = "running $cache_ip" ]
it_check "web and server untouched" \
  [ "$(echo "$now" | jq -c '[.deployments[0].domains[] | select(.name != "cache") | {name, domid, pid}]')" = \
    "$(echo "$after" | jq -c 'map(select(.name != "cache"))')" ]
it_pass
