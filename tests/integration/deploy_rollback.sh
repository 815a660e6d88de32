#!/usr/bin/env bash
# A deploy whose step fails undoes what it did: a first deploy leaves
# nothing; a redeploy leaves the deployment as it was.
. "$(dirname "$0")/lib.sh"
it_start_daemon
bad_apps="  - name: web
    mode: server
    command: [sleep, \"1000\"]
    ports: [tcp/80]
  - name: broken
    mode: dynamic
    command: [/nonexistent/program]"
file=$(it_deployment "$bad_apps")
out=$(ctl deploy "$file" 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
it_check "failed first deploy exits 1" [ $rc -eq 1 ]
it_check "the error names the step and the program" bash -c "echo \"\$0\" | grep -q 'broken' && echo \"\$0\" | grep -q nonexistent" "$out"
it_check "no namespace left" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-'"
it_check "no deployment left" [ "$(it_status_json | jq '.deployments | length')" = 0 ]
it_check "no domain left in xenstore" [ "$(it_xs xenstore-list /local/domain | tr '\n' ' ')" = "0 " ]
it_check "no pool or portmap left" bash -c \
  "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /libretto/pool/$IT_DEP && ! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /libretto/portmap/$IT_DEP"

# The same when the backend refuses a domain at once, before any callback
# (the sim refuses a namespace that exists already: one left over, here
# made on purpose): a first deploy still leaves nothing, not a deployment
# stuck "starting".
ip netns add "lt-$IT_DEP-stray"
file=$(it_deployment "  - name: stray
    mode: dynamic
    command: [sleep, \"1000\"]")
out=$(ctl deploy "$file" 2>&1); rc=$?
ip netns del "lt-$IT_DEP-stray"
echo "$out" | sed 's/^/    /'
it_check "a domain refused at once: the deploy exits 1" [ $rc -eq 1 ]
it_check "the error says why" bash -c "echo \"\$0\" | grep -q 'already exists'" "$out"
it_check "no deployment left after the refusal" [ "$(it_status_json | jq '.deployments | length')" = 0 ]
it_check "no namespace left after the refusal" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-'"

good=$(it_deployment)
it_deploy "$good"
before=$(it_status_json "$IT_DEP" | jq -c '[.deployments[0].domains[] | {name, domid, pid, state, ip}]')
# Same file plus a broken app: the redeploy fails and is undone.
{ cat "$good"; printf '  - name: broken\n    mode: dynamic\n    command: [/nonexistent/program]\n'; } >"$IT_TMP/plus.yaml"
out=$(ctl deploy "$IT_TMP/plus.yaml" 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
it_check "failed redeploy exits 1" [ $rc -eq 1 ]
it_check "the deployment is as before" \
  [ "$(it_status_json "$IT_DEP" | jq -c '[.deployments[0].domains[] | {name, domid, pid, state, ip}]')" = "$before" ]
it_check "no namespace of the broken app" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-broken'"
it_check "deployment state running" [ "$(it_status_json "$IT_DEP" | jq -r '.deployments[0].state')" = running ]
it_pass
