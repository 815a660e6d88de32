#!/usr/bin/env bash
# Must-show 5 of issue 2: destroy leaves no libretto process, namespace,
# link or xenstore node behind.
. "$(dirname "$0")/lib.sh"
it_start_daemon
links_before=$(ip -o link show | awk -F': ' '{print $2}' | sort)
it_deploy "$(it_deployment)"
st=$(it_status_json "$IT_DEP")
domids=$(echo "$st" | jq -r '.deployments[0].domains[].domid')
pids=$(for ns in $(ip netns list | awk '{print $1}' | grep "^lt-$IT_DEP-"); do ip netns pids "$ns"; done)
it_check "domains have processes" [ -n "$pids" ]

out=$(ctl destroy "$IT_DEP" 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
it_check "destroy exits 0" [ $rc -eq 0 ]
it_check "no namespace left" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-'"
left=""
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
it_check "no domain process left (had: $(echo $pids))" [ -z "$left" ]
it_check "host links unchanged" [ "$(ip -o link show | awk -F': ' '{print $2}' | sort)" = "$links_before" ]
for id in $domids; do
  it_check "no /local/domain/$id" bash -c "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /local/domain/$id"
done
it_check "no portmap or pool of the deployment" bash -c \
  "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /libretto/portmap/$IT_DEP && ! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /libretto/pool/$IT_DEP"
it_check "what remains is dom0 and the daemon's own nodes" \
  [ "$(it_xs xenstore-list /local/domain | tr '\n' ' ')" = "0 " ]
it_xs xenstore-ls / | sed 's/^/    /'
it_check "status lists no deployment" [ "$(it_status_json | jq '.deployments | length')" = 0 ]
it_pass
