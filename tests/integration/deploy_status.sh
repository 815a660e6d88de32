#!/usr/bin/env bash
# Must-show 2 of issue 2: deploy the demo's apps; status --json lists the
# server and the three apps running, with addresses, MACs and namespaces;
# xenstore holds the layout of docs/xenstore.md.
. "$(dirname "$0")/lib.sh"
it_start_daemon
file=$(it_deployment)

it_deploy "$file"

st=$(it_status_json "$IT_DEP")
dep=$(echo "$st" | jq -c --arg d "$IT_DEP" '.deployments[] | select(.name == $d)')
it_check "status has the deployment" [ -n "$dep" ]
it_check "backend is sim with its xenstored socket" \
  [ "$(echo "$st" | jq -r '.backend.name + " " + .backend.xenstored_socket')" = "sim $IT_RUN/xenstored/socket" ]
it_check "peer namespace reported and present" \
  bash -c "ip netns list | grep -qx 'lt-$IT_DEP-peer.*'"
it_check "peer namespace in status" [ "$(echo "$dep" | jq -r .peer_namespace)" = "lt-$IT_DEP-peer" ]
it_check "four domains" [ "$(echo "$dep" | jq '.domains | length')" = 4 ]

net=$(echo "$dep" | jq -r .network.server_ip)
for spec in "server server server" "web app server" "cache app dynamic" "kv app direct"; do
  set -- $spec
  d=$(echo "$dep" | jq -c --arg n "$1" '.domains[] | select(.name == $n)')
  it_check "$1: role $2, mode $3, running" \
    [ "$(echo "$d" | jq -r '.role + " " + .mode + " " + .state')" = "$2 $3 running" ]
  it_check "$1: has a domid" bash -c "echo '$d' | jq -e '.domid | type == \"number\" and . > 0' >/dev/null"
  it_check "$1: MAC is locally administered unicast" \
    bash -c "echo '$d' | jq -r .mac | grep -Eq '^[0-9a-f][26ae](:[0-9a-f]{2}){5}$'"
  ns=$(echo "$d" | jq -r .namespace)
  it_check "$1: namespace $ns exists" bash -c "ip netns list | grep -q '^$ns\b'"
  it_check "$1: processes run in $ns" bash -c "[ -n \"\$(ip netns pids $ns)\" ]"
  ip=$(echo "$d" | jq -r .ip)
  case $3 in
    server) it_check "$1: shares the server IP" [ "$ip" = "$net" ] ;;
    *) it_check "$1: address $ip from the pool" bash -c "[[ $ip == *.1[0-9][0-9] ]]" ;;
  esac
  domid=$(echo "$d" | jq -r .domid)
  it_check "$1: xenstore name" [ "$(it_xs xenstore-read /local/domain/$domid/name)" = "$IT_DEP-$1" ]
  it_check "$1: xenstore domid" [ "$(it_xs xenstore-read /local/domain/$domid/domid)" = "$domid" ]
  it_check "$1: xenstore role/mode" \
    [ "$(it_xs xenstore-read /local/domain/$domid/libretto/role) $(it_xs xenstore-read /local/domain/$domid/libretto/mode)" = "$2 $3" ]
  it_check "$1: xenstore net/ip and mac" \
    [ "$(it_xs xenstore-read /local/domain/$domid/libretto/net/ip) $(it_xs xenstore-read /local/domain/$domid/libretto/net/mac)" = "$ip $(echo "$d" | jq -r .mac)" ]
  it_check "$1: the guest reported ready" \
    it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-read /local/domain/$domid/libretto/guest/state)\" = ready ]"
done

server_domid=$(echo "$dep" | jq -r '.domains[] | select(.name == "server") | .domid')
web_domid=$(echo "$dep" | jq -r '.domains[] | select(.name == "web") | .domid')
it_check "server/state running" \
  it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-read /local/domain/$server_domid/libretto/server/state)\" = running ]"
it_check "portmap tcp/80 is web's" [ "$(it_xs xenstore-read /libretto/portmap/$IT_DEP/tcp/80)" = "$web_domid" ]
kv_ip=$(echo "$dep" | jq -r '.domains[] | select(.name == "kv") | .ip')
it_check "pool/ip records kv" [ "$(it_xs xenstore-read /libretto/pool/$IT_DEP/ip/${kv_ip//./_})" = kv ]
it_check "pool/vf records kv's VF" [ "$(it_xs xenstore-read /libretto/pool/$IT_DEP/vf/0)" = kv ]
it_check "daemon nodes" [ "$(it_xs xenstore-read /libretto/daemon/backend)" = sim ]
it_check "dom0 exists" [ "$(it_xs xenstore-read /local/domain/0/name)" = Domain-0 ]
it_xs xenstore-ls /local/domain | head -n 40 | sed 's/^/    /'

# The access lists of docs/xenstore.md ("Permissions"): recorded by the
# sim's xenstored as a Xen host's would enforce them.
perms_of() { # PATH: the node's list, as xenstore-ls -p prints it
  it_xs xenstore-ls -p "$(dirname "$1")" |
    sed -n "s/^$(basename "$1") = .*(\([^()]*\))\$/\1/p"
}
cache_domid=$(echo "$dep" | jq -r '.domains[] | select(.name == "cache") | .domid')
s=/local/domain/$server_domid/libretto c=/local/domain/$cache_domid/libretto
for want in "/libretto n0" \
  "$c n0,r$cache_domid" \
  "$c/net n0,r$cache_domid" \
  "$c/guest n$cache_domid,r$server_domid" \
  "$c/guest/state n$cache_domid,r$server_domid" \
  "$s/guest n$server_domid" \
  "$s/server n$server_domid" \
  "$s/server/apps n0,r$server_domid" \
  "$s/server/portmap n0,r$server_domid" \
  "$s/server/apps/$cache_domid n$server_domid,r$cache_domid" \
  "$s/server/apps/$cache_domid/active n0,r$server_domid,r$cache_domid" \
  "$s/server/apps/$cache_domid/vif-state n$server_domid,r$cache_domid"; do
  set -- $want
  it_check "permissions of $1: $2" [ "$(perms_of "$1")" = "$2" ]
done

# The human table shows every domain.
table=$(ctl status "$IT_DEP")
echo "$table" | sed 's/^/    /'
for n in server web cache kv; do
  it_check "table lists $n" bash -c "echo \"\$0\" | grep -qw $n" "$table"
done
it_pass
